#pragma once
// Helpers shared by the FEC tests: DATA packets as a relay sends them.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/types.h"
#include "common/wire/packet.h"

namespace overline::relay::fec_test {

using Bytes = std::vector<std::byte>;

constexpr StreamId kStream = makeStreamId(3, 42);
constexpr NodeId kSender = 7;
constexpr std::uint8_t kHop = 15;

// A DATA packet of kStream from kSender with hop kHop, latency budget 40
// (400 ms), a timestamp derived from the sequence and `payload_bytes` bytes
// of a pattern that depends on the sequence.
inline Bytes dataPacket(std::uint32_t sequence, std::size_t payload_bytes, std::uint8_t flags = 0,
                        std::uint8_t hop_limit = kHop) {
  wire::Header header;
  header.type = wire::PacketType::kData;
  header.flags = flags;
  header.hop_limit = hop_limit;
  header.latency_budget = 40;
  header.sender_node_id = kSender;
  header.stream_id = kStream;
  header.sequence = sequence;
  header.timestamp_us = 1'000'000'000 + sequence * 1000ull;
  Bytes payload(payload_bytes);
  for (std::size_t i = 0; i < payload_bytes; ++i) payload[i] = static_cast<std::byte>(sequence * 31 + i);
  Bytes out(wire::kHeaderBytes + payload_bytes);
  wire::encodePacket(header, payload, out);
  return out;
}

inline wire::PacketView view(const Bytes& packet) { return wire::parsePacket(packet).value(); }

}  // namespace overline::relay::fec_test
