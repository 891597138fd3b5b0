#pragma once
// Counters kept by relay/core. Plain integers: the core runs on one thread;
// the I/O adapter copies them into Prometheus metrics on that same thread.

#include <array>
#include <cstdint>
#include <string_view>

#include "common/wire/packet.h"

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

// *_received count every well-formed packet of that type, whatever its fate;
// packets_sent, bytes_sent and *_sent count only packets the sink accepted.
struct RelayCounters {
  std::uint64_t packets_received = 0;  // every datagram, malformed ones included
  std::uint64_t bytes_received = 0;
  std::uint64_t packets_sent = 0;
  std::uint64_t bytes_sent = 0;
  std::uint64_t data_received = 0;
  // One per downstream a DATA packet was sent to; a redundant second copy to
  // the same neighbour is counted in redundant_copies_sent instead.
  std::uint64_t data_forwarded = 0;
  // The part of data_forwarded that came from a neighbour and went to a
  // neighbour (transit); a draining relay waits for it to stop growing.
  std::uint64_t transit_data_forwarded = 0;
  std::uint64_t redundant_copies_sent = 0;  // second copies of kFlagRedundant DATA, on a second link
  std::uint64_t subscribes_received = 0;
  std::uint64_t subscribes_sent = 0;
  std::uint64_t unsubscribes_received = 0;
  std::uint64_t unsubscribes_sent = 0;
  std::uint64_t downstreams_expired = 0;  // soft-state expiries, and subscriptions of expired clients
  std::uint64_t clients_expired = 0;
  // Client join (client_gate.h): stateless CHALLENGEs and WELCOMEs sent,
  // sessions replaced by a reconnect from the same endpoint, sessions ended
  // because their token expired.
  std::uint64_t challenges_sent = 0;
  std::uint64_t welcomes_sent = 0;
  std::uint64_t client_sessions_replaced = 0;
  std::uint64_t client_tokens_expired = 0;
  std::uint64_t client_tokens_renewed = 0;
  // Link probing. Probes and ACKs are also counted in packets_sent/bytes_sent.
  std::uint64_t probes_sent = 0;
  std::uint64_t probe_acks_sent = 0;
  std::uint64_t probe_acks_received = 0;  // every well-formed PROBE_ACK, matched or not
  std::uint64_t probe_bytes_sent = 0;     // bytes of PROBEs and PROBE_ACKs sent (header-only packets)
  // Path choice and failover.
  std::uint64_t path_switches = 0;  // active link changes toward a neighbour (PathSelector)
  std::uint64_t failovers = 0;      // route next hops moved away from a down neighbour (FailoverTable)
  std::uint64_t failbacks = 0;      // route next hops returned to their primary after the hold
  // Loss recovery (nack_tracker.h, retransmit_buffer.h).
  std::uint64_t nack_packets_sent = 0;         // NACK datagrams (one per link they went on)
  std::uint64_t nack_sequences_sent = 0;       // sequences requested (once per request, not per link)
  std::uint64_t nack_packets_received = 0;     // every well-formed NACK from a neighbour, whatever its fate
  std::uint64_t retransmissions_sent = 0;      // DATA copies sent with kFlagRetransmit (one per link)
  std::uint64_t retransmissions_received = 0;  // DATA with kFlagRetransmit from a neighbour, whatever its fate
  std::uint64_t recovered_nack = 0;            // missing sequences filled by a retransmission
  std::uint64_t unrecovered = 0;               // missing sequences given up (budget passed)
  std::uint64_t nack_misses = 0;               // requested sequences not in the retransmit buffer
  std::uint64_t retransmit_budget_expired = 0; // requested sequences kept but past their budget
  std::uint64_t retransmit_buffer_evictions = 0;  // kept packets pushed out before their budget passed
  // Second copies, on another link, of DATA that filled a gap here (arrived
  // late or retransmitted) forwarded over a lossy active link.
  std::uint64_t filled_copies_sent = 0;
  // FEC (fec_encoder.h, fec_decoder.h): parity packets sent to downstream
  // neighbours (bytes under SentKind::kFec) and received from neighbours
  // (every well-formed one, whatever its fate); DATA rebuilt from parity
  // that was new here; NACKs held back because a pending FEC group may
  // still repair the sequence; decoded blocks that were not a valid DATA
  // block, and parity or data contradicting its group.
  std::uint64_t fec_packets_sent = 0;
  std::uint64_t fec_packets_received = 0;
  std::uint64_t recovered_fec = 0;
  std::uint64_t nacks_held_for_fec = 0;
  std::uint64_t fec_decode_failures = 0;
  std::uint64_t fec_inconsistent = 0;
  // Stream directory: ANNOUNCE packets this relay made for its own
  // publications (one per neighbour it went to), well-formed ones
  // received from neighbours (whatever their fate), ones flooded on
  // (per neighbour), and ones that had already arrived over another path.
  std::uint64_t announces_sent = 0;
  std::uint64_t announces_received = 0;
  std::uint64_t announces_forwarded = 0;
  std::uint64_t announces_seen = 0;
  // Streams whose upstream set changed because their origins did (a
  // publisher moved or a second edge started publishing).
  std::uint64_t origin_moves = 0;
  // Bandwidth overhead: datagram bytes sent to neighbour relays by kind
  // (index SentKind), and the payload bytes of first-transmission DATA sent
  // to neighbours (once per downstream neighbour, not per redundant copy).
  std::array<std::uint64_t, kSentKindCount> neighbour_bytes_sent{};
  std::uint64_t data_payload_bytes_sent = 0;
  std::array<std::uint64_t, kDropReasonCount> dropped{};
  std::array<std::uint64_t, wire::kParseErrorCount> malformed{};

  std::uint64_t& drop(DropReason r) { return dropped[static_cast<std::size_t>(r)]; }
  std::uint64_t droppedTotal() const;
};

// Current sizes of the core's tables (gauges, never one series per stream).
struct RelayGauges {
  std::uint64_t streams = 0;          // streams with at least one downstream
  std::uint64_t downstreams = 0;      // (stream, downstream) pairs
  std::uint64_t clients = 0;          // joined SDK clients
  std::uint64_t upstream_subscriptions = 0;  // streams this relay subscribes upstream for
  std::uint64_t extra_upstream_subscriptions = 0;  // (stream, extra upstream) pairs: branches toward other origins
  std::uint64_t directory_streams = 0;       // streams with a known origin (StreamDirectory)
  std::uint64_t local_publications = 0;      // streams a client publishes at this relay
  // The highest key epoch this relay tags packets to a neighbour with, at
  // the last wall-clock time it was given; 0 with no neighbour or no auth.
  // Watches a key rotation take effect.
  std::uint32_t auth_sending_epoch = 0;
};

}  // namespace overline::relay
