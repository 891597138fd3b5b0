#pragma once
// Overline wire format, version 1. Every datagram is one fixed 32-byte
// header followed by `payload_length` bytes of type-specific payload:
//
//   offset size field            notes
//   0      1    magic            0x4F ('O')
//   1      1    version          1
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
//   12     8    stream_id        upper 32 bits: origin relay node id
//   20     4    sequence         DATA: per-stream sequence number;
//                                PROBE/PROBE_ACK: per-link probe sequence
//   24     8    timestamp_us     DATA: publisher's send time (wall clock, us);
//                                PROBE/PROBE_ACK: prober's monotonic clock (us)
//
// All integers are big-endian. A datagram whose size differs from
// 32 + payload_length is malformed: nothing is guessed or truncated.
//
// Flags. kFlagRedundant on DATA asks every relay to send the packet to each
// downstream neighbour on two disjoint links (redundant mode); receivers drop
// the second copy by sequence. The flag is kept hop by hop. kFlagRetransmit on
// DATA marks a copy sent again on one hop in answer to a NACK; it is per hop:
// a relay forwarding the packet further clears it. Any other bit, or a DATA
// flag on another type, is kUnknownFlags: a v1 parser never guesses what an
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
//    endpoint. An ACK is exactly as large as the probe it answers (32 bytes),
//    so probing cannot be used for amplification.
//  * Relays answer only probes whose source endpoint is a line of a
//    configured neighbour; anything else is dropped as unknown_source.
//
// Client join (SDK client <-> edge relay):
//  * HELLO from a client: header fields 0 except type, hop_limit and
//    sequence (the client's probe number, opaque to the edge); the payload is empty or the client's join token (ASCII, at most
//    kMaxHelloPayloadBytes; common/token/join_token.h), which an edge that
//    requires tokens checks against its own node id and the HELLO's source
//    address. A longer HELLO is kPayloadTooLarge.
//  * HELLO from an edge (the answer): header-only, sender_node_id = the edge,
//    sequence copied from the HELLO it answers.
//    Never larger than the HELLO it answers, so joins cannot amplify.

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "common/result.h"
#include "common/types.h"

namespace overline::wire {

constexpr std::uint8_t kMagic = 0x4F;
constexpr std::uint8_t kVersion = 1;
constexpr std::size_t kHeaderBytes = 32;
constexpr std::size_t kMaxPayloadBytes = 1200;
// An FEC parity packet protects whole DATA packets (their variable header
// fields as well as the payload) plus its group description, so it may be
// somewhat larger than any DATA; 32 + 1300 bytes still fits one 1500-byte
// Ethernet frame with IPv4/UDP headers.
constexpr std::size_t kMaxFecPayloadBytes = 1300;
constexpr std::size_t kMaxPacketBytes = kHeaderBytes + kMaxFecPayloadBytes;
// latency_budget units (see "Latency budget" above).
constexpr DurationUs kLatencyBudgetUnitUs = 10'000;
constexpr std::uint8_t kDefaultHopLimit = 16;
// A HELLO's payload (a join token, ~60 bytes today) is capped well below
// kMaxPayloadBytes: a relay handles HELLOs from anyone.
constexpr std::size_t kMaxHelloPayloadBytes = 256;

enum class PacketType : std::uint8_t {
  kData = 1,         // media payload, forwarded down subscription trees
  kProbe = 2,        // link probe between neighbour relays; no payload
  kProbeAck = 3,     // probe answer, the same size as the probe; no payload
  kSubscribe = 4,    // join/refresh the tree of stream_id; no payload
  kUnsubscribe = 5,  // leave the tree of stream_id; no payload
  kNack = 6,         // retransmission request (reserved for loss recovery)
  kFec = 7,          // parity packet (reserved for loss recovery)
  kHello = 8,        // client join / keepalive to an edge (payload: join token); the edge answers HELLO
};
constexpr std::uint8_t kMaxPacketType = 8;

// Header flag bits (see "Flags" above).
constexpr std::uint8_t kFlagRedundant = 0x01;   // DATA only: send on two disjoint links
constexpr std::uint8_t kFlagRetransmit = 0x02;  // DATA only: a retransmission on this hop
constexpr std::uint8_t kKnownFlags = kFlagRedundant | kFlagRetransmit;

enum class ParseError : std::uint8_t {
  kTooShort,          // fewer than kHeaderBytes
  kBadMagic,
  kBadVersion,
  kUnknownType,
  kUnknownFlags,      // a flag bit not defined in v1, or one not valid for the type
  kReservedNotZero,   // byte 5 set on a type other than DATA
  kPayloadTooLarge,   // payload_length > kMaxPayloadBytes (kMaxFecPayloadBytes on FEC, kMaxHelloPayloadBytes on HELLO)
  kLengthMismatch,    // datagram size != kHeaderBytes + payload_length
  kUnexpectedPayload, // PROBE/PROBE_ACK/SUBSCRIBE/UNSUBSCRIBE carry no payload
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

  friend bool operator==(const Header&, const Header&) = default;
};

struct PacketView {
  Header header;
  std::span<const std::byte> payload;  // points into the parsed datagram
};

// Validates the whole datagram (header and length) and returns a view into it.
Result<PacketView, ParseError> parsePacket(std::span<const std::byte> datagram);

// Writes header + payload into `out`, setting header.payload_length from
// payload.size(). Returns the number of bytes written. Preconditions (checked
// with assert, a caller bug otherwise): payload.size() <= kMaxFecPayloadBytes and
// out.size() >= kHeaderBytes + payload.size(). Type, flags and payload are
// written as given, not validated: parsePacket is the gatekeeper, and tests
// use the encoder to build packets it must reject.
std::size_t encodePacket(const Header& header, std::span<const std::byte> payload,
                         std::span<std::byte> out);

// Rewrites the per-hop fields of an already valid encoded packet in place, so
// a relay can forward without re-encoding the payload.
void rewriteHopFields(std::span<std::byte> packet, NodeId sender_node_id, std::uint8_t hop_limit);
// Sets or clears kFlagRetransmit in an already valid encoded DATA packet.
void setRetransmitFlag(std::span<std::byte> packet, bool retransmit);

using PacketBuffer = std::array<std::byte, kMaxPacketBytes>;

}  // namespace overline::wire
