#pragma once
// Payload of an ANNOUNCE packet (PacketType::kAnnounce): "these streams are
// published at relay `origin` right now" (relay/core/stream_directory.h).
//
//   payload = origin node id (u32) | 1..kMaxAnnouncedStreams stream ids (u64)
//
// all big-endian, so payload_length is 4 + 8k with k >= 1. The header
// carries the rest: type ANNOUNCE, sender_node_id = the relay that sent
// this hop, stream_id 0, sequence = the origin's announcement number (one
// per packet, increasing), timestamp_us = the origin's wall clock when it
// made the packet (tells a restarted origin's numbers from old ones),
// hop_limit decremented per hop, flags and byte 5 zero. Relays flood an
// announcement they have not seen before to every other neighbour;
// clients never send or receive one.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "common/result.h"
#include "common/types.h"
#include "common/wire/packet.h"

namespace overline::wire {

constexpr std::size_t kAnnounceOriginBytes = 4;
constexpr std::size_t kAnnouncedStreamBytes = 8;
constexpr std::size_t kMaxAnnouncedStreams = (kMaxPayloadBytes - kAnnounceOriginBytes) / kAnnouncedStreamBytes;

enum class AnnounceError : std::uint8_t {
  kNoStreams,     // shorter than the origin and one stream id
  kPartialStream, // a trailing partial stream id
  kTooLarge,      // more than kMaxAnnouncedStreams stream ids
  kNoOrigin,      // origin node id 0
};
std::string_view toString(AnnounceError error);

// A view into a validated payload; no allocation.
class AnnounceView {
 public:
  NodeId origin() const { return origin_; }
  std::size_t streamCount() const { return streams_.size() / kAnnouncedStreamBytes; }
  StreamId stream(std::size_t index) const;

 private:
  friend Result<AnnounceView, AnnounceError> parseAnnouncePayload(std::span<const std::byte> payload);
  NodeId origin_ = kNoNode;
  std::span<const std::byte> streams_;
};

Result<AnnounceView, AnnounceError> parseAnnouncePayload(std::span<const std::byte> payload);

// Writes the payload for `origin` and 1..kMaxAnnouncedStreams `streams` into
// `out` and returns its size; 0 (nothing written) on a caller bug: no
// streams, too many, origin 0, or `out` too small.
std::size_t encodeAnnouncePayload(NodeId origin, std::span<const StreamId> streams, std::span<std::byte> out);

}  // namespace overline::wire
