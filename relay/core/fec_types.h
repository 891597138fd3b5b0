#pragma once
// Vocabulary shared by the FEC components of relay/core (FecPolicy,
// FecEncoder, FecDecoder). The wire layout is in common/wire/fec_payload.h.

#include <cstddef>
#include <cstdint>
#include <span>

#include "common/wire/packet.h"

namespace overline::relay {

// How one (stream, downstream) hop is protected: groups of k DATA packets,
// each followed by m parity packets. m = 0 means FEC off (k is then 0 too).
struct FecProtection {
  std::uint8_t k = 0;
  std::uint8_t m = 0;

  bool enabled() const { return m > 0; }
  // Parity packets per data packet (0 when off).
  double overhead() const { return k == 0 ? 0.0 : static_cast<double>(m) / k; }
  friend bool operator==(const FecProtection&, const FecProtection&) = default;
};

// One whole wire packet produced by the FEC components: an FEC packet from
// FecEncoder or a recovered DATA packet from FecDecoder. Fixed-size, so a
// caller that clear()s and reuses its output vector allocates nothing per
// packet once the vector has grown.
struct FecPacket {
  wire::PacketBuffer bytes;
  std::size_t size = 0;

  std::span<const std::byte> view() const { return {bytes.data(), size}; }
};

}  // namespace overline::relay
