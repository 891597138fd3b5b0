#pragma once
// What relay/core needs to know about its node, neighbours and routes.
// Loaded from YAML by the relay process (relay/config) and built directly by
// unit tests and the simulator.

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/crypto/gmac.h"
#include "common/endpoint.h"
#include "common/types.h"

namespace overline::relay {

struct LineConfig {
  std::string name;  // operator's label, e.g. "isp-a"; bounded metric label
  Endpoint bind;     // local address the line's socket is bound to

  friend bool operator==(const LineConfig&, const LineConfig&) = default;
};

// The key of this relay and one neighbour for one key epoch, as the
// controller pushes them (PeerList; relay/core/neighbour_auth.h).
struct PairKey {
  std::uint32_t epoch = 0;  // >= 1
  crypto::Key128 key{};
  TimeUs activate_at_unix_us = 0;  // sent with from then on; 0 = at once

  friend bool operator==(const PairKey&, const PairKey&) = default;
};
// Epochs a neighbour may hold at once (as many as auth.mesh_keys entries).
constexpr std::size_t kMaxKeyEpochs = 8;

struct NeighbourConfig {
  NodeId node_id = kNoNode;
  std::vector<Endpoint> lines;  // the neighbour's line addresses, in its line order
  // Controller-pushed keys, ascending epoch, at most kMaxKeyEpochs, epochs
  // unique and >= 1 (relay/control validates them). Non-empty: they replace
  // the keys derived from auth.mesh_keys for this neighbour. Empty (static
  // neighbours; lab mode): the mesh keys' pair keys.
  std::vector<PairKey> keys{};  // (an initialiser: {id, lines} stays warning-free)

  friend bool operator==(const NeighbourConfig&, const NeighbourConfig&) = default;
};

// How to reach one destination relay: a primary next hop and an optional
// backup, both neighbours. The primary may be the destination itself (a
// direct neighbour), which gives a direct neighbour a backup. See
// relay/core/failover_table.h for when the backup is used.
struct RouteEntry {
  NodeId primary = kNoNode;
  NodeId backup = kNoNode;  // kNoNode: no backup

  friend bool operator==(const RouteEntry&, const RouteEntry&) = default;
};

// Destination relay -> route entry. A direct neighbour without an entry is
// an implicit route (itself, no backup). An immutable snapshot: the
// controller (later) replaces the whole table, never edits it in place.
struct RouteTable {
  std::map<NodeId, RouteEntry> entries;

  friend bool operator==(const RouteTable&, const RouteTable&) = default;
};
using RouteTablePtr = std::shared_ptr<const RouteTable>;

struct SubscriptionTimers {
  // How often a relay (and an SDK client) re-sends SUBSCRIBE upstream.
  DurationUs refresh_interval_us = 500 * kMillisecond;
  // A downstream that has not refreshed for this long is removed.
  DurationUs expiry_us = 1500 * kMillisecond;

  friend bool operator==(const SubscriptionTimers&, const SubscriptionTimers&) = default;
};

struct Limits {
  std::size_t max_clients = 10000;                 // SDK sessions on this edge
  std::size_t max_clients_per_ip = 1024;           // sessions from one IPv4 address (NATs share one)
  std::size_t max_streams = 100000;                // streams with state on this relay
  // Streams a client's SUBSCRIBE may create (the rest of max_streams is
  // kept for transit: clients can never starve the mesh's own trees).
  std::size_t max_client_streams = 50000;
  std::size_t max_subscriptions_per_client = 64;   // streams one SDK client may join
  std::size_t max_publications_per_client = 16;    // streams one SDK client may own (publish)
  DurationUs client_expiry_us = 5 * kSecond;       // a client silent this long is dropped

  friend bool operator==(const Limits&, const Limits&) = default;
};

// Link probing and link states (relay/core/link_monitor.h has the rules).
// Defaults: 20 ms probes notice a dead link within about 120 ms while costing
// 3,200 B/s of probes per link and direction (see link_monitor.h).
struct ProbingConfig {
  DurationUs interval_us = 20 * kMillisecond;     // one probe per link per interval
  DurationUs down_after_us = 100 * kMillisecond;  // unanswered this long -> DOWN (> interval_us)
  std::uint32_t up_after_acks = 5;                // consecutive ACKs to leave DOWN
  std::uint32_t loss_window = 100;                // probes in the sliding loss window
  double degraded_loss = 0.10;                    // window loss ratio that makes a link DEGRADED
  double recovered_loss = 0.03;                   // ratio below which it leaves DEGRADED (< degraded_loss)
  DurationUs degraded_rtt_us = 0;                 // srtt above this -> DEGRADED; 0 = no RTT rule

  friend bool operator==(const ProbingConfig&, const ProbingConfig&) = default;
};

// Per-hop choice among the links to one neighbour (relay/core/path_selector.h).
struct PathChoiceConfig {
  double switch_margin = 0.20;                   // a same-class link must score this much better...
  DurationUs min_margin_us = 2 * kMillisecond;   // ...and at least this much better...
  DurationUs switch_hold_us = 1 * kSecond;       // ...continuously for this long before a switch

