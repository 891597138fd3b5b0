// SessionCore (sdk/core/session_core.h) moving between edges: a dead edge
// is noticed within dead_after_us, the client joins the next candidate and
// carries on there with the same stream ids and continuing sequences;
// LOST when none answers, and back when one does.

#include "sdk/core/session_core.h"

#include <catch2/catch.hpp>

#include <numeric>
#include <vector>

#include "tests/unit/sdk/core/fake_mesh.h"

namespace overline::sdk {
namespace {

using testing::connectedTo;
using testing::FakeClient;
using testing::joinedAt;
using testing::lostFrom;
using testing::movedTo;
using testing::FakeEdge;
using testing::FakeMesh;
using testing::kStart;
using wire::PacketType;

constexpr DurationUs kMs = kMillisecond;

SessionConfig at(std::initializer_list<const FakeEdge*> edges) {
  SessionConfig config;
  for (const FakeEdge* edge : edges) config.candidates.push_back({edge->endpoint(), ""});
  return config;
}

std::vector<std::uint32_t> range(std::uint32_t first, std::uint32_t last) {
  std::vector<std::uint32_t> out(last - first + 1);
  std::iota(out.begin(), out.end(), first);
  return out;
}

std::vector<std::uint32_t> concat(std::vector<std::uint32_t> a, const std::vector<std::uint32_t>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

std::vector<std::uint32_t> sequencesOf(const std::vector<testing::RecordedData>& data) {
  std::vector<std::uint32_t> out;
  for (const auto& d : data) out.push_back(d.header.sequence);
  return out;
}

TEST_CASE("SessionCore notices a dead edge within dead_after and moves to the next candidate", "[session_core]") {
  FakeMesh mesh;
  FakeEdge& e1 = mesh.addEdge(1);
  FakeEdge& e2 = mesh.addEdge(2);
  mesh.addEdge(3);
  FakeClient& client = mesh.addClient({});
  mesh.advanceTo(kStart + 1000 * kMs);  // the keepalive at 1,000 ms was answered: last word from e1
  e1.up = false;

  mesh.advanceTo(kStart + 1300 * kMs - 1);
  CHECK(client.core->edgeNode() == 1);
  CHECK(client.sink.events.size() == 2);
  mesh.advanceTo(kStart + 1300 * kMs);  // 300 ms of silence: dead, and e2 joined at once
  CHECK(client.sink.events ==
        std::vector<SessionEvent>{joinedAt(e1), connectedTo(kNoNode, e1), joinedAt(e2), movedTo(1, e2)});
  CHECK(client.core->edgeNode() == 2);
  CHECK(client.core->edgeEndpoint() == e2.endpoint());
  CHECK(client.core->edges() == std::vector<EdgeStatus>{{e2.endpoint(), 2, client.address, true}});
  const SessionCounters counters = client.core->counters();
  CHECK(counters.dead_edges == 1);
  CHECK(counters.edge_changes == 1);
  CHECK(counters.joins == 2);
  CHECK(counters.join_timeouts == 0);

  // Keepalives go on with the new edge.
  const std::size_t hellos = e2.count(PacketType::kHello);
  mesh.advanceTo(kStart + 1700 * kMs);
  CHECK(e2.count(PacketType::kHello) == hellos + 4);
}

TEST_CASE("SessionCore joins the next candidate when one does not answer the join", "[session_core]") {
  FakeMesh mesh;
  FakeEdge& e1 = mesh.addEdge(1);
  FakeEdge& e2 = mesh.addEdge(2);
  e1.up = false;
  FakeClient& client = mesh.addClient({});
  mesh.advanceTo(kStart + 1000 * kMs - 1);
  CHECK_FALSE(client.core->connected());
  CHECK(client.core->counters().packets_sent == 5);  // HELLO at 0, 200, ..., 800 ms
  mesh.advanceTo(kStart + 1000 * kMs);  // join_timeout: the next one
  REQUIRE(client.core->connected());
  CHECK(client.sink.events == std::vector<SessionEvent>{joinedAt(e2), connectedTo(kNoNode, e2)});
  CHECK(client.core->counters().join_timeouts == 1);
  // The first edge joined names the streams.
  CHECK(client.core->publish(4, {}).value() == makeStreamId(2, 4));
  CHECK(e2.joined(client.address));
}

TEST_CASE("SessionCore keeps a moved publisher's stream id and sequence", "[session_core]") {
  FakeMesh mesh;
  FakeEdge& e1 = mesh.addEdge(1);
  FakeEdge& e2 = mesh.addEdge(2);
  FakeEdge& e3 = mesh.addEdge(3);
  FakeClient& publisher = mesh.addClient(at({&e1, &e2}));
  FakeClient& subscriber = mesh.addClient(at({&e3}));
  mesh.advanceTo(kStart);
  const StreamId stream = publisher.core->publish(7, {}).value();
  REQUIRE(stream == makeStreamId(1, 7));
  REQUIRE(subscriber.core->subscribe(stream, {}));
  mesh.deliver();

  // DATA k at (k + 1) * 10 ms; e1 fails after the keepalive at 1,000 ms.
  mesh.publishUntil(publisher, stream, kStart + 2000 * kMs, 10 * kMs, [&](TimeUs t) {
    if (t == kStart + 1010 * kMs) e1.up = false;
  });
  CHECK(publisher.sink.events ==
        std::vector<SessionEvent>{joinedAt(e1), connectedTo(kNoNode, e1), joinedAt(e2), movedTo(1, e2)});

  // e1 took 0..99; 100..128 went to e1 while it was silently gone; from
  // 1,300 ms on (129) they go to e2, with the same id, numbered on.
  CHECK(e1.dataSequences(stream) == range(0, 99));
  CHECK(e2.dataSequences(stream) == range(129, 199));
  CHECK(e2.count(PacketType::kData) == e2.count(PacketType::kData, stream));  // no other stream id
  CHECK(publisher.core->publish(7, {}).value() == stream);              // still the first edge's node
  CHECK(publisher.core->publish(8, {}).value() == makeStreamId(1, 8));

  // The subscriber sees the gap, given up within its budget, and nothing else lost.
  mesh.advanceTo(kStart + 2500 * kMs);
  CHECK(sequencesOf(subscriber.sink.deliveries) == concat(range(0, 99), range(129, 199)));
  const SessionCounters counters = subscriber.core->counters();
  CHECK(counters.playout_lost == 29);
  CHECK(counters.playout_held == 0);
}

TEST_CASE("SessionCore resubscribes through the edge it moved to", "[session_core]") {
  FakeMesh mesh;
  FakeEdge& e1 = mesh.addEdge(1);
  FakeEdge& e2 = mesh.addEdge(2);
  FakeEdge& e3 = mesh.addEdge(3);
  FakeClient& publisher = mesh.addClient(at({&e3}));
  FakeClient& subscriber = mesh.addClient(at({&e1, &e2}));
  mesh.advanceTo(kStart);
  const StreamId stream = publisher.core->publish(7, {}).value();
  const std::uint64_t subscription = subscriber.core->subscribe(stream, {}).value();
  mesh.deliver();
  REQUIRE(e1.subscribed(subscriber.address, stream));
  CHECK_FALSE(e2.subscribed(subscriber.address, stream));

  mesh.publishUntil(publisher, stream, kStart + 2000 * kMs, 10 * kMs, [&](TimeUs t) {
    if (t == kStart + 1010 * kMs) e1.up = false;
  });
  CHECK(e2.subscribed(subscriber.address, stream));
  CHECK(subscriber.sink.events.back() == movedTo(1, e2));
  mesh.advanceTo(kStart + 2500 * kMs);
  // e1 forwarded 0..99; e2 forwards what came after the subscriber joined it.
  CHECK(sequencesOf(subscriber.sink.deliveries) == concat(range(0, 99), range(129, 199)));
  for (const auto& delivery : subscriber.sink.deliveries) CHECK(delivery.subscription == subscription);
  CHECK(subscriber.sink.deliveries.back().header.sender_node_id == 2);
  CHECK(subscriber.core->counters().playout_lost == 29);
}

TEST_CASE("SessionCore reports LOST when no candidate answers, and CONNECTED when one does", "[session_core]") {
  FakeMesh mesh;
  FakeEdge& e1 = mesh.addEdge(1);
  FakeEdge& e2 = mesh.addEdge(2);
  FakeClient& client = mesh.addClient({});
  mesh.advanceTo(kStart);
  const StreamId stream = client.core->publish(1, {}).value();
  const StreamId watched = makeStreamId(9, 9);
  REQUIRE(client.core->subscribe(watched, {}));
  mesh.advanceTo(kStart + 1000 * kMs);
  e1.up = false;
  e2.up = false;

  // Dead at 1,300 ms; e2's join times out at 2,300; e1's (the only other
  // free one) at 3,300: every candidate failed since the last join.
  mesh.advanceTo(kStart + 3300 * kMs - 1);
  CHECK(client.sink.events.size() == 2);
  CHECK_FALSE(client.core->connected());
  CHECK(client.core->edgeNode() == 1);  // the last one, while between edges
  mesh.advanceTo(kStart + 3300 * kMs);
  REQUIRE(client.sink.events.size() == 3);
  CHECK(client.sink.events[2] == lostFrom(1));
  SessionCounters counters = client.core->counters();
  CHECK(counters.dead_edges == 1);
  CHECK(counters.join_timeouts == 2);

  // Sending meanwhile is no error to handle: the packet is lost and counted.
  CHECK_FALSE(client.core->send(stream, {}, testing::wallOf(mesh.now())));
  CHECK(client.core->counters().data_without_edge == 1);

  // It keeps trying (e2 until 4,300 ms, then e1), HELLO every 200 ms.
  const std::uint64_t sent = client.core->counters().packets_sent;
  mesh.advanceTo(kStart + 4000 * kMs);
  CHECK(client.core->counters().packets_sent == sent + 3);  // 3,500, 3,700, 3,900 ms
  e1.up = true;
  mesh.advanceTo(kStart + 4300 * kMs);
  CHECK(client.sink.events == std::vector<SessionEvent>{joinedAt(e1), connectedTo(kNoNode, e1), lostFrom(1),
                                                        joinedAt(e1), connectedTo(1, e1)});
  CHECK(client.core->connected());
  CHECK(e1.subscribed(client.address, watched));
  counters = client.core->counters();
  CHECK(counters.join_timeouts == 3);
  CHECK(counters.edge_changes == 0);  // a loss and a return, not a move
  // The stream carries on with the next sequence.
  REQUIRE(client.core->send(stream, {}, testing::wallOf(mesh.now())));
  mesh.deliver();
  CHECK(e1.dataSequences(stream).back() == 1);
}

TEST_CASE("SessionCore rejoins its only edge after it restarted", "[session_core]") {
  FakeMesh mesh;
  FakeEdge& e1 = mesh.addEdge(1);
  FakeClient& client = mesh.addClient({});
  mesh.advanceTo(kStart);
  const StreamId watched = makeStreamId(9, 9);
  REQUIRE(client.core->subscribe(watched, {}));
  const StreamId stream = client.core->publish(2, {}).value();
  mesh.advanceTo(kStart + 1000 * kMs);
  e1.restart();  // forgets every session: keepalives fail its tag check

  mesh.advanceTo(kStart + 1300 * kMs);
  CHECK(e1.badTags() == 2);  // the keepalives at 1,100 and 1,200 ms
  CHECK(client.sink.events ==
        std::vector<SessionEvent>{joinedAt(e1), connectedTo(kNoNode, e1), joinedAt(e1), movedTo(1, e1)});
  CHECK(e1.joined(client.address));
  CHECK(e1.subscribed(client.address, watched));
  REQUIRE(client.core->send(stream, {}, testing::wallOf(mesh.now())));
  mesh.deliver();
  CHECK(e1.dataSequences(stream) == std::vector<std::uint32_t>{0});
  CHECK(e1.badTags() == 2);  // the new session's packets verify
}

}  // namespace
}  // namespace overline::sdk
