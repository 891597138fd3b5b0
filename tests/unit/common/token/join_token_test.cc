// Join tokens: what a relay accepts and what it refuses.

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "common/token/join_token.h"

using namespace overline;
using namespace overline::token;

namespace {

std::vector<std::uint8_t> keyOf(const std::string& hex) { return parseHexKey(hex).value(); }

const std::vector<std::uint8_t> kKey = keyOf("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");
constexpr NodeId kNode = 7;
constexpr std::int64_t kExpiry = 1'700'000'300;
constexpr std::int64_t kNow = 1'700'000'000;

}  // namespace

TEST_CASE("a signed token verifies for its node and client until it expires") {
  const std::string token = signJoinToken(kKey, kNode, "203.0.113.9", kExpiry);
  CHECK(token.starts_with("v1.1700000300."));
  CHECK(token.size() == std::string("v1.1700000300.").size() + 43);
  CHECK(token.find_first_of("+/=") == std::string::npos);

  const auto ok = verifyJoinToken(kKey, token, kNode, "203.0.113.9", kNow);
  REQUIRE(ok.ok());
  CHECK(ok.value() == kExpiry);
  CHECK(verifyJoinToken(kKey, token, kNode, "203.0.113.9", kExpiry - 1).ok());
}

TEST_CASE("an expired token is refused as expired") {
  const std::string token = signJoinToken(kKey, kNode, "203.0.113.9", kExpiry);
  const auto at_expiry = verifyJoinToken(kKey, token, kNode, "203.0.113.9", kExpiry);
  REQUIRE_FALSE(at_expiry.ok());
  CHECK(at_expiry.error() == TokenError::kExpired);
  CHECK(verifyJoinToken(kKey, token, kNode, "203.0.113.9", kExpiry + 3600).error() == TokenError::kExpired);
}

TEST_CASE("a token for another node, client or key fails its signature") {
  const std::string token = signJoinToken(kKey, kNode, "203.0.113.9", kExpiry);
  CHECK(verifyJoinToken(kKey, token, kNode + 1, "203.0.113.9", kNow).error() == TokenError::kBadSignature);
  CHECK(verifyJoinToken(kKey, token, kNode, "203.0.113.10", kNow).error() == TokenError::kBadSignature);
  const auto other_key = keyOf("ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100");
  CHECK(verifyJoinToken(other_key, token, kNode, "203.0.113.9", kNow).error() == TokenError::kBadSignature);
}

TEST_CASE("a tampered token is refused") {
  const std::string token = signJoinToken(kKey, kNode, "203.0.113.9", kExpiry);

  SECTION("a later expiry breaks the signature") {
    std::string later = token;
    later.replace(3, 10, "1800000000");
    CHECK(verifyJoinToken(kKey, later, kNode, "203.0.113.9", kNow).error() == TokenError::kBadSignature);
  }
  SECTION("every flipped MAC character breaks the signature") {
    for (std::size_t i = token.rfind('.') + 1; i < token.size(); ++i) {
      std::string flipped = token;
      flipped[i] = flipped[i] == 'A' ? 'B' : 'A';
      INFO("position " << i);
      CHECK(verifyJoinToken(kKey, flipped, kNode, "203.0.113.9", kNow).error() == TokenError::kBadSignature);
    }
  }
  SECTION("malformed text is malformed, not a crash") {
    const std::string mac = token.substr(token.rfind('.') + 1);
    for (const std::string& bad : {std::string(), std::string("v1."), std::string("v2.1700000300.") + mac,
                                  std::string("v1.1700000300"), std::string("v1..") + mac,
                                  std::string("v1.+1700000300.") + mac, std::string("v1.01700000300.") + mac,
                                  std::string("v1.-5.") + mac, std::string("v1.1700000300.") + mac + "A",
                                  std::string("v1.1700000300.") + mac.substr(1),
                                  std::string("v1.1700000300.") + "+" + mac.substr(1),
                                  std::string("v1.99999999999999999999.") + mac}) {
      INFO("token " << bad);
      const auto result = verifyJoinToken(kKey, bad, kNode, "203.0.113.9", kNow);
      REQUIRE_FALSE(result.ok());
      CHECK(result.error() == TokenError::kMalformed);
    }
  }
}

TEST_CASE("hex keys are parsed strictly") {
  CHECK(parseHexKey("  00112233445566778899AABBCCDDEEFF\n").value().size() == 16);
  CHECK(parseHexKey("00112233445566778899aabbccddeeff").value()[15] == 0xff);
  CHECK(parseHexKey("0011223344556677").error() == "key too short: 8 bytes, need at least 16");
  CHECK(parseHexKey("00112233445566778899aabbccddeef").error() == "odd number of hex digits");
  CHECK(parseHexKey("0011x233445566778899aabbccddeeff").error() == "expected hex digits, got 'x' at offset 4");
  CHECK(parseHexKey("").error() == "key too short: 0 bytes, need at least 16");
}
