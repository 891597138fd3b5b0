#pragma once
// Test vectors as lower-case hex strings -> bytes (RFC and NIST vectors in
// the crypto tests). Trusted input: no validation.

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace overline::crypto::test {

inline std::vector<std::uint8_t> fromHex(std::string_view hex) {
  std::vector<std::uint8_t> out;
  const auto digit = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<std::uint8_t>(digit(hex[i]) * 16 + digit(hex[i + 1])));
  }
  return out;
}

inline std::vector<std::byte> bytesFromHex(std::string_view hex) {
  std::vector<std::byte> out;
  for (const std::uint8_t b : fromHex(hex)) out.push_back(std::byte{b});
  return out;
}

}  // namespace overline::crypto::test
