// Key derivation (common/crypto/key_derivation.h): HKDF-SHA256 and
// HMAC-SHA256 against their RFCs' test vectors, and the pair keys relays
// derive from a mesh secret.

#include "common/crypto/key_derivation.h"

#include <catch2/catch.hpp>

#include <cstddef>
#include <cstdint>
#include <set>
#include <string_view>
#include <vector>

#include "tests/unit/common/crypto/test_hex.h"

namespace overline::crypto {
namespace {

using test::fromHex;

std::vector<std::byte> asBytes(const std::vector<std::uint8_t>& in) {
  std::vector<std::byte> out;
  for (const std::uint8_t b : in) out.push_back(std::byte{b});
  return out;
}

const std::vector<std::uint8_t> kMeshSecret(32, 0x42);

TEST_CASE("hkdf128: RFC 5869 test case 1 (first 16 bytes of the OKM)", "[crypto][key_derivation]") {
  // RFC 5869, Appendix A.1 (SHA-256): IKM 22 x 0x0b, salt 0x00..0x0c,
  // info 0xf0..0xf9, L = 42. OKM = 3cb25f25faacd57a90434f64d0362f2a
  // 2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865.
  const std::vector<std::uint8_t> ikm(22, 0x0b);
  const std::vector<std::uint8_t> salt = fromHex("000102030405060708090a0b0c");
  const std::vector<std::byte> info = asBytes(fromHex("f0f1f2f3f4f5f6f7f8f9"));
  const std::string_view salt_text(reinterpret_cast<const char*>(salt.data()), salt.size());
  const Key128 okm = hkdf128(ikm, salt_text, info);
  const std::vector<std::uint8_t> expected = fromHex("3cb25f25faacd57a90434f64d0362f2a");
  CHECK(std::vector<std::uint8_t>(okm.begin(), okm.end()) == expected);
}

TEST_CASE("hmacSha256: RFC 4231 test case 1", "[crypto][key_derivation]") {
  // RFC 4231, 4.2: key 20 x 0x0b, data "Hi There".
  const std::vector<std::uint8_t> key(20, 0x0b);
  const std::string_view data = "Hi There";
  const Digest digest = hmacSha256(key, std::as_bytes(std::span(data.data(), data.size())));
  const std::vector<std::uint8_t> expected =
      fromHex("b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  CHECK(std::vector<std::uint8_t>(digest.begin(), digest.end()) == expected);
}

TEST_CASE("derivePairKey: symmetric in the two nodes", "[crypto][key_derivation]") {
  CHECK(derivePairKey(kMeshSecret, 1, 1, 2) == derivePairKey(kMeshSecret, 1, 2, 1));
  CHECK(derivePairKey(kMeshSecret, 9, 0xFFFFFFFFu, 3) == derivePairKey(kMeshSecret, 9, 3, 0xFFFFFFFFu));
  // Deterministic.
  CHECK(derivePairKey(kMeshSecret, 1, 1, 2) == derivePairKey(kMeshSecret, 1, 1, 2));
}

TEST_CASE("derivePairKey: differs per epoch, per pair and per secret", "[crypto][key_derivation]") {
  std::set<Key128> keys;
  for (std::uint32_t epoch : {1u, 2u, 0x01000000u}) {
    for (const auto& [a, b] : std::vector<std::pair<NodeId, NodeId>>{{1, 2}, {1, 3}, {2, 3}, {0x100, 2}, {1, 0x200}}) {
      keys.insert(derivePairKey(kMeshSecret, epoch, a, b));
    }
  }
  CHECK(keys.size() == 15);

  std::vector<std::uint8_t> other_secret = kMeshSecret;
  other_secret[31] ^= 0x01;
  CHECK(derivePairKey(other_secret, 1, 1, 2) != derivePairKey(kMeshSecret, 1, 1, 2));
  const std::vector<std::uint8_t> longer_secret(33, 0x42);
  CHECK(derivePairKey(longer_secret, 1, 1, 2) != derivePairKey(kMeshSecret, 1, 1, 2));
  // The ids are fixed-width in the info: (1, 0x0203) is not (0x0102, 3).
  CHECK(derivePairKey(kMeshSecret, 1, 1, 0x0203) != derivePairKey(kMeshSecret, 1, 0x0102, 3));
}

TEST_CASE("derivePairKey is HKDF(secret, \"overline-v2-pair\", epoch | min | max)", "[crypto][key_derivation]") {
  const std::vector<std::byte> info = asBytes(fromHex("00000007" "00000002" "00000009"));
  CHECK(derivePairKey(kMeshSecret, 7, 9, 2) == hkdf128(kMeshSecret, "overline-v2-pair", info));
}

}  // namespace
}  // namespace overline::crypto
