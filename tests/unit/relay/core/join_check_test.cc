// Join tokens at the relay: checkJoin on its own, and RelayCore with a
// JoinPolicy, driven with a fake wall clock. Clients are
// test::clientEndpoint(n) = 192.168.0.n:(5000 + n).

#include "relay/core/join_check.h"

#include <catch2/catch.hpp>
#include <limits>
#include <string>

#include "common/token/join_token.h"
#include "relay/core/relay_core.h"
#include "tests/unit/relay/core/test_network.h"
#include "tests/unit/relay/core/test_peers.h"

namespace overline::relay {
namespace {

using test::Bytes;
using test::clientEndpoint;
using test::RecordingSink;
using wire::PacketType;

constexpr NodeId kSelf = 1;
constexpr std::int64_t kNowUnixS = 1'900'000'000;
const std::vector<std::uint8_t> kKey = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};

RelayCoreConfig configWith(JoinPolicy policy) {
  RelayCoreConfig config;
  config.node_id = kSelf;
  config.line_count = 1;
  config.join = std::move(policy);
  return config;
}

Bytes helloWith(std::string_view token) {
  wire::Header header;
  header.type = PacketType::kHello;
  wire::PacketBuffer buffer;
  const std::size_t size =
      wire::encodePacket(header, std::as_bytes(std::span(token.data(), token.size())), buffer);
  return Bytes(buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(size));
}

token::JoinGrant grantFor(std::vector<NodeId> edges, std::int64_t expires_unix_s) {
  token::JoinGrant grant;
  grant.expires_unix_s = expires_unix_s;
  grant.roles = static_cast<std::uint8_t>(token::Role::kSubscribe);
  grant.scope = token::StreamScope::prefix(makeStreamId(5, 0), 32);
  grant.edges = std::move(edges);
  return grant;
}

std::string tokenFor(NodeId node, std::string_view client_address, std::int64_t expires_unix_s) {
  return token::signJoinToken(kKey, grantFor({node}, expires_unix_s), client_address);
}

std::span<const std::byte> bytesOf(std::string_view text) { return std::as_bytes(std::span(text.data(), text.size())); }

struct Relay {
  explicit Relay(JoinPolicy policy) : core(test::withTestAuth(configWith(std::move(policy))), sink), peers(core.nodeId()) {
    core.setWallClockUs(kNowUnixS * kSecond);
  }
  void fromClient(std::uint32_t client, const Bytes& packet) {
    core.onDatagram(0, clientEndpoint(client), peers.fromClient(clientEndpoint(client), packet, now), now);
  }
  std::uint64_t badTokens() const {
    return core.counters().dropped[static_cast<std::size_t>(DropReason::kBadToken)];
  }

