// Failover: the primary next hop dies; the relay below it moves the stream to
// the backup at once, and returns only once the primary has been back for
// failback_hold.
#include <catch2/catch.hpp>

#include "simulations/recorders.h"
#include "simulations/sim_clients.h"
#include "simulations/sim_network.h"
#include "tests/sim/scenarios.h"

namespace overline::sim::test {
namespace {

TEST_CASE("failover: primary next hop killed, stream follows the backup, fails back after the hold",
          "[sim][failover]") {
  Simulator simulator;
  SimNetwork network(simulator, 3);
  addTopology(network, diamond({}, linkSettings(10 * kMillisecond, 0, 0)));
  const StreamId stream = makeStreamId(1, 1);
  // Relay 4 reaches the origin 1 through 2 (primary) or 3 (backup).
  SimSubscriber at_4(network, SubscriberConfig{.edges = {{.node = 4}}, .stream = stream});
  SimPublisher publisher(network,
                         PublisherConfig{.edges = {{.node = 1}}, .start_us = 1 * kSecond, .stop_us = 20 * kSecond});
  const auto counter = [&](NodeId node, std::uint64_t relay::RelayCounters::*field) {
    return [&network, node, field] { return network.isAlive(node) ? network.relay(node).counters().*field : 0; };
  };
  constexpr DurationUs kSampleUs = 1 * kMillisecond;
  CounterTrace failovers(simulator, 0, kSampleUs, counter(4, &relay::RelayCounters::failovers));
  CounterTrace failbacks(simulator, 0, kSampleUs, counter(4, &relay::RelayCounters::failbacks));
  CounterTrace from_2(simulator, 0, kSampleUs, counter(2, &relay::RelayCounters::data_forwarded));
  CounterTrace from_3(simulator, 0, kSampleUs, counter(3, &relay::RelayCounters::data_forwarded));

  constexpr TimeUs kKillAt = 5 * kSecond;
  constexpr TimeUs kRestartAt = 10 * kSecond;
  const DurationUs hold_us = relay::FailoverConfig{}.failback_hold_us;
  simulator.runUntil(kKillAt);
  REQUIRE(from_2.valueAt(kKillAt) > 0);
  REQUIRE(from_3.valueAt(kKillAt) == 0);
  network.killNode(2);
  simulator.runUntil(kRestartAt);

  // Failover: counted on relay 4, and relay 3 carries the stream.
  const std::optional<TimeUs> failed_over = failovers.firstChangeAfter(kKillAt);
  REQUIRE(failed_over);
  const Gap failover_gap = largestGap(at_4.arrivals(), kKillAt, kRestartAt);
  CHECK(failover_gap.lengthUs() <= 300 * kMillisecond);
  CHECK(from_3.valueAt(kRestartAt) > 0);

  network.restartNode(2);
  simulator.runUntil(21 * kSecond);

  // Failback: not before the primary has been back for the hold, and soon after.
  const std::optional<TimeUs> failed_back = failbacks.firstChangeAfter(kRestartAt);
  REQUIRE(failed_back);
  CHECK(*failed_back >= kRestartAt + hold_us);
  CHECK(*failed_back <= kRestartAt + hold_us + 1 * kSecond);
  // Relay 2 carries the stream again only from the failback on, relay 3 stops.
  const std::optional<TimeUs> two_resumed = from_2.firstChangeAfter(kRestartAt);
  REQUIRE(two_resumed);
  CHECK(*two_resumed >= *failed_back);
  CHECK(from_3.valueAt(21 * kSecond) == from_3.valueAt(*failed_back + 1 * kSecond));
  // Make before break: the failback itself loses nothing.
  const Gap failback_gap = largestGap(at_4.arrivals(), kRestartAt, 21 * kSecond);
  CHECK(failback_gap.lengthUs() <= 20 * kMillisecond);

  const sdk::ReceiveSnapshot s = at_4.stats().snapshot();
  CHECK(s.duplicates == 0);
  WARN("failover: relay 2 killed at 5 s; relay 4 failed over at +" << (*failed_over - kKillAt) / 1000
       << " ms; subscriber gap " << failover_gap.lengthUs() / 1000 << " ms; relay 2 restarted at 10 s, "
       << "failback at +" << (*failed_back - kRestartAt) / 1000 << " ms (hold " << hold_us / 1000
       << " ms), gap around failback " << failback_gap.lengthUs() / 1000 << " ms; lost " << s.lost << " of "
       << publisher.packetsSent() << ", duplicates " << s.duplicates);
}

}  // namespace
}  // namespace overline::sim::test
