#pragma once
// The per-stream and per-client state RelayCore keeps (relay_core.h has the
// behaviour). Plain data: RelayCore keeps the invariants.

#include <algorithm>
#include <array>
#include <cstdint>
#include <limits>
#include <vector>

#include "common/crypto/gmac.h"
#include "common/crypto/replay_window.h"
#include "common/endpoint.h"
#include "common/token/join_token.h"
#include "common/types.h"
#include "common/wire/packet.h"
#include "relay/core/dedup_window.h"
#include "relay/core/fec_decoder.h"
#include "relay/core/fec_encoder.h"
#include "relay/core/fec_policy.h"
#include "relay/core/nack_tracker.h"

namespace overline::relay {

// A downstream (or the source of a packet): a neighbour relay by node id,
// whichever of its lines it used, or an SDK client by its endpoint.
struct PeerId {
  NodeId node = kNoNode;  // the neighbour, or kNoNode for a client
  Endpoint client;        // the client's endpoint; only when node == kNoNode

  bool isRelay() const { return node != kNoNode; }
  friend bool operator==(const PeerId&, const PeerId&) = default;
};

// A joined SDK client (client_gate.h).
struct ClientSession {
  explicit ClientSession(const crypto::Key128& key) : session_key(key) {}
  // Client sessions have one key; its epoch on the wire.
  static constexpr std::uint32_t kKeyEpoch = 1;

  LineIndex line = 0;  // the line it last used; replies go out on it
  TimeUs last_seen_us = 0;
  // Streams it subscribes to (at most Limits::max_subscriptions_per_client),
  // so that its expiry can remove them without scanning every stream.
  std::vector<StreamId> streams;
  // Streams it owns (publishes) at this origin, <= max_publications_per_client.
  std::vector<StreamId> published;
  // The session: its key, the nonce it was made for, the replay window of
  // the client's packet numbers, and the token's grant.
  crypto::Gmac session_key;
  std::array<std::byte, wire::kHelloNonceBytes> nonce{};
  crypto::ReplayWindow window;
  token::JoinGrant grant;
  std::uint64_t next_packet_number = 1;  // of the relay's packets to the client
};

// The longest an FEC group waits for its k packets before the tick flushes it.
inline constexpr DurationUs kFecMaxGroupDelayUs = 10 * kMillisecond;

struct Downstream {
  PeerId peer;
  TimeUs expires_at_us = 0;
  // A dual-homed client's other edge (its SUBSCRIBE's hint): branches
  // are planned around it where routes allow. kNoNode otherwise.
  NodeId avoid = kNoNode;
  // FEC toward a neighbour downstream (unused for clients); the encoder
  // holds no buffers while its protection is off.
  FecPolicy fec_policy{FecPolicyConfig{}};
  FecEncoder fec{kFecMaxGroupDelayUs};
};

struct Stream {
  // Never empty while the stream is in the table: the last removal forgets
  // the stream. Small (neighbours + local clients), searched linearly.
  std::vector<Downstream> downstreams;
  // Neighbour this relay subscribes to for the stream; kNoNode when this
  // relay is an origin, or when there is currently no usable route.
  NodeId upstream = kNoNode;
  // Next hops toward the stream's other origins (dual-homed or moving
  // publishers), subscribed to as well; never the upstream, never a
  // downstream; at most StreamDirectory::kMaxOriginsPerStream - 1.
  std::vector<NodeId> extra_upstreams;
  // Extra upstreams dropped by the last re-plans (e.g. this relay became
  // an origin): what they had in flight is still accepted until
  // released_until_us (one refresh interval after the latest drop).
  std::vector<NodeId> released_extras;
  TimeUs released_until_us = 0;
  // Next upstream SUBSCRIBE refresh (or route retry); at an origin, the
  // next check whether it still is one.
  TimeUs next_refresh_us = 0;
  // The upstream before the last move: DATA from it is still accepted
  // until previous_upstream_until_us (one refresh interval after the move).
  // If it was not down at the move, the relay stays subscribed to it (make
  // before break) until the new upstream delivers its first DATA or the
  // interval ends, and only then sends it UNSUBSCRIBE.
  NodeId previous_upstream = kNoNode;
  TimeUs previous_upstream_until_us = 0;
  bool previous_subscribed = false;
  DedupWindow dedup;
  NackTracker loss;  // gaps in the DATA from upstream (not at the origin)
  FecDecoder fec{FecDecoderConfig{}};  // FEC from the current upstream; reset when it changes
  DurationUs budget_us = 0;  // of the last DATA forwarded; 0 before any (FEC assumes the default)
  bool client_created = false;  // a client's SUBSCRIBE created it (Limits::max_client_streams)
  // When it last forwarded DATA, and whether the FEC tick visits it
  // (RelayCore::streams_with_data_): from its first DATA until it has been
  // idle a while with no FEC state pending.
  TimeUs last_data_us = 0;
  bool fec_ticked = false;

  // The earliest time something of this stream's soft state is due: a
  // downstream expiry, the upstream refresh, the end of the previous
  // upstream's grace (what RelayCore's deadline queue is told).
  TimeUs nextDeadline() const {
    TimeUs next = next_refresh_us;
    for (const Downstream& downstream : downstreams) next = std::min(next, downstream.expires_at_us);
    if (previous_upstream != kNoNode) next = std::min(next, previous_upstream_until_us);
    return next;
  }
};

// A stream a local client publishes here: the session that owns it and
// when it last sent DATA.
struct Publication {
  Endpoint owner;
  TimeUs last_data_us = 0;
};

}  // namespace overline::relay
