// SessionCore (sdk/core/session_core.h) dual-homed (homes = 2): sessions with
// two edges at once, every DATA and subscription through both, duplicates
// dropped by the playout, and one edge dying losing nothing.

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
using testing::movedTo;
using testing::FakeEdge;
using testing::FakeMesh;
using testing::kStart;
using wire::PacketType;

constexpr DurationUs kMs = kMillisecond;

SessionConfig at(std::initializer_list<const FakeEdge*> edges, std::size_t homes = 1) {
  SessionConfig config;
  config.homes = homes;
  for (const FakeEdge* edge : edges) config.candidates.push_back({edge->endpoint(), ""});
  return config;
}

std::vector<std::uint32_t> range(std::uint32_t first, std::uint32_t last) {
  std::vector<std::uint32_t> out(last - first + 1);
  std::iota(out.begin(), out.end(), first);
  return out;
}

std::vector<std::uint32_t> sequencesOf(const std::vector<testing::RecordedData>& data) {
  std::vector<std::uint32_t> out;
  for (const auto& d : data) out.push_back(d.header.sequence);
  return out;
}

// DATA headers an edge received from clients, without the per-session tag fields.
std::vector<wire::Header> dataHeaders(const FakeEdge& edge) {
  std::vector<wire::Header> out;
  for (const auto& received : edge.received()) {
    if (received.header.type != PacketType::kData) continue;
    wire::Header header = received.header;
    header.packet_number = 0;
    out.push_back(header);
  }
  return out;
}

TEST_CASE("A dual-homed client joins two edges and sends every DATA through both", "[session_core]") {
  FakeMesh mesh;
  FakeEdge& e1 = mesh.addEdge(1);
  FakeEdge& e2 = mesh.addEdge(2);
  FakeEdge& e3 = mesh.addEdge(3);
  FakeEdge& e4 = mesh.addEdge(4);
  FakeClient& publisher = mesh.addClient(at({&e1, &e2, &e3}, 2));
  FakeClient& subscriber = mesh.addClient(at({&e4}));
  mesh.advanceTo(kStart);
  CHECK(publisher.core->edges() == std::vector<EdgeStatus>{{e1.endpoint(), 1, publisher.address, true},
                                                           {e2.endpoint(), 2, publisher.address, false}});
  CHECK(publisher.sink.events == std::vector<SessionEvent>{joinedAt(e1), connectedTo(kNoNode, e1), joinedAt(e2)});
  CHECK(e3.received().empty());
  const StreamId stream = publisher.core->publish(7, {}).value();
  CHECK(stream == makeStreamId(1, 7));
  REQUIRE(subscriber.core->subscribe(stream, {}));
  mesh.deliver();

  mesh.publishUntil(publisher, stream, kStart + 100 * kMs);
  // The same packets, sequence and timestamp, through both edges.
  CHECK(e1.dataSequences(stream) == range(0, 9));
  CHECK(dataHeaders(e1) == dataHeaders(e2));
  CHECK(e1.badTags() + e2.badTags() == 0);
  // Relays drop the second copy: the subscriber gets each once.
  CHECK(sequencesOf(subscriber.sink.deliveries) == range(0, 9));
  CHECK(subscriber.core->counters().playout_duplicates == 0);
  // Keepalives to both.
  const std::size_t e2_hellos = e2.count(PacketType::kHello);
  mesh.advanceTo(kStart + 300 * kMs);
  CHECK(e2.count(PacketType::kHello) == e2_hellos + 2);
}

TEST_CASE("A dual-homed subscriber gets each packet once and counts the second copies", "[session_core]") {
  FakeMesh mesh;
  FakeEdge& e1 = mesh.addEdge(1);
  FakeEdge& e2 = mesh.addEdge(2);
  FakeEdge& e3 = mesh.addEdge(3);
  FakeClient& publisher = mesh.addClient(at({&e3}));
  FakeClient& subscriber = mesh.addClient(at({&e1, &e2}, 2));
  mesh.advanceTo(kStart);
  const StreamId stream = publisher.core->publish(7, {}).value();
  REQUIRE(subscriber.core->subscribe(stream, {.arrivals = true}));
  mesh.deliver();
  CHECK(e1.subscribed(subscriber.address, stream));
  CHECK(e2.subscribed(subscriber.address, stream));
  // Each SUBSCRIBE names the client's other edge (the relay's hint to route around it).
  for (const auto& [edge, other] : {std::pair{&e1, NodeId{2}}, {&e2, NodeId{1}}}) {
    bool subscribe_seen = false;
    for (const FakeEdge::Received& packet : edge->received()) {
      if (packet.header.type != PacketType::kSubscribe) continue;
      subscribe_seen = true;
      CHECK(packet.header.sequence == other);
    }
    CHECK(subscribe_seen);
  }

  mesh.publishUntil(publisher, stream, kStart + 100 * kMs);
  CHECK(subscriber.sink.arrivals.size() == 20);
  CHECK(sequencesOf(subscriber.sink.deliveries) == range(0, 9));
  const SessionCounters counters = subscriber.core->counters();
  CHECK(counters.playout_duplicates == 10);
  CHECK(counters.data_delivered == 10);

  subscriber.core->unsubscribe(stream);
  mesh.deliver();
  CHECK(e1.count(PacketType::kUnsubscribe, stream) == 1);
  CHECK(e2.count(PacketType::kUnsubscribe, stream) == 1);
}

