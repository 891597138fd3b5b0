// A scenario is a function of its seed: the same seed gives the same run to
// the packet, another seed gives another run wherever randomness matters.
#include <catch2/catch.hpp>

#include "simulations/sim_clients.h"
#include "simulations/sim_network.h"
#include "tests/sim/scenarios.h"

namespace overline::sim::test {
namespace {

struct RunFigures {
  std::vector<Arrival> arrivals_at_4;
  std::vector<Arrival> arrivals_at_3;
  std::uint64_t duplicates = 0;
  std::vector<std::uint64_t> relays;
  SimNetworkCounters network;
  std::uint64_t events = 0;
};

// The diamond with lossy, jittery links: 20 ms +- 10 ms, 2% loss; 1,000
// packets/s for 3 s to subscribers on relays 4 and 3.
RunFigures runLossyDiamond(std::uint64_t seed) {
  Simulator simulator;
  SimNetwork network(simulator, seed);
  addTopology(network, diamond({}, linkSettings(20 * kMillisecond, 10 * kMillisecond, 0.02)));
  SimSubscriber at_4(network, SubscriberConfig{.edges = {{.node = 4}}, .stream = makeStreamId(1, 1)});
  SimSubscriber at_3(network, SubscriberConfig{.edges = {{.node = 3}}, .stream = makeStreamId(1, 1)});
  SimPublisher publisher(network, PublisherConfig{.edges = {{.node = 1}}, .start_us = 500 * kMillisecond,
                                                  .stop_us = 3500 * kMillisecond});
  simulator.runUntil(4 * kSecond);
  return RunFigures{at_4.arrivals(),
                    at_3.arrivals(),
                    at_4.stats().snapshot().duplicates + at_3.stats().snapshot().duplicates,
                    relayFigures(network),
                    network.counters(),
                    simulator.eventsRun()};
}

TEST_CASE("the same seed gives the same run; another seed another", "[sim][determinism]") {
  const RunFigures first = runLossyDiamond(2024);
  const RunFigures again = runLossyDiamond(2024);
  const RunFigures other = runLossyDiamond(2025);

  // Loss really happened, so the comparison is not between two clean runs
  // (relays recover it with NACKs: the subscribers may still get everything).
  REQUIRE(first.network.dropped_on_path > 0);

  CHECK(again.arrivals_at_4 == first.arrivals_at_4);
  CHECK(again.arrivals_at_3 == first.arrivals_at_3);
  CHECK(again.duplicates == first.duplicates);
  CHECK(again.relays == first.relays);
  CHECK(again.network == first.network);
  CHECK(again.events == first.events);

  CHECK(other.arrivals_at_4 != first.arrivals_at_4);
  CHECK(other.arrivals_at_3 != first.arrivals_at_3);
  CHECK(other.network.dropped_on_path != first.network.dropped_on_path);
  CHECK(other.relays != first.relays);

  WARN("determinism: seed 2024 -> " << first.arrivals_at_4.size() << " / " << first.arrivals_at_3.size()
       << " packets at relays 4 / 3, " << first.network.dropped_on_path << " dropped on paths, "
       << first.events << " events (identical on rerun); seed 2025 -> " << other.arrivals_at_4.size() << " / "
       << other.arrivals_at_3.size() << ", " << other.network.dropped_on_path << " dropped");
}

}  // namespace
}  // namespace overline::sim::test
