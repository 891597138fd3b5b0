// Dual homing in the SDK (SessionConfig::homes = 2): a client keeps a
// session with two edges at once, so one edge dying loses nothing. A
// dual-homed publisher sends every DATA through both edges (relays learn
// both origins from the stream directory and subscribe toward each, dedup
// drops the second copy); a dual-homed subscriber subscribes through both
// and its playout drops the second copy.
#include <catch2/catch.hpp>

#include "simulations/sim_clients.h"
#include "simulations/sim_network.h"
#include "tests/sim/scenarios.h"

namespace overline::sim::test {
namespace {

constexpr TimeUs kStartUs = 1 * kSecond;
constexpr TimeUs kFailAt = 5 * kSecond;
constexpr TimeUs kStopUs = 8 * kSecond;
constexpr TimeUs kEndUs = 9 * kSecond;

TEST_CASE("dual-homed publisher: one of its edges dies mid-stream, subscribers lose nothing", "[sim][sdk_failover]") {
  Simulator simulator;
  SimNetwork network(simulator, 19);
  addTopology(network, diamond({}, linkSettings(10 * kMillisecond, 0, 0)));
  // Published through relays 2 and 3 (the first joined, 2, names the
  // stream); subscribers on 1 and 4 each have a branch to both origins.
  SimPublisher publisher(network, PublisherConfig{.edges = {{.node = 2}, {.node = 3}},
                                                  .homes = 2,
                                                  .start_us = kStartUs,
                                                  .stop_us = kStopUs});
  const StreamId stream = makeStreamId(2, 1);
  SimSubscriber at_1(network, SubscriberConfig{.edges = {{.node = 1}}, .stream = stream});
  SimSubscriber at_4(network, SubscriberConfig{.edges = {{.node = 4}}, .stream = stream});

  simulator.runUntil(kFailAt);
  REQUIRE(publisher.streamId() == stream);
  REQUIRE(publisher.client().core().edges().size() == 2);
  // Relays 1 and 4 get the stream over both branches and drop the second copies.
  const auto deduped = [&](NodeId node) {
    return network.relay(node).counters().dropped[static_cast<std::size_t>(relay::DropReason::kDuplicate)];
  };
  REQUIRE(deduped(1) > 0);
  REQUIRE(deduped(4) > 0);
  network.killNode(2);
  simulator.runUntil(kEndUs);

  // The SDK dropped the dead session and went on through relay 3.
  const sdk::SessionCounters p = publisher.client().core().counters();
  CHECK(p.dead_edges >= 1);
  CHECK(p.data_without_edge == 0);
  CHECK(publisher.client().core().edgeNode() == 3);
  REQUIRE(publisher.packetsSent() == 7000);

  std::string figures;
  for (const SimSubscriber* subscriber : {&at_1, &at_4}) {
    const sdk::ReceiveSnapshot s = subscriber->stats().snapshot();
    CHECK(s.unique == publisher.packetsSent());
    CHECK(s.lost == 0);
    CHECK(s.duplicates == 0);  // relays drop the second copy
    const sdk::SessionCounters c = subscriber->client().core().counters();
    CHECK(c.data_delivered == publisher.packetsSent());
    CHECK(c.playout_lost == 0);
    const Gap gap = largestGap(subscriber->arrivals(), kFailAt, kEndUs);
    CHECK(gap.lengthUs() <= 20 * kMillisecond);
    figures += "; subscriber at " + std::to_string(subscriber->client().core().edgeNode()) + ": largest gap " +
               std::to_string(gap.lengthUs() / 1000) + " ms around the failure, " + describe(*subscriber);
  }
  WARN("dual-homed publisher: edge 2 (the stream's home) died at 5 s; "
       << p.dead_edges << " dead session(s), 0 DATA without an edge" << figures);
}

TEST_CASE("dual-homed subscriber: one of its edges dies mid-stream, it loses nothing", "[sim][sdk_failover]") {
  Simulator simulator;
  SimNetwork network(simulator, 23);
  addTopology(network, diamond({}, linkSettings(10 * kMillisecond, 0, 0)));
  const StreamId stream = makeStreamId(1, 1);
  SimPublisher publisher(network, PublisherConfig{.edges = {{.node = 1}}, .start_us = kStartUs, .stop_us = kStopUs});
  // Subscribed through relays 4 (via 2) and 3.
  SimSubscriber subscriber(network,
                           SubscriberConfig{.edges = {{.node = 4}, {.node = 3}}, .homes = 2, .stream = stream});

  simulator.runUntil(kFailAt);
  REQUIRE(subscriber.client().core().edges().size() == 2);
  // Both edges deliver: every packet arrived twice so far, but those still
  // on their way over the longer branch (via relay 2: 10 ms, 10 packets).
  REQUIRE(subscriber.dataReceived() >= 2 * subscriber.arrivals().size() - 10);
  network.killNode(4);
  simulator.runUntil(kEndUs);

  const sdk::SessionCounters c = subscriber.client().core().counters();
  CHECK(c.dead_edges >= 1);
  CHECK(subscriber.client().core().edgeNode() == 3);
  REQUIRE(publisher.packetsSent() == 7000);
  const sdk::ReceiveSnapshot s = subscriber.stats().snapshot();
  CHECK(s.unique == publisher.packetsSent());
  CHECK(s.lost == 0);
  // The SDK's playout handed on each packet once, none lost.
  CHECK(c.data_delivered == publisher.packetsSent());
  CHECK(c.playout_lost == 0);
  CHECK(c.playout_duplicates == subscriber.dataReceived() - publisher.packetsSent());
  const Gap gap = largestGap(subscriber.arrivals(), kFailAt, kEndUs);
  CHECK(gap.lengthUs() <= 20 * kMillisecond);
  WARN("dual-homed subscriber: edge 4 died at 5 s; largest gap " << gap.lengthUs() / 1000
       << " ms around the failure; " << c.playout_duplicates << " second copies dropped by playout; "
       << describe(subscriber));
}

}  // namespace
}  // namespace overline::sim::test
