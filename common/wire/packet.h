#pragma once
// Overline wire format, version 2. Every datagram is one fixed 48-byte
// header, `payload_length` bytes of type-specific payload and, when
// key_epoch is not 0, a 16-byte authentication tag:
//
//   offset size field            notes
//   0      1    magic            0x4F ('O')
//   1      1    version          2 (a v1 datagram is kBadVersion: dropped)
//   2      1    type             PacketType
//   3      1    flags            bit 0x01 kFlagRedundant, bit 0x02
//                                kFlagRetransmit (both DATA only); every
//                                other bit must be 0
//   4      1    hop_limit        decremented by every relay; 0 is dropped
//   5      1    latency_budget   DATA: the stream's latency budget in units of
//                                10 ms (1..255 = 10 ms..2.55 s), 0 = not given
//                                (receivers apply their default); every other
//                                type: reserved, must be 0
//   6      2    payload_length   bytes after the header, <= kMaxPayloadBytes
//                                (FEC: <= kMaxFecPayloadBytes)
//   8      4    sender_node_id   relay that sent this hop; 0 from SDK clients
//   12     8    stream_id        upper 32 bits: the stream's home relay (the
//                                edge it was first published at); relays
//                                route toward its current origins
//                                (relay/core/stream_directory.h)
//   20     4    sequence         DATA: per-stream sequence number;
//                                PROBE/PROBE_ACK: per-link probe sequence
//   24     8    timestamp_us     DATA: publisher's send time (wall clock, us);
//                                PROBE/PROBE_ACK: prober's monotonic clock (us)
//   32     4    age_us           DATA: how old the packet was when this hop
//                                sent it, counted from the publisher's send
//                                (each relay adds the previous hop's one-way
//                                delay estimate and its own residence time;
//                                saturates at 2^32-1); every other type: 0
//   36     4    key_epoch        0: no tag follows (the join's HELLO,
//                                CHALLENGE and WELCOME, and relays in
//                                insecure lab mode); otherwise the epoch of
//                                the key that made the tag
//   40     8    packet_number    sender's per-key packet number, strictly
//                                increasing; with sender_node_id it is the
//                                tag's nonce and the replay window's index
//   48     n    payload
//   48+n   16   tag              only when key_epoch != 0: AES-128-GMAC over
//                                bytes [0, 48 + n) (common/crypto/packet_auth.h)
//
// All integers are big-endian. A datagram whose size differs from
// 48 + payload_length (+ 16 with a tag) is malformed: nothing is guessed or
// truncated. The parser checks only the form; who must tag what, and with
// which key, is the receiver's rule (relay/core/neighbour_auth.h,
// relay/core/client_session.h).
//
// Flags. kFlagRedundant on DATA asks every relay to send the packet to each
// downstream neighbour on two disjoint links (redundant mode); receivers drop
// the second copy by sequence. The flag is kept hop by hop. kFlagRetransmit on
// DATA marks a copy sent again on one hop in answer to a NACK; it is per hop:
// a relay forwarding the packet further clears it. Any other bit, or a DATA
// flag on another type, is kUnknownFlags: a parser never guesses what an
// unknown flag means.
//
// Latency budget. The publisher states how late a DATA packet may still be
// useful (publish options); every relay and the subscriber's SDK stop
// recovering (NACK, retransmission, FEC) a packet once its budget has passed.
// The budget travels in every DATA header so that no relay needs per-stream
// state from the control plane.
//
// Link probing (relay <-> relay only; header-only, payload_length 0):
//  * PROBE: sender_node_id = the prober, stream_id 0, sequence = the prober's
//    per-link (local line, neighbour line) probe sequence, timestamp_us = the
//    prober's monotonic now. hop_limit 1: a probe is never forwarded.
//  * PROBE_ACK: the responder copies sequence and timestamp_us unchanged (the
//    timestamp is opaque to it), sets sender_node_id to itself and sends the
//    ACK from the line the probe arrived on back to the probe's source
//    endpoint. An ACK is exactly as large as the probe it answers (48 bytes
//    and a tag), so probing cannot be used for amplification.
//  * Relays answer only probes whose source endpoint is a line of a
//    configured neighbour; anything else is dropped as unknown_source.
//
// Client join (SDK client <-> edge relay; relay/core/client_session.h):
//  * HELLO from a client: header fields 0 except type, hop_limit and
//    sequence (the client's probe number, opaque to the edge). Payload:
//    client nonce (16 random bytes per session) | cookie (16 bytes, zero
//    until the edge sent one) | join token (ASCII, at most
//    kMaxJoinTokenBytes; common/token/join_token.h). A HELLO without a valid
//    cookie is answered with a CHALLENGE and changes nothing.
//  * CHALLENGE from an edge: sender_node_id = the edge, sequence copied,
//    payload = the cookie (16 bytes): a keyed hash of the client's address,
//    port, nonce and a time slot. Stateless, and smaller than the HELLO it
//    answers, so a forged HELLO buys at most its own size toward a victim.
//  * A HELLO echoing a valid cookie (and carrying a valid token where the
//    edge requires one) joins the client; the edge answers WELCOME:
//    sequence copied, payload = session key (16 bytes) | the client's
//    address as the edge sees it (IPv4 4 bytes, port 2 bytes). Also smaller
//    than the HELLO. From then on every packet the client sends carries a
//    tag under the session key (key_epoch 1, packet_number from 1).
//  * HELLO from a joined client (tagged): a keepalive, optionally with a
//    fresh token; the edge answers with a header-only HELLO, sequence copied.
//  * SUBSCRIBE from a joined client: sequence = the node id of the client's
//    other edge when it is dual-homed (0 otherwise), a hint: the edge keeps
//    the stream's branches away from that node where its routes allow, so
//    one edge dying does not cut both copies.

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "common/result.h"
#include "common/types.h"

