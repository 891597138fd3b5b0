#pragma once
// Explicit big-endian reads and writes on byte spans. Callers check bounds
// before calling; these helpers only check them as invariants
// (common/check/invariant.h): out of bounds, a read returns 0 and a write
// writes nothing in release builds.

#include <cstddef>
#include <cstdint>
#include <span>

#include "common/check/invariant.h"

namespace overline::wire {

template <typename UInt>
UInt readBigEndian(std::span<const std::byte> in, std::size_t offset) {
  if (!OVERLINE_INVARIANT(offset + sizeof(UInt) <= in.size())) return 0;
  UInt value = 0;
  for (std::size_t i = 0; i < sizeof(UInt); ++i) {
    value = static_cast<UInt>((value << 8) | std::to_integer<UInt>(in[offset + i]));
  }
  return value;
}

template <typename UInt>
void writeBigEndian(std::span<std::byte> out, std::size_t offset, UInt value) {
  if (!OVERLINE_INVARIANT(offset + sizeof(UInt) <= out.size())) return;
  for (std::size_t i = 0; i < sizeof(UInt); ++i) {
    out[offset + sizeof(UInt) - 1 - i] = static_cast<std::byte>(value & 0xff);
    value = static_cast<UInt>(value >> 8);
  }
}

}  // namespace overline::wire
