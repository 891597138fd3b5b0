// SessionCore (sdk/core/session_core.h) with one edge at a time: the join,
// keepalives, publishing, subscribing, playout, what it drops and counts.
// Moves between edges: session_failover_test.cc; two at once:
// session_dual_home_test.cc.

#include "sdk/core/session_core.h"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "tests/unit/sdk/core/fake_mesh.h"

namespace overline::sdk {
namespace {

using testing::bytesOf;
using testing::connectedTo;
using testing::joinedAt;
using testing::FakeClient;
using testing::FakeEdge;
using testing::FakeMesh;
using testing::kStart;
using testing::wallOf;
using wire::PacketType;

std::vector<std::uint32_t> sequencesOf(const std::vector<testing::RecordedData>& data) {
  std::vector<std::uint32_t> out;
  for (const auto& d : data) out.push_back(d.header.sequence);
  return out;
}

SessionConfig onlyAt(const FakeEdge& edge) {
  SessionConfig config;
  config.candidates = {{edge.endpoint(), ""}};
  return config;
}

TEST_CASE("SessionCore joins its first candidate and reports it", "[session_core]") {
  FakeMesh mesh;
  FakeEdge& e1 = mesh.addEdge(1);
  FakeEdge& e2 = mesh.addEdge(2);
  FakeClient& client = mesh.addClient({});
  SessionCore& core = *client.core;

  // Nothing before the first tick, which is due at once.
  CHECK(core.nextDeadline() == kStart);
  CHECK(client.sink.outbox.empty());
  CHECK_FALSE(core.connected());
  CHECK(core.edgeNode() == kNoNode);
  CHECK_FALSE(core.publish(7, {}));  // no edge yet: the stream's id is not known

  mesh.advanceTo(kStart);  // HELLO, CHALLENGE, HELLO, WELCOME: no delay in the fake mesh
  CHECK(core.connected());
  CHECK(core.edgeNode() == 1);
  CHECK(core.originNode() == 1);
  CHECK(core.edgeEndpoint() == e1.endpoint());
  CHECK(core.reflexiveAddress() == client.address);
  CHECK(client.sink.events == std::vector<SessionEvent>{joinedAt(e1), connectedTo(kNoNode, e1)});
  CHECK(core.edges() == std::vector<EdgeStatus>{{e1.endpoint(), 1, client.address, true}});
  CHECK(e1.count(PacketType::kHello) == 2);
  CHECK(e2.received().empty());
  CHECK(core.publish(7, {}).value() == makeStreamId(1, 7));

  // A tagged keepalive every 100 ms, each answered.
  mesh.advanceTo(kStart + kSecond);
  CHECK(e1.count(PacketType::kHello) == 2 + 10);
  CHECK(e1.badTags() == 0);
  const SessionCounters counters = core.counters();
  CHECK(counters.joins == 1);
  CHECK(counters.hello_replies == 10);
  CHECK(counters.packets_sent == 12);
  CHECK(counters.packets_received == 2 + 10);
  CHECK(counters.dead_edges == 0);
  CHECK(client.sink.events.size() == 2);
}

TEST_CASE("SessionCore retries the join's HELLO and carries the token", "[session_core]") {
  FakeMesh mesh;
  FakeEdge& e1 = mesh.addEdge(1);
  SessionConfig config;
  config.candidates = {{e1.endpoint(), "v2.grant.mac"}};
  FakeClient& client = mesh.addClient(config);
  e1.up = false;
  mesh.advanceTo(kStart + 500 * kMillisecond);
  CHECK(client.sink.outbox.empty());  // delivered to a silent edge: HELLO at 0, 200, 400 ms
  CHECK(client.core->counters().packets_sent == 3);
  e1.up = true;
  mesh.advanceTo(kStart + 600 * kMillisecond);
  REQUIRE(client.core->connected());
  // Both join HELLOs carry the token.
  for (const auto& hello : e1.received()) {
    REQUIRE(hello.payload.size() == wire::kMinHelloPayloadBytes + 12);
    CHECK(std::string(reinterpret_cast<const char*>(hello.payload.data()) + wire::kMinHelloPayloadBytes, 12) ==
          "v2.grant.mac");
  }
  // A fresher token goes into the next keepalive.
  REQUIRE(client.core->setJoinToken("v2.fresher.mac"));
  CHECK_FALSE(client.core->setJoinToken(std::string(wire::kMaxJoinTokenBytes + 1, 'x')));
  mesh.advanceTo(kStart + 700 * kMillisecond);
  const auto& keepalive = e1.received().back();
  CHECK(keepalive.header.tagged());
  CHECK(std::string(reinterpret_cast<const char*>(keepalive.payload.data()) + wire::kMinHelloPayloadBytes,
                    keepalive.payload.size() - wire::kMinHelloPayloadBytes) == "v2.fresher.mac");
}

TEST_CASE("SessionCore publishes DATA and delivers a subscription's DATA in order", "[session_core]") {
  FakeMesh mesh;
  FakeEdge& e1 = mesh.addEdge(1);
  FakeEdge& e2 = mesh.addEdge(2);
  FakeClient& publisher = mesh.addClient(onlyAt(e1));
  FakeClient& subscriber = mesh.addClient(onlyAt(e2));
  mesh.advanceTo(kStart);
  const StreamId stream = publisher.core->publish(7, {.latency_budget_us = 120 * kMillisecond}).value();
  const auto subscription = subscriber.core->subscribe(stream, {.arrivals = true});
  REQUIRE(subscription);
  mesh.deliver();
  CHECK(e2.subscribed(subscriber.address, stream));

  for (int i = 0; i < 5; ++i) {
    REQUIRE(publisher.core->send(stream, bytesOf({i, 0xAB}), wallOf(mesh.now())));
    mesh.deliver();
  }
  CHECK(e1.dataSequences(stream) == std::vector<std::uint32_t>{0, 1, 2, 3, 4});
  const auto& first = e1.received().back().header;
  CHECK(first.latency_budget == 12);
  CHECK(first.hop_limit == wire::kDefaultHopLimit);
  CHECK(first.sender_node_id == kNoNode);
  const auto& deliveries = subscriber.sink.deliveries;
  REQUIRE(deliveries.size() == 5);
  CHECK(sequencesOf(deliveries) == std::vector<std::uint32_t>{0, 1, 2, 3, 4});
  CHECK(deliveries[3].payload == bytesOf({3, 0xAB}));
  CHECK(deliveries[3].subscription == *subscription);
  CHECK(deliveries[3].stream == stream);
  CHECK(deliveries[3].header.sender_node_id == 2);
  CHECK(subscriber.sink.arrivals.size() == 5);
  CHECK(subscriber.core->counters().data_delivered == 5);

  // Not published, too large: false, no sequence used.
  CHECK_FALSE(publisher.core->send(makeStreamId(1, 8), bytesOf({1}), wallOf(mesh.now())));
  CHECK_FALSE(publisher.core->send(stream, std::vector<std::byte>(wire::kMaxPayloadBytes + 1), wallOf(mesh.now())));
  REQUIRE(publisher.core->send(stream, {}, wallOf(mesh.now())));
  mesh.deliver();
  CHECK(e1.dataSequences(stream).back() == 5);
}

TEST_CASE("SessionCore playout waits for a gap, then gives it up at its deadline", "[session_core]") {
  FakeMesh mesh;
  FakeEdge& e1 = mesh.addEdge(1);
  FakeClient& client = mesh.addClient(onlyAt(e1));
  mesh.advanceTo(kStart);
  const StreamId stream = makeStreamId(9, 1);
  REQUIRE(client.core->subscribe(stream, {.default_latency_budget_us = 50 * kMillisecond}));
  const auto data = [&](std::uint32_t sequence) {
    wire::Header header;
    header.type = PacketType::kData;
    header.sender_node_id = 1;
    header.stream_id = stream;
    header.sequence = sequence;
    header.timestamp_us = wallOf(kStart) + sequence * 1000;
    mesh.inject(client, e1.endpoint(), e1.tagged(client.address, header, bytesOf({1})));
  };
  data(0);
  data(2);
  data(3);
  CHECK(sequencesOf(client.sink.deliveries) == std::vector<std::uint32_t>{0});
  CHECK(client.core->counters().playout_held == 2);
  // 1's deadline: its interpolated send time + 50 ms; the core wakes for it.
  CHECK(client.core->nextDeadline() <= kStart + 51 * kMillisecond);
  mesh.advanceTo(kStart + 52 * kMillisecond);
  CHECK(sequencesOf(client.sink.deliveries) == std::vector<std::uint32_t>{0, 2, 3});
  const SessionCounters counters = client.core->counters();
  CHECK(counters.playout_lost == 1);
  CHECK(counters.playout_reordered == 2);
  CHECK(counters.playout_held == 0);
  data(1);  // too late now
  CHECK(client.core->counters().playout_late == 1);
}

TEST_CASE("SessionCore refreshes subscriptions and unsubscribes", "[session_core]") {
  FakeMesh mesh;
  FakeEdge& e1 = mesh.addEdge(1);
  FakeClient& client = mesh.addClient(onlyAt(e1));
  const StreamId stream = makeStreamId(5, 5);
  // Subscribing before the join: the SUBSCRIBE goes out when it completes.
  const auto first = client.core->subscribe(stream, {});
  REQUIRE(first);
  mesh.advanceTo(kStart);
  CHECK(e1.count(PacketType::kSubscribe, stream) == 1);
  mesh.advanceTo(kStart + 1100 * kMillisecond);
  CHECK(e1.count(PacketType::kSubscribe, stream) == 3);  // refreshed at 500 and 1000 ms

  // Again: a new id, and one more SUBSCRIBE at once.
  const auto second = client.core->subscribe(stream, {.playout = false});
  REQUIRE(second);
  CHECK(*second != *first);
  mesh.deliver();
  CHECK(e1.count(PacketType::kSubscribe, stream) == 4);

  client.core->unsubscribe(stream);
  mesh.deliver();
  CHECK(e1.count(PacketType::kUnsubscribe, stream) == 1);
  CHECK_FALSE(e1.subscribed(client.address, stream));
  mesh.advanceTo(kStart + 3 * kSecond);
  CHECK(e1.count(PacketType::kSubscribe, stream) == 4);
  client.core->unsubscribe(stream);  // not subscribed: nothing
  mesh.deliver();
  CHECK(e1.count(PacketType::kUnsubscribe, stream) == 1);

  // Invalid options change nothing.
  const auto bad = client.core->subscribe(stream, {.default_latency_budget_us = 3 * kSecond});
  REQUIRE_FALSE(bad);
  CHECK(bad.error().find("latency budget") != std::string::npos);
}

TEST_CASE("SessionCore drops what is not from its edge session, and counts it", "[session_core]") {
  FakeMesh mesh;
  FakeEdge& e1 = mesh.addEdge(1);
  FakeEdge& e2 = mesh.addEdge(2);
  FakeClient& client = mesh.addClient(onlyAt(e1));
  mesh.advanceTo(kStart);
  const StreamId stream = makeStreamId(9, 9);
  REQUIRE(client.core->subscribe(stream, {.playout = false}));
  mesh.deliver();

  wire::Header data;
  data.type = PacketType::kData;
  data.sender_node_id = 1;
  data.stream_id = stream;
  data.timestamp_us = wallOf(kStart);
  const std::vector<std::byte> valid = e1.tagged(client.address, data, bytesOf({1, 2}));

  // A valid packet from another address (a forged source, or an edge the
  // client has no session with): unknown_source.
  mesh.inject(client, Endpoint(0x0A000063, 7000), valid);
  mesh.inject(client, e2.endpoint(), valid);
  // The edge's address, but untagged, tampered with, or tagged by another session.
  wire::PacketBuffer untagged;
  mesh.inject(client, e1.endpoint(), std::span(untagged.data(), wire::encodePacket(data, bytesOf({1, 2}), untagged)));
  std::vector<std::byte> tampered = valid;
  tampered[wire::kHeaderBytes] ^= std::byte{1};
  mesh.inject(client, e1.endpoint(), tampered);
  // Malformed.
  mesh.inject(client, e1.endpoint(), bytesOf({0x4F, 2, 1}));
  // A join answer nobody waits for, and a valid packet of a type a client does not take.
  wire::Header challenge;
  challenge.type = PacketType::kChallenge;
  challenge.sender_node_id = 1;
  wire::PacketBuffer buffer;
  const HelloCookie cookie{};
  mesh.inject(client, e1.endpoint(), std::span(buffer.data(), wire::encodePacket(challenge, cookie, buffer)));
  wire::Header subscribe;
  subscribe.type = PacketType::kSubscribe;
  mesh.inject(client, e1.endpoint(), e1.tagged(client.address, subscribe));
  // DATA of a stream not subscribed.
  wire::Header other = data;
  other.stream_id = makeStreamId(9, 10);
  mesh.inject(client, e1.endpoint(), e1.tagged(client.address, other));
  CHECK(client.sink.deliveries.empty());

  // The genuine one, then its replay.
  mesh.inject(client, e1.endpoint(), valid);
  mesh.inject(client, e1.endpoint(), valid);
  CHECK(client.sink.deliveries.size() == 1);

  const SessionCounters counters = client.core->counters();
  CHECK(counters.unknown_source == 2);
  CHECK(counters.unauthenticated == 3);  // untagged, tampered, replayed
  CHECK(counters.malformed == 1);
  CHECK(counters.unexpected_type == 2);
  CHECK(counters.unknown_stream == 1);
  CHECK(counters.data_delivered == 1);
  // None of it touched the session.
  CHECK(client.core->connected());
  CHECK(client.sink.events.size() == 2);
}

TEST_CASE("SessionCore counts datagrams the socket refused", "[session_core]") {
  FakeMesh mesh;
  FakeEdge& e1 = mesh.addEdge(1);
  FakeClient& client = mesh.addClient(onlyAt(e1));
  mesh.advanceTo(kStart);
  const StreamId stream = client.core->publish(1, {}).value();
  client.sink.refuse_sends = true;
  CHECK_FALSE(client.core->send(stream, bytesOf({1}), wallOf(mesh.now())));
  CHECK(client.core->counters().send_failed == 1);
  client.sink.refuse_sends = false;
  REQUIRE(client.core->send(stream, bytesOf({1}), wallOf(mesh.now())));
  mesh.deliver();
  CHECK(e1.dataSequences(stream) == std::vector<std::uint32_t>{1});  // 0 was used up
}

TEST_CASE("SessionCore counts a reflexive address other than the expected one", "[session_core]") {
  FakeMesh mesh;
  FakeEdge& e1 = mesh.addEdge(1);
  SessionConfig config = onlyAt(e1);
  config.expected_public_ip = 0xCB007101;  // 203.0.113.1: what the controller saw
  FakeClient& client = mesh.addClient(config);
  mesh.advanceTo(kStart);
  CHECK(client.core->reflexiveAddress() == client.address);
  CHECK(client.core->counters().reflexive_mismatches == 1);
}

TEST_CASE("SessionCore refuses a bad config with the reason", "[session_core]") {
  testing::RecordingSink sink;
  const NonceSource nonces = [] { return std::optional<HelloNonce>(HelloNonce{}); };
  const auto errorOf = [&](SessionConfig config) {
    auto core = SessionCore::create(std::move(config), sink, nonces, kStart);
    return core ? std::string() : core.error();
  };
  const Endpoint edge(0x0A000001, 7000);
  CHECK(errorOf({}) == "no edge candidates");
  CHECK(errorOf({.candidates = {{Endpoint(0, 7000), ""}}}).find("invalid edge endpoint") == 0);
  CHECK(errorOf({.candidates = {{edge.withPort(0), ""}}}).find("invalid edge endpoint") == 0);
  CHECK(errorOf({.candidates = {{edge, ""}, {edge, ""}}}).find("listed twice") != std::string::npos);
  CHECK(errorOf({.candidates = {{edge, std::string(wire::kMaxJoinTokenBytes + 1, 't')}}}).find("join token") == 0);
  CHECK(errorOf({.candidates = {{edge, ""}}, .homes = 3}) == "homes must be 1 or 2");
  CHECK(errorOf({.candidates = {{edge, ""}}, .timing = {.keepalive_interval_us = 0}}).find("positive") !=
        std::string::npos);
  CHECK(errorOf({.candidates = {{edge, ""}},
                 .timing = {.keepalive_interval_us = 300 * kMillisecond, .dead_after_us = 300 * kMillisecond}})
            .find("dead_after") == 0);
  CHECK_FALSE(SessionCore::create({.candidates = {{edge, ""}}}, sink, NonceSource{}, kStart));
  CHECK(errorOf({.candidates = {{edge, "tok"}}, .homes = 2}).empty());
}

TEST_CASE("SessionCore retries when no nonce can be had", "[session_core]") {
  FakeMesh mesh;
  FakeEdge& e1 = mesh.addEdge(1);
  testing::RecordingSink sink;
  int calls = 0;
  const NonceSource flaky = [&]() -> std::optional<HelloNonce> {
    if (++calls == 1) return std::nullopt;
    return HelloNonce{};
  };
  auto created = SessionCore::create(onlyAt(e1), sink, flaky, kStart);
  REQUIRE(created);
  SessionCore& core = *created.value();
  core.onTick(kStart);
  CHECK(sink.outbox.empty());
  CHECK(core.counters().nonce_failures == 1);
  CHECK(core.nextDeadline() == kStart + 200 * kMillisecond);  // the HELLO retry interval
  core.onTick(kStart + 200 * kMillisecond);
  CHECK(sink.outbox.size() == 1);  // the join's first HELLO
}

}  // namespace
}  // namespace overline::sdk