  RecordingSink sink;  // declared before `core`, which keeps a reference
  RelayCore core;
  test::TestPeers peers;  // the neighbours and clients, tagging as real ones do
  TimeUs now = 1000 * kSecond;  // monotonic; unrelated to the wall clock
};

const JoinPolicy kRequired{kKey, true};

TEST_CASE("checkJoin returns the grant of a token that verifies for this node, address and time") {
  const token::JoinGrant grant = grantFor({kSelf + 1, kSelf}, kNowUnixS + 60);
  const std::string token = token::signJoinToken(kKey, grant, "192.168.0.1");
  const auto checked = checkJoin(kRequired, kSelf, clientEndpoint(1), bytesOf(token), kNowUnixS * kSecond);
  REQUIRE(checked.ok());
  CHECK(checked.value() == grant);
  CHECK(checked.value().allows(token::Role::kSubscribe, makeStreamId(5, 3)));
  CHECK_FALSE(checked.value().allows(token::Role::kPublish, makeStreamId(5, 3)));
  CHECK_FALSE(checked.value().allows(token::Role::kSubscribe, makeStreamId(6, 3)));
  // Any port of the signed address; the wall clock's microseconds below a second do not matter.
  CHECK(checkJoin(kRequired, kSelf, clientEndpoint(1).withPort(9999), bytesOf(token),
                  (kNowUnixS + 59) * kSecond + 999'999)
            .ok());
}

TEST_CASE("checkJoin says why it refuses a token") {
  const std::string token = tokenFor(kSelf, "192.168.0.1", kNowUnixS + 60);
  const auto error = [&](std::string_view presented, NodeId node, std::uint32_t client,
                         std::optional<TimeUs> wall_now_us) {
    const auto checked = checkJoin(kRequired, node, clientEndpoint(client), bytesOf(presented), wall_now_us);
    REQUIRE_FALSE(checked.ok());
    return checked.error();
  };
  const TimeUs now_us = kNowUnixS * kSecond;
  CHECK(error("", kSelf, 1, now_us) == token::TokenError::kMalformed);
  CHECK(error("hello", kSelf, 1, now_us) == token::TokenError::kMalformed);
  CHECK(error(token, kSelf, 2, now_us) == token::TokenError::kBadSignature);
  CHECK(error(token, kSelf + 1, 1, now_us) == token::TokenError::kWrongEdge);
  CHECK(error(token, kSelf, 1, (kNowUnixS + 60) * kSecond) == token::TokenError::kExpired);
  // No wall clock yet: no expiry can be checked.
  CHECK(error(token, kSelf, 1, std::nullopt) == token::TokenError::kExpired);
}

TEST_CASE("without a key or a required token checkJoin grants everything at this node") {
  token::JoinGrant unrestricted;
  unrestricted.expires_unix_s = std::numeric_limits<std::int64_t>::max();
  unrestricted.roles =
      static_cast<std::uint8_t>(token::Role::kPublish) | static_cast<std::uint8_t>(token::Role::kSubscribe);
  unrestricted.scope = token::StreamScope::any();
  unrestricted.edges = {kSelf};
  for (const JoinPolicy& policy : {JoinPolicy{}, JoinPolicy{kKey, false}, JoinPolicy{{}, true}}) {
    for (const std::string_view presented : {std::string_view(), std::string_view("not a token")}) {
      const auto checked = checkJoin(policy, kSelf, clientEndpoint(1), bytesOf(presented), std::nullopt);
      REQUIRE(checked.ok());
      CHECK(checked.value() == unrestricted);
      CHECK(checked.value().allows(token::Role::kPublish, std::numeric_limits<StreamId>::max()));
    }
  }
}

TEST_CASE("A HELLO with a valid join token (for this node among others) joins and gets a WELCOME") {
  Relay relay(kRequired);
  const Bytes hello =
      helloWith(token::signJoinToken(kKey, grantFor({kSelf + 3, kSelf}, kNowUnixS + 60), "192.168.0.1"));
  relay.fromClient(1, hello);

  REQUIRE(relay.sink.sent.size() == 1);
  CHECK(relay.sink.sent[0].to == clientEndpoint(1));
  CHECK(relay.sink.sent[0].header().type == PacketType::kWelcome);
  CHECK(relay.sink.sent[0].bytes.size() == wire::kHeaderBytes + wire::kWelcomePayloadBytes);
  CHECK(relay.sink.sent[0].bytes.size() < hello.size());
  CHECK(relay.sink.sent[0].header().sender_node_id == kSelf);
  CHECK(relay.core.gauges().clients == 1);
  CHECK(relay.core.counters().droppedTotal() == 0);

  SECTION("keepalives keep the session while the token is valid") {
    relay.core.setWallClockUs((kNowUnixS + 59) * kSecond);
    relay.fromClient(1, test::makeControl(PacketType::kHello, 0));
    CHECK(relay.sink.sent.size() == 2);
    CHECK(relay.core.gauges().clients == 1);
  }
  SECTION("the session ends when its token expires: its packets are dropped") {
    relay.core.setWallClockUs((kNowUnixS + 60) * kSecond);
    relay.fromClient(1, test::makeControl(PacketType::kHello, 0));
    CHECK(relay.sink.sent.size() == 1);
    CHECK(relay.core.counters().dropped[static_cast<std::size_t>(DropReason::kTokenExpired)] == 1);
    CHECK(relay.core.counters().client_tokens_expired == 1);
    CHECK(relay.core.gauges().clients == 0);
  }
  SECTION("the tick ends an expired session without any packet") {
    relay.core.setWallClockUs((kNowUnixS + 61) * kSecond);
    relay.now += 61 * kSecond;
    relay.core.onTick(relay.now);
    CHECK(relay.core.gauges().clients == 0);
    CHECK(relay.core.counters().client_tokens_expired == 1);
  }
  SECTION("a fresh token in a keepalive extends the session") {
    const std::string fresh =
        token::signJoinToken(kKey, grantFor({kSelf}, kNowUnixS + 600), "192.168.0.1");
    relay.fromClient(1, helloWith(std::string(wire::kMinHelloPayloadBytes, '\0') + fresh));
    CHECK(relay.core.counters().client_tokens_renewed == 1);
    relay.core.setWallClockUs((kNowUnixS + 300) * kSecond);
    relay.fromClient(1, test::makeControl(PacketType::kHello, 0));
    CHECK(relay.core.gauges().clients == 1);
    CHECK(relay.core.counters().client_tokens_expired == 0);
  }
}

TEST_CASE("A joining HELLO without a valid token is dropped as bad_token, unanswered") {
  Relay relay(kRequired);
  std::string token;
  SECTION("missing") {}
  SECTION("expired") { token = tokenFor(kSelf, "192.168.0.1", kNowUnixS); }
  SECTION("tampered") {
    token = tokenFor(kSelf, "192.168.0.1", kNowUnixS + 60);
    token.back() = token.back() == 'A' ? 'B' : 'A';
  }
  SECTION("for other nodes") {
    token = token::signJoinToken(kKey, grantFor({kSelf + 1, kSelf + 2}, kNowUnixS + 60), "192.168.0.1");
  }
  SECTION("for another client address") { token = tokenFor(kSelf, "192.168.0.2", kNowUnixS + 60); }
  SECTION("signed with another key") {
    const std::vector<std::uint8_t> other(kKey.size(), 0x55);
    token = token::signJoinToken(other, grantFor({kSelf}, kNowUnixS + 60), "192.168.0.1");
  }
  SECTION("not a token") { token = "hello"; }
  relay.fromClient(1, helloWith(token));

  CHECK(relay.sink.sent.empty());
  CHECK(relay.badTokens() == 1);
  CHECK(relay.core.gauges().clients == 0);
  // Not joined: its other packets are from an unknown source.
  relay.fromClient(1, test::makeControl(PacketType::kSubscribe, makeStreamId(kSelf, 1)));
  CHECK(relay.core.counters().dropped[static_cast<std::size_t>(DropReason::kUnknownSource)] == 1);
}

TEST_CASE("The token binds the client's address, not its port") {
  Relay relay(kRequired);
  // clientEndpoint(1) and another port on the same address.
  relay.core.onDatagram(0, clientEndpoint(1).withPort(9999),
                        relay.peers.fromClient(clientEndpoint(1).withPort(9999),
                                               helloWith(tokenFor(kSelf, "192.168.0.1", kNowUnixS + 60)), relay.now),
                        relay.now);
  CHECK(relay.sink.sent.size() == 1);
  CHECK(relay.badTokens() == 0);
}

TEST_CASE("Without a wall-clock time a required token admits nobody") {
  RecordingSink sink;
  RelayCore core(test::withTestAuth(configWith(kRequired)), sink);
  test::TestPeers peers(kSelf);
  core.onDatagram(0, clientEndpoint(1),
                  peers.fromClient(clientEndpoint(1), helloWith(tokenFor(kSelf, "192.168.0.1", kNowUnixS + 60)), 0), 0);
  CHECK(sink.sent.empty());
  CHECK(core.counters().dropped[static_cast<std::size_t>(DropReason::kBadToken)] == 1);
}

TEST_CASE("Without a join policy every client joins, token or not") {
  Relay relay(JoinPolicy{});
  relay.fromClient(1, test::makeControl(PacketType::kHello, 0));
  relay.fromClient(2, helloWith("not a token"));
  CHECK(relay.sink.sent.size() == 2);
  CHECK(relay.core.gauges().clients == 2);
  CHECK(relay.badTokens() == 0);

  SECTION("nor with require_token false") {
    Relay lax(JoinPolicy{kKey, false});
    lax.fromClient(1, test::makeControl(PacketType::kHello, 0));
    CHECK(lax.core.gauges().clients == 1);
  }
}

}  // namespace
}  // namespace overline::relay
