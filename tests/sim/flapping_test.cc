// Flapping: a minute of uniformly bad-but-usable links (30 ms +- 15 ms, 1%
// loss everywhere) must not make relays hop between line pairs: probing noise
// is absorbed by the path choice's margin and hold.
#include <catch2/catch.hpp>

#include "simulations/sim_clients.h"
#include "simulations/sim_network.h"
#include "tests/sim/scenarios.h"

namespace overline::sim::test {
namespace {

TEST_CASE("flapping: 60 s of jittery 1%-loss links, at most one path switch per relay", "[sim][path_choice]") {
  Simulator simulator;
  SimNetwork network(simulator, 7);
  addTopology(network, diamond({}, linkSettings(30 * kMillisecond, 15 * kMillisecond, 0.01)));
  const StreamId stream = makeStreamId(1, 1);
  // One hop from the origin (2, 3) and two hops (4).
  SimSubscriber at_2(network, SubscriberConfig{.edges = {{.node = 2}}, .stream = stream});
  SimSubscriber at_3(network, SubscriberConfig{.edges = {{.node = 3}}, .stream = stream});
  SimSubscriber at_4(network, SubscriberConfig{.edges = {{.node = 4}}, .stream = stream});
  SimPublisher publisher(network,
                         PublisherConfig{.edges = {{.node = 1}}, .start_us = 1 * kSecond, .stop_us = 61 * kSecond});
  simulator.runUntil(62 * kSecond);
  REQUIRE(publisher.packetsSent() == 60000);

  std::string switches;
  for (const NodeId node : network.relayIds()) {
    const std::uint64_t count = network.relay(node).counters().path_switches;
    CHECK(count <= 1);
    switches += " relay " + std::to_string(node) + ": " + std::to_string(count);
  }
  const auto delivery = [&](const SimSubscriber& subscriber) {
    return static_cast<double>(subscriber.stats().uniqueCount()) / static_cast<double>(publisher.packetsSent());
  };
  // 1% loss per relay hop and no loss recovery yet: one hop keeps >= 98%,
  // two hops >= 98% of 98%.
  CHECK(delivery(at_2) >= 0.98);
  CHECK(delivery(at_3) >= 0.98);
  CHECK(delivery(at_4) >= 0.98 * 0.98);
  for (const SimSubscriber* subscriber : {&at_2, &at_3, &at_4}) CHECK(subscriber->stats().snapshot().duplicates == 0);

  WARN("flapping (seed 7, 60 s): path switches" << switches << "; delivery at 2 / 3 / 4: " << delivery(at_2) * 100
       << "% / " << delivery(at_3) * 100 << "% / " << delivery(at_4) * 100 << "%; relay 4 subscriber "
       << describe(at_4));
}

}  // namespace
}  // namespace overline::sim::test
