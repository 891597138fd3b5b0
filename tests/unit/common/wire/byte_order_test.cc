#include "common/wire/byte_order.h"

#include <array>
#include <catch2/catch.hpp>
#include <cstddef>
#include <cstdint>

namespace overline::wire {
namespace {

TEST_CASE("writeBigEndian puts the most significant byte first", "[wire]") {
  std::array<std::byte, 16> out{};
  writeBigEndian<std::uint8_t>(out, 0, 0xA1);
  writeBigEndian<std::uint16_t>(out, 1, 0xB1B2);
  writeBigEndian<std::uint32_t>(out, 3, 0xC1C2C3C4);
  writeBigEndian<std::uint64_t>(out, 7, 0xD1D2D3D4D5D6D7D8);
  const std::array<std::byte, 16> expected = {
      std::byte{0xA1}, std::byte{0xB1}, std::byte{0xB2}, std::byte{0xC1}, std::byte{0xC2}, std::byte{0xC3},
      std::byte{0xC4}, std::byte{0xD1}, std::byte{0xD2}, std::byte{0xD3}, std::byte{0xD4}, std::byte{0xD5},
      std::byte{0xD6}, std::byte{0xD7}, std::byte{0xD8}, std::byte{0x00},
  };
  CHECK(out == expected);
}

TEST_CASE("readBigEndian reads the most significant byte first at any offset", "[wire]") {
  const std::array<std::byte, 9> in = {
      std::byte{0xFF}, std::byte{0x80}, std::byte{0x01}, std::byte{0x02}, std::byte{0x03},
      std::byte{0x04}, std::byte{0x05}, std::byte{0x06}, std::byte{0x07},
  };
  CHECK(readBigEndian<std::uint8_t>(in, 0) == 0xFF);
  CHECK(readBigEndian<std::uint16_t>(in, 0) == 0xFF80);
  CHECK(readBigEndian<std::uint32_t>(in, 1) == 0x80010203u);
  CHECK(readBigEndian<std::uint64_t>(in, 1) == 0x8001020304050607ull);
}

TEST_CASE("big-endian write then read returns the value", "[wire]") {
  std::array<std::byte, 8> buf{};
  for (const std::uint64_t v : {0ull, 1ull, 0x8000000000000000ull, 0xFFFFFFFFFFFFFFFFull}) {
    writeBigEndian<std::uint64_t>(buf, 0, v);
    CHECK(readBigEndian<std::uint64_t>(buf, 0) == v);
  }
}

}  // namespace
}  // namespace overline::wire
