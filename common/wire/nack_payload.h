#pragma once
// Payload of a NACK packet (PacketType::kNack): which DATA packets of one
// stream a downstream relay asks its upstream to send again.
//
//   payload = 1..kMaxNackSequences big-endian u32 DATA sequence numbers
//
// payload_length is therefore a non-zero multiple of 4, at most 256 bytes.
// The header carries the rest: type NACK, sender_node_id = the requesting
// relay, stream_id = the stream, hop_limit 1 (a NACK is never forwarded),
// sequence 0, timestamp_us 0, flags 0, byte 5 (latency budget) 0. Relays
// accept NACKs only from a neighbour that is a downstream of that stream; a
// request for more sequences is split over several NACK packets.

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "common/result.h"

namespace overline::wire {

constexpr std::size_t kMaxNackSequences = 64;
constexpr std::size_t kNackSequenceBytes = 4;
constexpr std::size_t kMaxNackPayloadBytes = kMaxNackSequences * kNackSequenceBytes;

enum class NackError : std::uint8_t {
  kEmpty,          // payload_length 0
  kNotMultipleOf4, // a trailing partial sequence number
  kTooMany,        // more than kMaxNackSequences
};
std::string_view toString(NackError error);

// The parsed list; no allocation.
struct NackList {
  std::array<std::uint32_t, kMaxNackSequences> sequences{};
  std::size_t count = 0;

  std::span<const std::uint32_t> view() const { return {sequences.data(), count}; }
};

Result<NackList, NackError> parseNackPayload(std::span<const std::byte> payload);

// Writes `sequences` (1..kMaxNackSequences of them; asserted) big-endian into
// `out` (at least 4 bytes per sequence; asserted) and returns the bytes written.
std::size_t encodeNackPayload(std::span<const std::uint32_t> sequences, std::span<std::byte> out);

}  // namespace overline::wire
