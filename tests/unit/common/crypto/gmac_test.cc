// AES-128-GMAC (common/crypto/gmac.h): known answers from NIST's GCM test
// vectors, and verify() refusing anything that differs from them.

#include "common/crypto/gmac.h"

#include <catch2/catch.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "tests/unit/common/crypto/test_hex.h"

namespace overline::crypto {
namespace {

using test::fromHex;

template <typename Array>
Array arrayFromHex(std::string_view hex) {
  const std::vector<std::uint8_t> bytes = fromHex(hex);
  REQUIRE(bytes.size() == Array{}.size());
  Array out{};
  std::copy(bytes.begin(), bytes.end(), out.begin());
  return out;
}

using test::bytesFromHex;

// GMAC is GCM with an empty plaintext: the message is the associated data
// and the tag is GCM's. The vectors are from NIST CAVP's GCM validation set,
// gcmEncryptExtIV128.rsp (https://csrc.nist.gov/projects/cryptographic-
// algorithm-validation-program, "GCM Test Vectors"), [Keylen = 128]
// [IVlen = 96] [PTlen = 0] [Taglen = 128], Count 0 of the AADlen = 0 and
// AADlen = 128 groups.
struct Vector {
  std::string_view key;
  std::string_view iv;
  std::string_view aad;
  std::string_view tag;
};
constexpr Vector kAadLen0{"11754cd72aec309bf52f7687212e8957", "3c819d9a9bed087615030b65", "",
                          "250327c674aaf477aef2675748cf6971"};
constexpr Vector kAadLen128{"77be63708971c4e240d1cb79e8d77feb", "e0e00f19fed7ba0136a797f3",
                            "7a43ec1d9c0a5a78a0b16533a6213cab", "209fcc8d3675ed938e9c7166709dd946"};

TEST_CASE("Gmac: NIST gcmEncryptExtIV128 known answers (PTlen 0)", "[crypto][gmac]") {
  for (const Vector& v : {kAadLen0, kAadLen128}) {
    CAPTURE(v.key);
    const Gmac gmac(arrayFromHex<Key128>(v.key));
    const Nonce nonce = arrayFromHex<Nonce>(v.iv);
    const std::vector<std::byte> message = bytesFromHex(v.aad);
    CHECK(gmac.tag(nonce, message) == arrayFromHex<Tag>(v.tag));
    CHECK(gmac.verify(nonce, message, bytesFromHex(v.tag)));
  }
}

TEST_CASE("Gmac: the context is reused, so tags do not depend on earlier calls", "[crypto][gmac]") {
  Gmac gmac(arrayFromHex<Key128>(kAadLen128.key));
  const Nonce nonce = arrayFromHex<Nonce>(kAadLen128.iv);
  const std::vector<std::byte> message = bytesFromHex(kAadLen128.aad);
  const std::vector<std::byte> other(1232, std::byte{0x5A});
  (void)gmac.tag(Nonce{}, other);
  CHECK(gmac.tag(nonce, message) == arrayFromHex<Tag>(kAadLen128.tag));
  (void)gmac.verify(Nonce{}, other, bytesFromHex(kAadLen128.tag));
  CHECK(gmac.tag(nonce, message) == arrayFromHex<Tag>(kAadLen128.tag));

  // A moved-to key computes the same tags.
  Gmac moved = std::move(gmac);
  CHECK(moved.tag(nonce, message) == arrayFromHex<Tag>(kAadLen128.tag));
}

TEST_CASE("Gmac: verify refuses a flipped bit in message, nonce or tag", "[crypto][gmac]") {
  const Gmac gmac(arrayFromHex<Key128>(kAadLen128.key));
  const Nonce nonce = arrayFromHex<Nonce>(kAadLen128.iv);
  const std::vector<std::byte> message = bytesFromHex(kAadLen128.aad);
  const std::vector<std::byte> tag = bytesFromHex(kAadLen128.tag);
  REQUIRE(gmac.verify(nonce, message, tag));

  for (std::size_t i = 0; i < message.size() * 8; ++i) {
    std::vector<std::byte> flipped = message;
    flipped[i / 8] ^= std::byte{static_cast<std::uint8_t>(1u << (i % 8))};
    CAPTURE(i);
    CHECK_FALSE(gmac.verify(nonce, flipped, tag));
  }
  for (std::size_t i = 0; i < nonce.size() * 8; ++i) {
    Nonce flipped = nonce;
    flipped[i / 8] ^= static_cast<std::uint8_t>(1u << (i % 8));
    CAPTURE(i);
    CHECK_FALSE(gmac.verify(flipped, message, tag));
  }
  for (std::size_t i = 0; i < tag.size() * 8; ++i) {
    std::vector<std::byte> flipped = tag;
    flipped[i / 8] ^= std::byte{static_cast<std::uint8_t>(1u << (i % 8))};
    CAPTURE(i);
    CHECK_FALSE(gmac.verify(nonce, message, flipped));
  }
  // A message one byte longer or shorter is another message.
  std::vector<std::byte> longer = message;
  longer.push_back(std::byte{0});
  CHECK_FALSE(gmac.verify(nonce, longer, tag));
  CHECK_FALSE(gmac.verify(nonce, std::span(message).first(message.size() - 1), tag));
  // Another key.
  Key128 other_key = arrayFromHex<Key128>(kAadLen128.key);
  other_key[15] ^= 0x01;
  CHECK_FALSE(Gmac(other_key).verify(nonce, message, tag));
}

TEST_CASE("Gmac: verify refuses a tag of the wrong size", "[crypto][gmac]") {
  const Gmac gmac(arrayFromHex<Key128>(kAadLen128.key));
  const Nonce nonce = arrayFromHex<Nonce>(kAadLen128.iv);
  const std::vector<std::byte> message = bytesFromHex(kAadLen128.aad);
  const std::vector<std::byte> tag = bytesFromHex(kAadLen128.tag);
  CHECK_FALSE(gmac.verify(nonce, message, std::span(tag).first(15)));  // a truncated but correct prefix
  CHECK_FALSE(gmac.verify(nonce, message, std::span(tag).first(0)));
  std::vector<std::byte> longer = tag;
  longer.push_back(std::byte{0});
  CHECK_FALSE(gmac.verify(nonce, message, longer));
}

}  // namespace
}  // namespace overline::crypto
