#pragma once
// Explicit big-endian reads and writes on byte spans. Callers check bounds
// before calling; these helpers only assert them.

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <span>

namespace overline::wire {

template <typename UInt>
UInt readBigEndian(std::span<const std::byte> in, std::size_t offset) {
  assert(offset + sizeof(UInt) <= in.size());
  UInt value = 0;
  for (std::size_t i = 0; i < sizeof(UInt); ++i) {
    value = static_cast<UInt>((value << 8) | std::to_integer<UInt>(in[offset + i]));
  }
  return value;
}

template <typename UInt>
void writeBigEndian(std::span<std::byte> out, std::size_t offset, UInt value) {
  assert(offset + sizeof(UInt) <= out.size());
  for (std::size_t i = 0; i < sizeof(UInt); ++i) {
    out[offset + sizeof(UInt) - 1 - i] = static_cast<std::byte>(value & 0xff);
    value = static_cast<UInt>(value >> 8);
  }
}

}  // namespace overline::wire
