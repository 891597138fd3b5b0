// Join tokens v2: what a relay accepts, what it refuses, and what a grant
// allows.

#include <catch2/catch.hpp>

#include <limits>
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
constexpr const char* kClient = "203.0.113.9";

JoinGrant grantFor(std::vector<NodeId> edges) {
  JoinGrant grant;
  grant.expires_unix_s = kExpiry;
  grant.roles = static_cast<std::uint8_t>(Role::kSubscribe);
  grant.scope = StreamScope::exactly(makeStreamId(3, 9));
  grant.edges = std::move(edges);
  return grant;
}

const JoinGrant kGrant = grantFor({kNode});

std::string base64Url(const std::vector<std::uint8_t>& bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  std::uint32_t bits = 0;
  int count = 0;
  for (const std::uint8_t b : bytes) {
    bits = (bits << 8) | b;
    count += 8;
    while (count >= 6) {
      count -= 6;
      out.push_back(kAlphabet[(bits >> count) & 63]);
    }
  }
  if (count > 0) out.push_back(kAlphabet[(bits << (6 - count)) & 63]);
  return out;
}

std::vector<std::uint8_t> bodyOf(const std::string& token) {
  const std::size_t first = token.find('.');
  const std::size_t second = token.find('.', first + 1);
  const std::string text = token.substr(first + 1, second - first - 1);
  std::vector<std::uint8_t> out;
  std::uint32_t bits = 0;
  int count = 0;
  for (const char c : text) {
    const int v = c >= 'A' && c <= 'Z'   ? c - 'A'
                  : c >= 'a' && c <= 'z' ? c - 'a' + 26
                  : c >= '0' && c <= '9' ? c - '0' + 52
                  : c == '-'             ? 62
                                         : 63;
    bits = (bits << 6) | static_cast<std::uint32_t>(v);
    count += 6;
    if (count >= 8) {
      count -= 8;
      out.push_back(static_cast<std::uint8_t>(bits >> count));
    }
  }
  return out;
}

std::string macOf(const std::string& token) { return token.substr(token.rfind('.') + 1); }

// "v2.<body>.<mac>" with `body` instead of the token's own.
std::string withBody(const std::string& token, const std::vector<std::uint8_t>& body) {
  return "v2." + base64Url(body) + "." + macOf(token);
}

TokenError errorOf(const std::string& token, NodeId node = kNode, std::string_view client = kClient,
                   std::int64_t now = kNow, const std::vector<std::uint8_t>& key = kKey) {
  const auto result = verifyJoinToken(key, token, node, client, now);
  REQUIRE_FALSE(result.ok());
  return result.error();
}

}  // namespace

