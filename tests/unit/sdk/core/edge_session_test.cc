// EdgeSession (sdk/core/edge_session.h): one session with one edge, against
// a FakeEdge that answers as the relay does (relay::ClientGate).

#include "sdk/core/edge_session.h"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "tests/unit/sdk/core/fake_mesh.h"

namespace overline::sdk {
namespace {

using testing::FakeEdge;
using testing::kStart;
using Received = EdgeSession::Received;

const Endpoint kClient(0xC0000201, 5001);
const EdgeSessionTiming kTiming{.hello_retry_us = 200 * kMillisecond,
                                .join_timeout_us = 1 * kSecond,
                                .keepalive_interval_us = 100 * kMillisecond,
                                .dead_after_us = 300 * kMillisecond};

HelloNonce nonceOf(std::uint8_t fill) {
  HelloNonce nonce{};
  nonce.fill(std::byte{fill});
  return nonce;
}

std::span<const std::byte> bytes(const wire::PacketBuffer& buffer, std::size_t size) {
  return std::span<const std::byte>(buffer.data(), size);
}

// Sends the session's due HELLO to `edge` and hands the edge's answers back;
// returns what the session made of the last one (nullopt: none due or no answer).
std::optional<Received> exchangeHello(EdgeSession& session, FakeEdge& edge, TimeUs now) {
  wire::PacketBuffer hello;
  const std::size_t size = session.takeDueHello(now, hello);
  if (size == 0) return std::nullopt;
  std::vector<FakeEdge::Out> answers;
  std::vector<std::byte> payload;
  edge.receive(kClient, bytes(hello, size), now, answers, payload);
  std::optional<Received> last;
  for (const FakeEdge::Out& answer : answers) {
    const auto parsed = wire::parsePacket(answer.bytes);
    REQUIRE(parsed.ok());
    last = session.onPacket(*parsed, now);
  }
  return last;
}

// Joins `session` at `edge` at `now`: HELLO, CHALLENGE, HELLO, WELCOME.
void join(EdgeSession& session, FakeEdge& edge, TimeUs now) {
  REQUIRE(exchangeHello(session, edge, now) == Received::kChallenged);
  REQUIRE(exchangeHello(session, edge, now) == Received::kJoined);
  REQUIRE(session.joined());
}

Received feed(EdgeSession& session, std::span<const std::byte> datagram, TimeUs now) {
  const auto parsed = wire::parsePacket(datagram);
  REQUIRE(parsed.ok());
  return session.onPacket(*parsed, now);
}

TEST_CASE("EdgeSession: the join's HELLO is retried, then given up", "[edge_session]") {
  EdgeSession session(Endpoint(0x0A000001, 7000), nonceOf(1), "v2.t.m", kTiming, kStart);
  CHECK(session.nextDeadline() == kStart);
  wire::PacketBuffer hello;
  const std::size_t size = session.takeDueHello(kStart, hello);
  REQUIRE(size > 0);
  const auto parsed = wire::parsePacket(bytes(hello, size));
  REQUIRE(parsed.ok());
  CHECK(parsed->header.type == wire::PacketType::kHello);
  CHECK_FALSE(parsed->header.tagged());
  CHECK(parsed->payload.size() == wire::kMinHelloPayloadBytes + 6);  // nonce, no cookie, the token

  CHECK(session.takeDueHello(kStart + 199 * kMillisecond, hello) == 0);
  CHECK(session.nextDeadline() == kStart + 200 * kMillisecond);
  CHECK(session.takeDueHello(kStart + 200 * kMillisecond, hello) > 0);
  CHECK_FALSE(session.expired(kStart + kSecond - 1));
  CHECK(session.expired(kStart + kSecond));
  CHECK(session.takeDueHello(kStart + kSecond, hello) == 0);  // over: nothing more
}

TEST_CASE("EdgeSession: joins, keeps alive with tagged HELLOs the edge verifies", "[edge_session]") {
  FakeEdge edge(1, Endpoint(0x0A000001, 7000));
  EdgeSession session(edge.endpoint(), nonceOf(2), "tok", kTiming, kStart);
  join(session, edge, kStart);
  CHECK(session.edgeNode() == 1);
  CHECK(session.reflexiveAddress() == kClient);
  CHECK(session.joinedAt() == kStart);
  CHECK(session.nextDeadline() == kStart + 100 * kMillisecond);  // the first keepalive

  // Keepalives every 100 ms, tagged, with the token; each answered.
  for (int i = 1; i <= 5; ++i) {
    const TimeUs now = kStart + i * 100 * kMillisecond;
    CHECK(exchangeHello(session, edge, now) == Received::kKeepaliveAnswer);
    CHECK_FALSE(session.expired(now + 299 * kMillisecond));
  }
  CHECK(edge.badTags() == 0);
  const auto& last = edge.received().back();
  CHECK(last.header.type == wire::PacketType::kHello);
  CHECK(last.header.tagged());
  CHECK(last.payload.size() == wire::kMinHelloPayloadBytes + 3);

  session.setJoinToken("fresher");
  CHECK(exchangeHello(session, edge, kStart + 600 * kMillisecond) == Received::kKeepaliveAnswer);
  const auto& renewed = edge.received().back().payload;
  CHECK(std::string(reinterpret_cast<const char*>(renewed.data()) + wire::kMinHelloPayloadBytes, 7) == "fresher");
}

TEST_CASE("EdgeSession: dead after dead_after_us without a valid packet", "[edge_session]") {
  FakeEdge edge(1, Endpoint(0x0A000001, 7000));
  EdgeSession session(edge.endpoint(), nonceOf(3), "", kTiming, kStart);
  join(session, edge, kStart);
  edge.answer_keepalives = false;

  // Silence: keepalives go out unanswered; dead exactly 300 ms after the WELCOME.
  CHECK_FALSE(exchangeHello(session, edge, kStart + 100 * kMillisecond).has_value());
  CHECK_FALSE(exchangeHello(session, edge, kStart + 200 * kMillisecond).has_value());
  CHECK(session.nextDeadline() == kStart + 300 * kMillisecond);
  CHECK_FALSE(session.expired(kStart + 300 * kMillisecond - 1));

  // Forged packets from the edge's address keep nothing alive.
  wire::Header data;
  data.type = wire::PacketType::kData;
  data.sender_node_id = 1;
  wire::PacketBuffer untagged;
  CHECK(feed(session, bytes(untagged, wire::encodePacket(data, {}, untagged)), kStart + 250 * kMillisecond) ==
        Received::kUnauthenticated);
  FakeEdge impostor(1, edge.endpoint());  // the same address, another session key
  EdgeSession other(edge.endpoint(), nonceOf(4), "", kTiming, kStart);
  join(other, impostor, kStart);
  CHECK(feed(session, impostor.tagged(kClient, data), kStart + 260 * kMillisecond) == Received::kUnauthenticated);
  CHECK(session.expired(kStart + 300 * kMillisecond));

  // A valid tagged packet from the edge before that would have kept it alive.
  EdgeSession alive(edge.endpoint(), nonceOf(5), "", kTiming, kStart);
  join(alive, edge, kStart);
  CHECK(feed(alive, edge.tagged(kClient, data), kStart + 250 * kMillisecond) == Received::kData);
  CHECK_FALSE(alive.expired(kStart + 300 * kMillisecond));
  CHECK(alive.expired(kStart + 550 * kMillisecond));
}

TEST_CASE("EdgeSession: a flood of CHALLENGEs gets no more HELLOs than the retry timer", "[edge_session]") {
  FakeEdge edge(1, Endpoint(0x0A000001, 7000));
  EdgeSession session(edge.endpoint(), nonceOf(9), "", kTiming, kStart);
  wire::PacketBuffer hello;
  const std::size_t size = session.takeDueHello(kStart, hello);
  REQUIRE(size > 0);
  std::vector<FakeEdge::Out> answers;
  std::vector<std::byte> payload;
  edge.receive(kClient, bytes(hello, size), kStart, answers, payload);
  REQUIRE(answers.size() == 1);
  const std::vector<std::byte> challenge = answers[0].bytes;

  CHECK(feed(session, challenge, kStart + 1) == Received::kChallenged);
  CHECK(session.takeDueHello(kStart + 1, hello) > 0);  // the cookie echoed at once
  for (int i = 0; i < 100; ++i) CHECK(feed(session, challenge, kStart + 2) == Received::kChallenged);
  CHECK(session.takeDueHello(kStart + 2, hello) == 0);
  CHECK(session.nextDeadline() == kStart + 1 + 200 * kMillisecond);  // the retry, with the cookie
}

TEST_CASE("EdgeSession: replays, strays and other types", "[edge_session]") {
  FakeEdge edge(1, Endpoint(0x0A000001, 7000));
  EdgeSession session(edge.endpoint(), nonceOf(6), "", kTiming, kStart);

  wire::Header subscribe;
  subscribe.type = wire::PacketType::kSubscribe;
  subscribe.sender_node_id = 1;
  // Before the join nothing tagged is believed (here: tagged for an earlier session).
  EdgeSession earlier(edge.endpoint(), nonceOf(8), "", kTiming, kStart);
  join(earlier, edge, kStart);
  CHECK(feed(session, edge.tagged(kClient, subscribe), kStart) == Received::kUnauthenticated);

  join(session, edge, kStart);
  const std::vector<std::byte> packet = edge.tagged(kClient, subscribe);
  CHECK(feed(session, packet, kStart) == Received::kOtherType);
  CHECK(feed(session, packet, kStart) == Received::kUnauthenticated);  // replayed

  // A CHALLENGE or WELCOME once joined is a stray.
  wire::Header challenge;
  challenge.type = wire::PacketType::kChallenge;
  challenge.sender_node_id = 1;
  wire::PacketBuffer buffer;
  const HelloCookie cookie{};
  CHECK(feed(session, bytes(buffer, wire::encodePacket(challenge, cookie, buffer)), kStart) ==
        Received::kStrayJoinAnswer);

  // Tagging needs a joined session.
  EdgeSession joining(edge.endpoint(), nonceOf(7), "", kTiming, kStart);
  wire::PacketBuffer out;
  CHECK(joining.seal(out, wire::encodePacket(subscribe, {}, out)) == 0);
}

}  // namespace
}  // namespace overline::sdk
