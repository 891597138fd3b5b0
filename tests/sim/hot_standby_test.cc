// Hot standby: the line carrying a stream dies; probing notices within the
// DOWN rule's time and the stream moves to a standby pair, so the subscriber
// sees one short gap.
#include <catch2/catch.hpp>

#include "simulations/recorders.h"
#include "simulations/sim_clients.h"
#include "simulations/sim_network.h"
#include "tests/sim/scenarios.h"

namespace overline::sim::test {
namespace {

TEST_CASE("hot standby: the active line fails at 5 s under 1,000 packets/s, gap <= 200 ms", "[sim][path_choice]") {
  Simulator simulator;
  SimNetwork network(simulator, 5);
  addTopology(network, diamond({}, linkSettings(10 * kMillisecond, 0, 0)));
  const StreamId stream = makeStreamId(1, 1);
  // The stream runs 1 -> 2 -> 4.
  SimSubscriber at_4(network, SubscriberConfig{.edges = {{.node = 4}}, .stream = stream});
  SimPublisher publisher(network,
                         PublisherConfig{.edges = {{.node = 1}}, .start_us = 1 * kSecond, .stop_us = 10 * kSecond});
  DataPathLog one_to_two(network, 1, 2);
  DataPathLog two_to_four(network, 2, 4);
  // Links relay 1 holds DOWN, every 1 ms: when probing noticed.
  CounterTrace down_at_1(simulator, 0, 1 * kMillisecond, [&] {
    std::uint64_t down = 0;
    for (const relay::LinkSnapshot& link : network.relay(1).links()) down += link.state == relay::LinkState::kDown;
    return down;
  });

  constexpr TimeUs kFailAt = 5 * kSecond;
  simulator.runUntil(kFailAt);
  const std::optional<LinePairUse> active = one_to_two.pairAt(kFailAt);
  REQUIRE(active);
  // Relay 2's line that receives the stream goes dark: every path to and
  // from it (toward 1 and toward 4) drops everything from now on.
  const LineRef failed{2, active->to_line};
  network.editLine(failed, addOutage(kFailAt, 60 * kSecond));
  simulator.runUntil(11 * kSecond);

  const Gap gap = largestGap(at_4.arrivals(), kFailAt, 11 * kSecond);
  CHECK(gap.lengthUs() <= 200 * kMillisecond);
  const std::optional<LinePairUse> moved_in = one_to_two.firstChangeAfter(kFailAt);
  REQUIRE(moved_in);
  CHECK(moved_in->to_line != failed.line);
  // Relay 2 sends on from a live line too (it may have been on the dead one).
  const std::optional<LinePairUse> out = two_to_four.pairAt(11 * kSecond);
  REQUIRE(out);
  CHECK(out->from_line != failed.line);

  const std::optional<TimeUs> detected = down_at_1.firstChangeAfter(kFailAt);
  REQUIRE(detected);
  CHECK(*detected <= moved_in->since_us);

  const sdk::ReceiveSnapshot s = at_4.stats().snapshot();
  CHECK(s.duplicates == 0);
  WARN("hot standby: relay 2 line " << int(failed.line) << " failed at 5 s; relay 1 saw links DOWN after "
       << (*detected - kFailAt) / 1000 << " ms and moved DATA to pair "
       << int(moved_in->from_line) << "->" << int(moved_in->to_line) << " after "
       << (moved_in->since_us - kFailAt) / 1000 << " ms; subscriber gap " << gap.lengthUs() / 1000
       << " ms (last packet before at " << gap.start_us / 1000 << " ms), " << s.lost
       << " packets lost; path_switches relay 1: " << network.relay(1).counters().path_switches
       << ", relay 2: " << network.relay(2).counters().path_switches);
}

}  // namespace
}  // namespace overline::sim::test
