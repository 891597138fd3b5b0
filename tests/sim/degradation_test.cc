// Degradation: 20% loss on the line pair that carries the stream makes the
// relay move the stream to another pair within 2 s (the probe loss window
// must fill past the DEGRADED threshold, then a better class wins at once).
#include <catch2/catch.hpp>
#include <cstdlib>

#include "simulations/recorders.h"
#include "simulations/sim_clients.h"
#include "simulations/sim_network.h"
#include "tests/sim/scenarios.h"

namespace overline::sim::test {
namespace {

TEST_CASE("degradation: 20% loss on the active line pair at 10 s, switched off within 2 s", "[sim][path_choice]") {
  Simulator simulator;
  SimNetwork network(simulator, 11);
  addTopology(network, diamond({}, linkSettings(10 * kMillisecond, 0, 0)));
  const StreamId stream = makeStreamId(1, 1);
  SimSubscriber at_4(network, SubscriberConfig{.edges = {{.node = 4}}, .stream = stream});
  SimPublisher publisher(network,
                         PublisherConfig{.edges = {{.node = 1}}, .start_us = 1 * kSecond, .stop_us = 20 * kSecond});
  DataPathLog one_to_two(network, 1, 2);
  CounterTrace switches(simulator, 0, 10 * kMillisecond, [&] { return network.relay(1).counters().path_switches; });

  constexpr TimeUs kDegradeAt = 10 * kSecond;
  simulator.runUntil(kDegradeAt);
  const std::optional<LinePairUse> active = one_to_two.pairAt(kDegradeAt);
  REQUIRE(active);
  const std::uint64_t switches_before = network.relay(1).counters().path_switches;
  network.editLink(LineRef{1, active->from_line}, LineRef{2, active->to_line}, setLoss(0.20));
  simulator.runUntil(20 * kSecond);

  const std::optional<LinePairUse> moved = one_to_two.firstChangeAfter(kDegradeAt);
  REQUIRE(moved);
  const DurationUs reaction_us = moved->since_us - kDegradeAt;
  CHECK(reaction_us <= 2 * kSecond);
  CHECK(!(moved->from_line == active->from_line && moved->to_line == active->to_line));
  // The relay's own count agrees, to the sampling interval.
  const std::optional<TimeUs> counted = switches.firstChangeAfter(kDegradeAt);
  REQUIRE(counted);
  CHECK(std::abs(*counted - moved->since_us) <= 10 * kMillisecond);
  CHECK(one_to_two.changes().size() == 2);  // the first pair and the one move

  const sdk::ReceiveSnapshot s = at_4.stats().snapshot();
  WARN("degradation: relay 1 moved DATA for relay 2 off line pair " << int(active->from_line) << "->"
       << int(active->to_line) << " to " << int(moved->from_line) << "->" << int(moved->to_line) << " "
       << reaction_us / 1000 << " ms after 20% loss began (path_switches " << switches_before << " before, "
       << network.relay(1).counters().path_switches << " after); relay 4 subscriber lost " << s.lost << " of "
       << publisher.packetsSent() << "; " << describe(at_4));
}

}  // namespace
}  // namespace overline::sim::test