namespace overline::wire {

constexpr std::uint8_t kMagic = 0x4F;
constexpr std::uint8_t kVersion = 2;
constexpr std::size_t kHeaderBytes = 48;
constexpr std::size_t kTagBytes = 16;
constexpr std::size_t kMaxPayloadBytes = 1200;
// An FEC parity packet protects whole DATA packets (their variable header
// fields as well as the payload) plus its group description, so it may be
// somewhat larger than any DATA; 32 + 1300 bytes still fits one 1500-byte
// Ethernet frame with IPv4/UDP headers.
constexpr std::size_t kMaxFecPayloadBytes = 1300;
constexpr std::size_t kMaxPacketBytes = kHeaderBytes + kMaxFecPayloadBytes + kTagBytes;
// latency_budget units (see "Latency budget" above).
constexpr DurationUs kLatencyBudgetUnitUs = 10'000;
constexpr std::uint8_t kDefaultHopLimit = 16;
// A HELLO's payload (nonce, cookie, join token) is capped well below
// kMaxPayloadBytes: a relay handles HELLOs from anyone.
constexpr std::size_t kHelloNonceBytes = 16;
constexpr std::size_t kCookieBytes = 16;
constexpr std::size_t kSessionKeyBytes = 16;
constexpr std::size_t kMinHelloPayloadBytes = kHelloNonceBytes + kCookieBytes;
constexpr std::size_t kMaxJoinTokenBytes = 256;
constexpr std::size_t kMaxHelloPayloadBytes = kMinHelloPayloadBytes + kMaxJoinTokenBytes;
// WELCOME payload: session key, then the client's reflexive IPv4 address and port.
constexpr std::size_t kWelcomePayloadBytes = kSessionKeyBytes + 4 + 2;

enum class PacketType : std::uint8_t {
  kData = 1,         // media payload, forwarded down subscription trees
  kProbe = 2,        // link probe between neighbour relays; no payload
  kProbeAck = 3,     // probe answer, the same size as the probe; no payload
  kSubscribe = 4,    // join/refresh the tree of stream_id; no payload
  kUnsubscribe = 5,  // leave the tree of stream_id; no payload
  kNack = 6,         // retransmission request (reserved for loss recovery)
  kFec = 7,          // parity packet (reserved for loss recovery)
  kHello = 8,        // client join / keepalive to an edge; a keepalive's answer is a header-only HELLO
  kChallenge = 9,    // edge -> client: the cookie to echo in the next HELLO
  kWelcome = 10,     // edge -> client: joined; session key and reflexive address
  kAnnounce = 11,    // relay -> relays: streams published at an origin (wire/announce_payload.h), flooded
};
constexpr std::uint8_t kMaxPacketType = 11;

// Header flag bits (see "Flags" above).
constexpr std::uint8_t kFlagRedundant = 0x01;   // DATA only: send on two disjoint links
constexpr std::uint8_t kFlagRetransmit = 0x02;  // DATA only: a retransmission on this hop
constexpr std::uint8_t kKnownFlags = kFlagRedundant | kFlagRetransmit;

enum class ParseError : std::uint8_t {
  kTooShort,          // fewer than kHeaderBytes
  kBadMagic,
  kBadVersion,
  kUnknownType,
  kUnknownFlags,      // a flag bit not defined in v2, or one not valid for the type
  kReservedNotZero,   // byte 5 or age_us set on a type other than DATA
  kPayloadTooLarge,   // payload_length > kMaxPayloadBytes (kMaxFecPayloadBytes on FEC, kMaxHelloPayloadBytes on HELLO)
  kLengthMismatch,    // datagram size != kHeaderBytes + payload_length (+ kTagBytes when key_epoch != 0)
  kUnexpectedPayload, // PROBE/PROBE_ACK/SUBSCRIBE/UNSUBSCRIBE carry no payload; HELLO,
                      // CHALLENGE and WELCOME carry exactly their fields
};
constexpr std::size_t kParseErrorCount = 9;
// Stable snake_case name, used as a metric label value.
std::string_view toString(ParseError error);
std::string_view toString(PacketType type);

struct Header {
  PacketType type = PacketType::kData;
  std::uint8_t flags = 0;
  std::uint8_t hop_limit = kDefaultHopLimit;
  std::uint8_t latency_budget = 0;  // DATA only, units of kLatencyBudgetUnitUs; 0 = not given
  std::uint16_t payload_length = 0;
  NodeId sender_node_id = kNoNode;
  StreamId stream_id = 0;
  std::uint32_t sequence = 0;
  std::uint64_t timestamp_us = 0;
  std::uint32_t age_us = 0;           // DATA only
  std::uint32_t key_epoch = 0;        // 0: untagged
  std::uint64_t packet_number = 0;

