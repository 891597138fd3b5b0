#pragma once
// Counters kept by relay/core. Plain integers: the core runs on one thread;
// the I/O adapter copies them into Prometheus metrics on that same thread.

#include <array>
#include <cstdint>
#include <string_view>

#include "common/wire/packet.h"
#include "relay/core/relay_counter_list.h"

namespace overline::relay {

// Why a received (or about to be sent) packet was not forwarded. Every drop
// has exactly one reason. Malformed packets are counted per ParseError under
// RelayCounters::malformed instead.
enum class DropReason : std::uint8_t {
  kUnknownSource,       // non-HELLO packet from an endpoint that is neither a neighbour nor a joined client
  kHopLimitExceeded,    // arrived with hop_limit 0 or 1 and would need forwarding
  kNoRoute,             // no next hop toward the stream's origin
  kNoSubscribers,       // DATA for a stream nobody downstream wants
  kNotUpstream,         // DATA or FEC from a neighbour that is not this stream's upstream
  kClientLimit,         // max_clients reached; HELLO refused
  kStreamLimit,         // max_streams reached; SUBSCRIBE refused
  kSubscriptionLimit,   // client's max_subscriptions_per_client reached
  kUnsupportedType,     // valid packet type this version does not handle yet
  kUnexpectedType,      // valid type, wrong direction (e.g. HELLO from a neighbour)
  kSendFailed,          // PacketSink refused the packet
  kDuplicate,           // DATA whose sequence this relay already forwarded, or too old to tell (DedupWindow)
  kBadToken,            // joining HELLO without a valid join token where the JoinPolicy requires one
  kMalformedNack,       // NACK whose payload is not 1..64 big-endian u32 sequences (wire/nack_payload.h)
  kNotDownstream,       // NACK from a neighbour that is not a downstream of the stream
  kMalformedFec,        // FEC whose payload fails wire::parseFecPayload (wire/fec_payload.h)
  // Trust (docs/architecture.md, "Trust").
  kUnauthenticated,     // untagged packet where a tag is required (from a neighbour's line, or a joined client)
  kBadTag,              // tag that does not verify, an unknown key epoch, or a sender id not the neighbour's
  kReplayed,            // tagged packet whose packet number was already accepted or is behind the window
  kBadCookie,           // HELLO echoing a cookie that is wrong or too old (a fresh CHALLENGE is sent)
  kBadHello,            // client HELLO without its nonce and cookie fields
  kNotPermitted,        // SUBSCRIBE or DATA outside the client's token grant (role or stream scope)
  kTokenExpired,        // packet from a client whose token has expired (the session ends)
  kNotOwner,            // DATA into a stream another client session owns
  kSequenceJump,        // client DATA too far ahead of the stream's window
  kFutureTimestamp,     // client DATA stamped too far in the future
  kClientIpLimit,       // max_clients_per_ip reached; HELLO refused
  kPublicationLimit,    // client's max_publications_per_client reached
  kRetransmitBudget,    // retransmission refused: the neighbour's retransmit byte budget is spent
  kFecDecoderLimit,     // FEC for a stream when max_fec_decoders decoders hold state
  // Stream directory (stream_directory.h).
  kMalformedAnnounce,   // ANNOUNCE whose payload fails wire::parseAnnouncePayload
  kDirectoryFull,       // ANNOUNCE none of whose streams fit the directory's bounds
};
constexpr std::size_t kDropReasonCount = 32;
std::string_view toString(DropReason reason);

// What a packet sent to a neighbour relay is, for the bandwidth overhead:
// first-transmission DATA (redundant second copies included), DATA
// retransmitted in answer to a NACK, FEC parity, NACK, PROBE/PROBE_ACK, and
// SUBSCRIBE/UNSUBSCRIBE.
enum class SentKind : std::uint8_t { kData, kRetransmit, kFec, kNack, kProbe, kControl };
constexpr std::size_t kSentKindCount = 6;
std::string_view toString(SentKind kind);

// The counters of OVERLINE_RELAY_COUNTERS (relay_counter_list.h), which
// documents each one and names its metric.
struct RelayCounters {
#define OVERLINE_RELAY_COUNTER_FIELD(field, ...) std::uint64_t field = 0;
#define OVERLINE_RELAY_ARRAY_FIELD(field, Enum, count, family) std::array<std::uint64_t, count> field{};
  OVERLINE_RELAY_COUNTERS(OVERLINE_RELAY_COUNTER_FIELD, OVERLINE_RELAY_COUNTER_FIELD, OVERLINE_RELAY_ARRAY_FIELD,
                          OVERLINE_RELAY_COUNTER_FIELD)
#undef OVERLINE_RELAY_COUNTER_FIELD
#undef OVERLINE_RELAY_ARRAY_FIELD

  std::uint64_t& drop(DropReason r) { return dropped[static_cast<std::size_t>(r)]; }
  std::uint64_t droppedTotal() const;
};

// Current sizes of the core's tables: the gauges of OVERLINE_RELAY_GAUGES
// (relay_counter_list.h).
struct RelayGauges {
#define OVERLINE_RELAY_GAUGE_FIELD(type, field, ...) type field = 0;
  OVERLINE_RELAY_GAUGES(OVERLINE_RELAY_GAUGE_FIELD)
#undef OVERLINE_RELAY_GAUGE_FIELD
};

}  // namespace overline::relay