  friend bool operator==(const PathChoiceConfig&, const PathChoiceConfig&) = default;
};

// Failover between a route's primary and backup next hop (relay/core/failover_table.h).
struct FailoverConfig {
  // A primary must have been continuously not down this long before traffic
  // returns to it from the backup.
  DurationUs failback_hold_us = 3 * kSecond;

  friend bool operator==(const FailoverConfig&, const FailoverConfig&) = default;
};

// One key epoch of the mesh secret (config `auth.mesh_keys`), from which
// every pair of relays derives its key for that epoch
// (relay/core/neighbour_auth.h).
struct MeshKey {
  std::uint32_t epoch = 0;             // >= 1
  std::vector<std::uint8_t> secret;    // >= kMinMeshSecretBytes
  TimeUs activate_at_unix_us = 0;      // relays send with it from then on; 0 = at once

  friend bool operator==(const MeshKey&, const MeshKey&) = default;
};
constexpr std::size_t kMinMeshSecretBytes = 32;

// Trust between relays and toward clients (docs/architecture.md, "Trust").
struct AuthConfig {
  // Keys for the tags on every relay-to-relay packet. Empty in insecure lab
  // mode, and when the controller pushes every key (NeighbourConfig::keys).
  std::vector<MeshKey> mesh_keys;
  // Nothing between relays is tagged or checked. For labs only: the relay
  // process refuses to start without mesh keys unless its config says so.
  bool insecure_lab_mode = false;
  // Secret of the stateless client cookies and session keys
  // (relay/core/client_gate.h); the relay process draws it at random.
  std::array<std::uint8_t, 32> cookie_secret{};
  // First packet number toward each neighbour; the relay process passes the
  // wall clock in nanoseconds at start (neighbour_auth.h says why).
  std::uint64_t packet_number_base = 1;

  friend bool operator==(const AuthConfig&, const AuthConfig&) = default;
};

// Who may join as an SDK client (relay/core/join_check.h). The default,
// no key, admits everyone: for labs only.
struct JoinPolicy {
  std::vector<std::uint8_t> key;  // HMAC key shared with the controller's edge allocation
  bool require_token = false;     // HELLOs from unknown endpoints must carry a valid join token

  friend bool operator==(const JoinPolicy&, const JoinPolicy&) = default;
};

// Per-hop loss recovery (NACK and retransmission; relay/core/nack_tracker.h,
// retransmit_buffer.h and docs/architecture.md, "Loss recovery").
struct RecoveryConfig {
  // Detect gaps in DATA from upstream neighbours and NACK them, and keep
  // forwarded DATA to answer downstream NACKs. Off: neither, and NACKs
  // received are dropped as unsupported_type.
  bool nack = true;
  // Send FEC parity to downstream neighbours where the FecPolicy asks for it
  // (a lossy hop whose RTT leaves too few NACK rounds in the budget). Off: no
  // parity is ever sent; FEC received from upstream is still decoded.
  bool fec = true;
  // A gap is NACKed only once it has stayed open this long (packets
  // reordered by this much are not requested again).
  DurationUs reorder_allowance_us = 5 * kMillisecond;
  // Repeated NACKs for one sequence are at least this far apart (and at
  // least 1.25 x the upstream link's srtt + the allowance).
  DurationUs min_nack_interval_us = 15 * kMillisecond;
  // Budget of DATA whose header gives none (latency_budget 0).
  DurationUs default_latency_budget_us = 400 * kMillisecond;
  // Retransmit buffer bounds: sequences per stream, and bytes relay-wide
  // (fixed slots of wire::kMaxPacketBytes each).
  std::size_t retransmit_buffer_packets = 2048;
  std::size_t retransmit_buffer_bytes = 64 * 1024 * 1024;
  // A retransmission goes out on two links (the second and the active one)
  // when the link it would take has measured at least this much loss; so
  // does gap-filling DATA, and a SUBSCRIBE goes on every link, when the
  // active link has.
  double dual_retransmit_loss = 0.10;
  // Retransmissions toward one neighbour are paid from a byte budget that
  // grows by this ratio of the DATA bytes sent to it, up to
  // retransmit_burst_bytes: a neighbour's NACKs can never make this relay
  // send more than that (at 30% loss answering every NACK on two links
  // costs about 0.9x).
  double retransmit_budget_ratio = 2.0;
  std::size_t retransmit_burst_bytes = 256 * 1024;
  // Streams whose FEC decoder may hold state at once (each up to ~200 KB);
  // parity for others is dropped as fec_decoder_limit.
  std::size_t max_fec_decoders = 1024;

  friend bool operator==(const RecoveryConfig&, const RecoveryConfig&) = default;
};

struct RelayCoreConfig {
  NodeId node_id = kNoNode;
  std::size_t line_count = 0;  // number of local lines (>= 1; >= 2 in production)
  std::vector<NeighbourConfig> neighbours;
  RouteTablePtr routes = std::make_shared<const RouteTable>();
  SubscriptionTimers subscriptions;
  Limits limits;
  ProbingConfig probing;
  PathChoiceConfig path_choice;
  FailoverConfig failover;
  JoinPolicy join;
  RecoveryConfig recovery;
  AuthConfig auth;
};

}  // namespace overline::relay