  bool tagged() const { return key_epoch != 0; }
  friend bool operator==(const Header&, const Header&) = default;
};

struct PacketView {
  Header header;
  std::span<const std::byte> payload;        // points into the parsed datagram
  std::span<const std::byte> authenticated;  // header + payload: what the tag covers
  std::span<const std::byte> tag;            // kTagBytes, or empty when untagged
};

// Validates the whole datagram (header and length) and returns a view into it.
Result<PacketView, ParseError> parsePacket(std::span<const std::byte> datagram);

// Writes header + payload into `out`, setting header.payload_length from
// payload.size(), key_epoch 0 and packet_number 0: an untagged packet.
// common/crypto/packet_auth.h's sealPacket tags it (setting both). Returns
// the number of bytes written. Preconditions (invariants, a caller bug
// otherwise): payload.size() <= kMaxFecPayloadBytes and out.size() >=
// kHeaderBytes + payload.size(). Type, flags and payload are written as
// given, not validated: parsePacket is the gatekeeper, and tests use the
// encoder to build packets it must reject.
std::size_t encodePacket(const Header& header, std::span<const std::byte> payload,
                         std::span<std::byte> out);

// Rewrites the per-hop fields of an already valid encoded packet in place, so
// a relay can forward without re-encoding the payload. The packet becomes
// untagged (key_epoch 0, packet_number 0); `packet` must end where the
// payload ends (a received tag is not part of it).
void rewriteHopFields(std::span<std::byte> packet, NodeId sender_node_id, std::uint8_t hop_limit,
                      std::uint32_t age_us);
// Sets age_us in an already valid encoded DATA packet.
void setAge(std::span<std::byte> packet, std::uint32_t age_us);
// Writes key_epoch and packet_number into an encoded header (for sealPacket).
void writeKeyFields(std::span<std::byte> packet, std::uint32_t key_epoch, std::uint64_t packet_number);
// Sets or clears kFlagRetransmit in an already valid encoded DATA packet.
void setRetransmitFlag(std::span<std::byte> packet, bool retransmit);

using PacketBuffer = std::array<std::byte, kMaxPacketBytes>;

}  // namespace overline::wire