TEST_CASE("A dual-homed subscriber loses nothing when one of its edges dies", "[session_core]") {
  FakeMesh mesh;
  FakeEdge& e1 = mesh.addEdge(1);
  FakeEdge& e2 = mesh.addEdge(2);
  FakeEdge& e3 = mesh.addEdge(3);
  FakeEdge& e4 = mesh.addEdge(4);
  FakeClient& publisher = mesh.addClient(at({&e4}));
  FakeClient& subscriber = mesh.addClient(at({&e1, &e2, &e3}, 2));
  mesh.advanceTo(kStart);
  const StreamId stream = publisher.core->publish(7, {}).value();
  REQUIRE(subscriber.core->subscribe(stream, {}));
  mesh.deliver();

  mesh.publishUntil(publisher, stream, kStart + 3000 * kMs, 10 * kMs, [&](TimeUs t) {
    if (t == kStart + 1010 * kMs) e1.up = false;
  });
  // The primary died at 1,300 ms: e2 took over at once, e3 replaced e1.
  CHECK(subscriber.sink.events == std::vector<SessionEvent>{joinedAt(e1), connectedTo(kNoNode, e1), joinedAt(e2),
                                                            movedTo(1, e2), joinedAt(e3)});
  CHECK(subscriber.core->edges() == std::vector<EdgeStatus>{{e2.endpoint(), 2, subscriber.address, true},
                                                            {e3.endpoint(), 3, subscriber.address, false}});
  CHECK(e3.subscribed(subscriber.address, stream));
  mesh.advanceTo(kStart + 3500 * kMs);
  CHECK(sequencesOf(subscriber.sink.deliveries) == range(0, 299));
  const SessionCounters counters = subscriber.core->counters();
  CHECK(counters.playout_lost == 0);
  CHECK(counters.dead_edges == 1);
  CHECK(counters.edge_changes == 1);
  CHECK(counters.joins == 3);
}

TEST_CASE("A dual-homed publisher loses nothing when one of its edges dies", "[session_core]") {
  FakeMesh mesh;
  FakeEdge& e1 = mesh.addEdge(1);
  FakeEdge& e2 = mesh.addEdge(2);
  FakeEdge& e3 = mesh.addEdge(3);
  FakeEdge& e4 = mesh.addEdge(4);
  FakeClient& publisher = mesh.addClient(at({&e1, &e2, &e3}, 2));
  FakeClient& subscriber = mesh.addClient(at({&e4}));
  mesh.advanceTo(kStart);
  const StreamId stream = publisher.core->publish(7, {}).value();
  REQUIRE(subscriber.core->subscribe(stream, {}));
  mesh.deliver();

  mesh.publishUntil(publisher, stream, kStart + 3000 * kMs, 10 * kMs, [&](TimeUs t) {
    if (t == kStart + 1010 * kMs) e1.up = false;
  });
  CHECK(publisher.sink.events == std::vector<SessionEvent>{joinedAt(e1), connectedTo(kNoNode, e1), joinedAt(e2),
                                                           movedTo(1, e2), joinedAt(e3)});
  CHECK(e2.dataSequences(stream) == range(0, 299));
  CHECK(e3.dataSequences(stream) == range(129, 299));  // joined as the second home at 1,300 ms
  mesh.advanceTo(kStart + 3500 * kMs);
  CHECK(sequencesOf(subscriber.sink.deliveries) == range(0, 299));
  CHECK(subscriber.core->counters().playout_lost == 0);
  CHECK(publisher.core->counters().data_without_edge == 0);
}

TEST_CASE("A dual-homed client counts edges that see it at different addresses", "[session_core]") {
  FakeMesh mesh;
  FakeEdge& e1 = mesh.addEdge(1);
  FakeEdge& e2 = mesh.addEdge(2);
  const Endpoint elsewhere(0xCB007107, 40000);  // a NAT mapping per destination
  e2.reports_reflexive = elsewhere;
  FakeClient& client = mesh.addClient(at({&e1, &e2}, 2));
  mesh.advanceTo(kStart);
  CHECK(client.core->counters().reflexive_mismatches == 1);
  const auto edges = client.core->edges();
  REQUIRE(edges.size() == 2);
  CHECK(edges[0].reflexive == client.address);
  CHECK(edges[1].reflexive == elsewhere);
  CHECK(client.core->reflexiveAddress() == client.address);  // the primary's view
}

TEST_CASE("homes = 2 with a single candidate keeps one session", "[session_core]") {
  FakeMesh mesh;
  FakeEdge& e1 = mesh.addEdge(1);
  FakeClient& client = mesh.addClient(at({&e1}, 2));
  mesh.advanceTo(kStart + kSecond);
  CHECK(client.core->edges().size() == 1);
  CHECK(client.core->counters().joins == 1);
  CHECK(client.core->nextDeadline() > mesh.now());
}

}  // namespace
}  // namespace overline::sdk
