// Join tokens at the relay: RelayCore with a JoinPolicy, driven with a fake
// wall clock. Clients are test::clientEndpoint(n) = 192.168.0.n:(5000 + n).

#include <catch2/catch.hpp>
#include <string>

#include "common/token/join_token.h"
#include "relay/core/relay_core.h"
#include "tests/unit/relay/core/test_network.h"

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

std::string tokenFor(NodeId node, std::string_view client_address, std::int64_t expires_unix_s) {
  return token::signJoinToken(kKey, node, client_address, expires_unix_s);
}

struct Relay {
  explicit Relay(JoinPolicy policy) : core(configWith(std::move(policy)), sink) {
    core.setWallClockUs(kNowUnixS * kSecond);
  }
  void fromClient(std::uint32_t client, const Bytes& packet) {
    core.onDatagram(0, clientEndpoint(client), packet, now);
  }
  std::uint64_t badTokens() const {
    return core.counters().dropped[static_cast<std::size_t>(DropReason::kBadToken)];
  }

  RecordingSink sink;  // declared before `core`, which keeps a reference
  RelayCore core;
  TimeUs now = 1000 * kSecond;  // monotonic; unrelated to the wall clock
};

const JoinPolicy kRequired{kKey, true};

TEST_CASE("A HELLO with a valid join token joins and gets a header-only reply") {
  Relay relay(kRequired);
  const Bytes hello = helloWith(tokenFor(kSelf, "192.168.0.1", kNowUnixS + 60));
  relay.fromClient(1, hello);

  REQUIRE(relay.sink.sent.size() == 1);
  CHECK(relay.sink.sent[0].to == clientEndpoint(1));
  CHECK(relay.sink.sent[0].bytes.size() == wire::kHeaderBytes);
  CHECK(relay.sink.sent[0].bytes.size() < hello.size());
  CHECK(relay.sink.sent[0].header().sender_node_id == kSelf);
  CHECK(relay.core.gauges().clients == 1);
  CHECK(relay.core.counters().droppedTotal() == 0);

  SECTION("keepalives of a joined client are not checked again, even after the token expired") {
    relay.core.setWallClockUs((kNowUnixS + 3600) * kSecond);
    relay.fromClient(1, test::makeControl(PacketType::kHello, 0));
    CHECK(relay.sink.sent.size() == 2);
    CHECK(relay.badTokens() == 0);
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
  SECTION("for another node") { token = tokenFor(kSelf + 1, "192.168.0.1", kNowUnixS + 60); }
  SECTION("for another client address") { token = tokenFor(kSelf, "192.168.0.2", kNowUnixS + 60); }
  SECTION("signed with another key") {
    const std::vector<std::uint8_t> other(kKey.size(), 0x55);
    token = token::signJoinToken(other, kSelf, "192.168.0.1", kNowUnixS + 60);
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
  relay.core.onDatagram(0, clientEndpoint(1).withPort(9999), helloWith(tokenFor(kSelf, "192.168.0.1", kNowUnixS + 60)),
                        relay.now);
  CHECK(relay.sink.sent.size() == 1);
  CHECK(relay.badTokens() == 0);
}

TEST_CASE("Without a wall-clock time a required token admits nobody") {
  RecordingSink sink;
  RelayCore core(configWith(kRequired), sink);
  core.onDatagram(0, clientEndpoint(1), helloWith(tokenFor(kSelf, "192.168.0.1", kNowUnixS + 60)), 0);
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
