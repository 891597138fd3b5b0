// Tree delivery over clean links: every packet reaches every subscriber
// exactly once.
#include <catch2/catch.hpp>

#include "simulations/sim_clients.h"
#include "simulations/sim_network.h"
#include "tests/sim/scenarios.h"

namespace overline::sim::test {
namespace {

TEST_CASE("diamond, two subscribers, 1,000 packets/s for 5 s: every packet exactly once", "[sim][tree]") {
  Simulator simulator;
  SimNetwork network(simulator, 1);
  addTopology(network, diamond());
  const StreamId stream = makeStreamId(1, 1);
  // The tree: 1 -> 2 -> 4 (route 4 -> 1 via 2) and 1 -> 3.
  SimSubscriber at_4(network, SubscriberConfig{.edges = {{.node = 4}}, .stream = stream});
  SimSubscriber at_3(network, SubscriberConfig{.edges = {{.node = 3}}, .stream = stream});
  // The tree is built within a few ms; publish once it is.
  SimPublisher publisher(network, PublisherConfig{.edges = {{.node = 1}}, .start_us = 500 * kMillisecond,
                                                  .stop_us = 5500 * kMillisecond});
  simulator.runUntil(6 * kSecond);

  REQUIRE(publisher.packetsSent() == 5000);
  for (const SimSubscriber* subscriber : {&at_4, &at_3}) {
    const sdk::ReceiveSnapshot s = subscriber->stats().snapshot();
    CHECK(s.unique == 5000);
    CHECK(subscriber->dataReceived() == 5000);  // no duplicates either
    CHECK(s.lost == 0);
    CHECK(s.reordered == 0);
    CHECK(s.first_sequence == 0u);
    CHECK(s.last_sequence == 4999u);
  }
  // Three hops (edge, 2, 4) of 1 ms, plus the client legs: 4 ms to relay 4's
  // subscriber, 3 ms to relay 3's.
  CHECK(at_4.stats().snapshot().latency_max_us == 4 * kMillisecond);
  CHECK(at_3.stats().snapshot().latency_max_us == 3 * kMillisecond);
  // Relay 1 sends each packet to 2 and 3 once; 2 and 3 each send it once.
  CHECK(network.relay(1).counters().data_forwarded == 10000);
  CHECK(network.relay(2).counters().data_forwarded == 5000);
  CHECK(network.relay(3).counters().data_forwarded == 5000);
  CHECK(network.relay(4).counters().data_forwarded == 5000);
  CHECK(network.counters().dropped_on_path == 0);
  WARN("tree delivery: relay 4 subscriber " << describe(at_4) << "; relay 3 subscriber " << describe(at_3));
}

}  // namespace
}  // namespace overline::sim::test