TEST_CASE("a signed token round-trips its grant for each of its edges until it expires") {
  JoinGrant grant = grantFor({kNode, 12, 4'000'000'000u});
  grant.roles = kAllRoles;
  grant.scope = StreamScope::prefix(makeStreamId(3, 0), 32);
  const std::string token = signJoinToken(kKey, grant, kClient);
  CHECK(token.starts_with("v2."));
  CHECK(token.find_first_of("+/= ") == std::string::npos);
  // 19 + 3 * 4 = 31 body bytes: 42 characters; the MAC 43.
  CHECK(token.size() == 3 + 42 + 1 + 43);

  for (const NodeId node : grant.edges) {
    INFO("node " << node);
    const auto verified = verifyJoinToken(kKey, token, node, kClient, kNow);
    REQUIRE(verified.ok());
    CHECK(verified.value() == grant);
  }
  CHECK(verifyJoinToken(kKey, token, kNode, kClient, kExpiry - 1).ok());
}

TEST_CASE("the body is the documented big-endian layout") {
  JoinGrant grant = grantFor({0x01020304, 5});
  grant.expires_unix_s = 0x0102030405060708;
  grant.roles = static_cast<std::uint8_t>(Role::kPublish);
  grant.scope = StreamScope::prefix(0xaabbccdd00000000, 32);
  const std::vector<std::uint8_t> expected = {1, 2, 3, 4, 5, 6, 7, 8,                           // expires
                                              0x01,                                             // roles
                                              32,                                               // prefix bits
                                              0xaa, 0xbb, 0xcc, 0xdd, 0, 0, 0, 0,               // scope value
                                              2,                                                // edge count
                                              1, 2, 3, 4, 0, 0, 0, 5};                          // edges
  CHECK(bodyOf(signJoinToken(kKey, grant, kClient)) == expected);
}

TEST_CASE("a token naming the most edges stays well under a HELLO's 256 bytes") {
  const JoinGrant grant = grantFor({1, 2, 3, 4, 5, 6, 7, 0xffffffff});
  const std::string token = signJoinToken(kKey, grant, "255.255.255.255");
  CHECK(token.size() == 115);
  CHECK(verifyJoinToken(kKey, token, 0xffffffff, "255.255.255.255", kNow).value() == grant);
}

TEST_CASE("an expired token is refused as expired") {
  const std::string token = signJoinToken(kKey, kGrant, kClient);
  CHECK(errorOf(token, kNode, kClient, kExpiry) == TokenError::kExpired);
  CHECK(errorOf(token, kNode, kClient, kExpiry + 3600) == TokenError::kExpired);
}

TEST_CASE("a token shown to a relay it does not name is refused as wrong_edge") {
  const std::string token = signJoinToken(kKey, grantFor({kNode, 9}), kClient);
  CHECK(errorOf(token, 8) == TokenError::kWrongEdge);
  CHECK(errorOf(token, 0) == TokenError::kWrongEdge);
  // The edge is checked before the expiry.
  CHECK(errorOf(token, 8, kClient, kExpiry + 1) == TokenError::kWrongEdge);
}

TEST_CASE("a token from another address or under another key fails its signature") {
  const std::string token = signJoinToken(kKey, kGrant, kClient);
  CHECK(errorOf(token, kNode, "203.0.113.10") == TokenError::kBadSignature);
  CHECK(errorOf(token, kNode, "") == TokenError::kBadSignature);
  const auto other_key = keyOf("ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100");
  CHECK(errorOf(token, kNode, kClient, kNow, other_key) == TokenError::kBadSignature);
  // The signature is checked before the edge and the expiry.
  CHECK(errorOf(token, 8, "203.0.113.10", kExpiry + 1) == TokenError::kBadSignature);
}

TEST_CASE("a tampered token is refused") {
  const std::string token = signJoinToken(kKey, kGrant, kClient);
  const std::vector<std::uint8_t> body = bodyOf(token);

  SECTION("every well-formed change of the body breaks the signature") {
    std::vector<std::vector<std::uint8_t>> changed;
    std::vector<std::uint8_t> later = body;
    later[7] ^= 1;  // expiry
    changed.push_back(later);
    std::vector<std::uint8_t> more_roles = body;
    more_roles[8] = kAllRoles;
    changed.push_back(more_roles);
    std::vector<std::uint8_t> wider = body;
    wider[9] = 0;  // any stream
    std::fill(wider.begin() + 10, wider.begin() + 18, 0);
    changed.push_back(wider);
    std::vector<std::uint8_t> other_stream = body;
    other_stream[17] ^= 1;
    changed.push_back(other_stream);
    std::vector<std::uint8_t> other_edge = body;
    other_edge[22] ^= 1;
    changed.push_back(other_edge);
    std::vector<std::uint8_t> extra_edge = body;
    extra_edge[18] = 2;
    for (const std::uint8_t b : {0, 0, 0, 8}) extra_edge.push_back(b);
    changed.push_back(extra_edge);
    for (const auto& bytes : changed) {
      INFO("body " << base64Url(bytes));
      CHECK(errorOf(withBody(token, bytes)) == TokenError::kBadSignature);
      CHECK(errorOf(withBody(token, bytes), 8) == TokenError::kBadSignature);
    }
  }
  SECTION("every changed MAC character breaks the signature") {
    // Not the last: half its bits are unused (non-canonical, below).
    for (std::size_t i = token.rfind('.') + 1; i + 1 < token.size(); ++i) {
      std::string flipped = token;
      flipped[i] = flipped[i] == 'A' ? 'B' : 'A';
      INFO("position " << i);
      CHECK(errorOf(flipped) == TokenError::kBadSignature);
    }
  }
  SECTION("every changed body character is refused") {
    for (std::size_t i = 3; i < token.find('.', 3); ++i) {
      std::string flipped = token;
      flipped[i] = flipped[i] == 'A' ? 'B' : 'A';
      INFO("position " << i);
      const TokenError error = errorOf(flipped);
      CHECK((error == TokenError::kBadSignature || error == TokenError::kMalformed));
    }
  }
}

TEST_CASE("malformed tokens are malformed, not a crash") {
  const std::string token = signJoinToken(kKey, kGrant, kClient);
  const std::vector<std::uint8_t> body = bodyOf(token);
  const std::string body_text = base64Url(body);
  const std::string mac = macOf(token);
  const auto with = [&](std::size_t index, std::uint8_t value) {
    std::vector<std::uint8_t> bytes = body;
    bytes[index] = value;
    return withBody(token, bytes);
  };

  SECTION("framing") {
    for (const std::string& bad : {
             std::string(), std::string("v2."), std::string("v2.."), std::string("v2.") + body_text,
             std::string("v2.") + body_text + ".", std::string("v1.") + body_text + "." + mac,
             std::string("V2.") + body_text + "." + mac, std::string("v2..") + mac,
             std::string("v2.") + body_text + "." + mac + "A",          // MAC too long
             std::string("v2.") + body_text + "." + mac.substr(1),      // MAC too short
             std::string("v2.") + body_text + "." + mac + ".",          // trailing data
             std::string("v2.") + body_text + "." + mac + "\n",         // trailing whitespace
             std::string(" v2.") + body_text + "." + mac,               // leading whitespace
             std::string("v2.") + body_text + "=." + mac,               // padding
             std::string("v2.") + body_text + "." + mac.substr(1) + "=",  // padded MAC
             std::string("v2.") + body_text + "." + "+" + mac.substr(1),  // base64, not base64url
             std::string("v2.") + "/" + body_text.substr(1) + "." + mac,
             std::string("v2.") + body_text.substr(0, 2) + std::string(1, '\0') + body_text.substr(3) + "." + mac,
             std::string("v2.") + body_text + body_text + body_text + "." + mac,  // body too long
         }) {
      INFO("token " << bad);
      CHECK(errorOf(bad) == TokenError::kMalformed);
    }
  }
  SECTION("non-canonical base64url: unused low bits set") {
    // Another spelling of the same bytes: the last character's 2 unused
    // bits set (23 body bytes: 31 characters; 32 MAC bytes: 43).
    const auto loosen = [](std::string text) {
      static constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
      text.back() = kAlphabet[kAlphabet.find(text.back()) | 3];
      return text;
    };
    REQUIRE(body_text.size() == 31);
    REQUIRE(mac.size() == 43);
    CHECK(bodyOf("v2." + loosen(body_text) + "." + mac) == body);
    CHECK(errorOf("v2." + loosen(body_text) + "." + mac) == TokenError::kMalformed);
    CHECK(errorOf("v2." + body_text + "." + loosen(mac)) == TokenError::kMalformed);
  }
  SECTION("body lengths other than the edge count says") {
    std::vector<std::uint8_t> shorter(body.begin(), body.end() - 1);
    CHECK(errorOf(withBody(token, shorter)) == TokenError::kMalformed);
    std::vector<std::uint8_t> longer = body;
    longer.push_back(0);
    CHECK(errorOf(withBody(token, longer)) == TokenError::kMalformed);
    std::vector<std::uint8_t> fixed_only(body.begin(), body.begin() + 19);
    CHECK(errorOf(withBody(token, fixed_only)) == TokenError::kMalformed);  // count 1, no edge
    fixed_only[18] = 0;
    CHECK(errorOf(withBody(token, fixed_only)) == TokenError::kMalformed);  // count 0
    CHECK(errorOf(withBody(token, std::vector<std::uint8_t>(body.begin(), body.begin() + 18))) ==
          TokenError::kMalformed);
    CHECK(errorOf(withBody(token, {})) == TokenError::kMalformed);
    std::vector<std::uint8_t> nine = body;
    nine[18] = 9;
    for (int i = 0; i < 8 * 4; ++i) nine.push_back(static_cast<std::uint8_t>(i % 4 == 3 ? 10 + i : 0));
    CHECK(errorOf(withBody(token, nine)) == TokenError::kMalformed);  // too many edges (and too long)
  }
  SECTION("field values out of range") {
    CHECK(errorOf(with(8, 0)) == TokenError::kMalformed);     // no role
    CHECK(errorOf(with(8, 0x04)) == TokenError::kMalformed);  // unknown role bit
    CHECK(errorOf(with(8, 0x83)) == TokenError::kMalformed);
    CHECK(errorOf(with(9, 65)) == TokenError::kMalformed);    // prefix longer than a stream id
    CHECK(errorOf(with(9, 255)) == TokenError::kMalformed);
    CHECK(errorOf(with(9, 63)) == TokenError::kMalformed);    // value 3:9 has its low bit set
    std::vector<std::uint8_t> zero_node = body;
    std::fill(zero_node.begin() + 19, zero_node.end(), 0);
    CHECK(errorOf(withBody(token, zero_node)) == TokenError::kMalformed);
    std::vector<std::uint8_t> twice = body;  // node 7 twice
    twice[18] = 2;
    twice.insert(twice.end(), body.begin() + 19, body.end());
    CHECK(errorOf(withBody(token, twice)) == TokenError::kMalformed);
  }
}

TEST_CASE("grants that cannot be signed say why") {
  CHECK_FALSE(grantProblem(kGrant));
  JoinGrant grant = kGrant;
  grant.roles = 0;
  CHECK(grantProblem(grant) == "roles: none (need publish 0x01, subscribe 0x02 or both)");
  grant.roles = 0x05;
  CHECK(grantProblem(grant) == "roles: 0x05 has bits other than publish (0x01) and subscribe (0x02)");
  grant = kGrant;
  grant.scope.prefix_bits = 65;
  CHECK(grantProblem(grant) == "scope.prefix_bits: 65 is more than 64");
  grant.scope = {32, makeStreamId(3, 1)};
  CHECK(grantProblem(grant) == "scope.value: bits below the 32-bit prefix are set");
  grant = kGrant;
  grant.edges.clear();
  CHECK(grantProblem(grant) == "edges: expected 1..8 edges, got 0");
  grant.edges = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  CHECK(grantProblem(grant) == "edges: expected 1..8 edges, got 9");
  grant.edges = {1, 0};
  CHECK(grantProblem(grant) == "edges[1]: node id 0");
  grant.edges = {1, 2, 1};
  CHECK(grantProblem(grant) == "edges[2]: node 1 is listed twice");
}

TEST_CASE("a stream scope contains the stream ids under its prefix") {
  const StreamId id = 0x8123456789abcdefULL;

  SECTION("prefix 0: any stream") {
    CHECK(StreamScope::any() == StreamScope{});
    CHECK(StreamScope::prefix(id, 0) == StreamScope::any());
    for (const StreamId other : {StreamId{0}, id, ~StreamId{0}}) CHECK(StreamScope::any().contains(other));
  }
  SECTION("prefix 1: the top bit") {
    const StreamScope scope = StreamScope::prefix(id, 1);
    CHECK(scope.value == 0x8000000000000000ULL);
    CHECK(scope.contains(id));
    CHECK(scope.contains(0x8000000000000000ULL));
    CHECK(scope.contains(~StreamId{0}));
    CHECK_FALSE(scope.contains(0x7fffffffffffffffULL));
    CHECK_FALSE(scope.contains(0));
  }
  SECTION("prefix 32: every stream of one origin") {
    const StreamScope scope = StreamScope::prefix(makeStreamId(3, 9), 32);
    CHECK(scope == StreamScope{32, makeStreamId(3, 0)});
    CHECK(scope.contains(makeStreamId(3, 0)));
    CHECK(scope.contains(makeStreamId(3, 0xffffffff)));
    CHECK_FALSE(scope.contains(makeStreamId(2, 9)));
    CHECK_FALSE(scope.contains(makeStreamId(4, 0)));
  }
  SECTION("prefix 63: a pair of streams") {
    const StreamScope scope = StreamScope::prefix(id, 63);
    CHECK(scope.value == (id & ~StreamId{1}));
    CHECK(scope.contains(id));
    CHECK(scope.contains(id ^ 1));
    CHECK_FALSE(scope.contains(id ^ 2));
    CHECK_FALSE(scope.contains(id ^ 0x8000000000000000ULL));
  }
  SECTION("prefix 64: exactly one stream") {
    CHECK(StreamScope::exactly(id) == StreamScope{64, id});
    CHECK(StreamScope::prefix(id, 64) == StreamScope::exactly(id));
    CHECK(StreamScope::prefix(id, 200) == StreamScope::exactly(id));  // clamped
    CHECK(StreamScope::exactly(id).contains(id));
    CHECK_FALSE(StreamScope::exactly(id).contains(id ^ 1));
    CHECK_FALSE(StreamScope::exactly(id).contains(id ^ 0x8000000000000000ULL));
    CHECK(StreamScope::exactly(0).contains(0));
    CHECK_FALSE(StreamScope::exactly(0).contains(1));
  }
  SECTION("every prefix survives signing") {
    for (int bits = 0; bits <= 64; ++bits) {
      JoinGrant grant = kGrant;
      grant.scope = StreamScope::prefix(id, static_cast<std::uint8_t>(bits));
      INFO("bits " << bits);
      CHECK(grant.scope.contains(id));
      CHECK(verifyJoinToken(kKey, signJoinToken(kKey, grant, kClient), kNode, kClient, kNow).value() == grant);
    }
  }
}

TEST_CASE("a grant allows a role it has on a stream in its scope") {
  const StreamId stream = makeStreamId(3, 9);
  JoinGrant grant = kGrant;  // subscribe, exactly 3:9
  CHECK(grant.allows(Role::kSubscribe, stream));
  CHECK_FALSE(grant.allows(Role::kPublish, stream));
  CHECK_FALSE(grant.allows(Role::kSubscribe, makeStreamId(3, 10)));

  grant.roles = static_cast<std::uint8_t>(Role::kPublish);
  CHECK(grant.allows(Role::kPublish, stream));
  CHECK_FALSE(grant.allows(Role::kSubscribe, stream));

  grant.roles = kAllRoles;
  grant.scope = StreamScope::any();
  CHECK(grant.allows(Role::kPublish, makeStreamId(1, 1)));
  CHECK(grant.allows(Role::kSubscribe, std::numeric_limits<StreamId>::max()));

  grant.roles = 0;
  CHECK_FALSE(grant.allows(Role::kPublish, stream));
  CHECK_FALSE(grant.allows(Role::kSubscribe, stream));
}

TEST_CASE("errors have stable names") {
  CHECK(toString(TokenError::kMalformed) == "malformed");
  CHECK(toString(TokenError::kBadSignature) == "bad_signature");
  CHECK(toString(TokenError::kExpired) == "expired");
  CHECK(toString(TokenError::kWrongEdge) == "wrong_edge");
}

TEST_CASE("hex keys are parsed strictly") {
  CHECK(parseHexKey("  00112233445566778899AABBCCDDEEFF\n").value().size() == 16);
  CHECK(parseHexKey("00112233445566778899aabbccddeeff").value()[15] == 0xff);
  CHECK(parseHexKey("0011223344556677").error() == "key too short: 8 bytes, need at least 16");
  CHECK(parseHexKey("00112233445566778899aabbccddeef").error() == "odd number of hex digits");
  CHECK(parseHexKey("0011x233445566778899aabbccddeeff").error() == "expected hex digits, got 'x' at offset 4");
  CHECK(parseHexKey("").error() == "key too short: 0 bytes, need at least 16");
}
