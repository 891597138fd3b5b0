// Redundant mode: every DATA travels on two disjoint links per hop, so one
// line failing mid-stream loses nothing, and relays' dedup keeps the
// subscriber from seeing the second copies.
#include <catch2/catch.hpp>

#include "simulations/sim_clients.h"
#include "simulations/sim_network.h"
#include "tests/sim/scenarios.h"

namespace overline::sim::test {
namespace {

TEST_CASE("redundant stream: a line fails mid-stream, zero loss and zero duplicates", "[sim][redundant]") {
  Simulator simulator;
  SimNetwork network(simulator, 9);
  addTopology(network, diamond({}, linkSettings(10 * kMillisecond, 0, 0)));
  const StreamId stream = makeStreamId(1, 1);
  SimSubscriber at_4(network, SubscriberConfig{.edges = {{.node = 4}}, .stream = stream});
  SimPublisher publisher(network, PublisherConfig{.edges = {{.node = 1}},
                                                  .redundant = true,
                                                  .start_us = 1 * kSecond,
                                                  .stop_us = 11 * kSecond});
  std::uint64_t data_one_to_two = 0;
  network.addObserver([&](const Transmission& t) {
    const auto from = relayLineAt(t.from);
    const auto to = relayLineAt(t.to);
    if (from && to && from->node == 1 && to->node == 2 && t.header()->type == wire::PacketType::kData) {
      ++data_one_to_two;
    }
  });

  constexpr TimeUs kFailAt = 5 * kSecond;
  simulator.runUntil(kFailAt);
  // Two copies of every packet relay 1 took in, on the hop 1 -> 2, while
  // every line is up.
  REQUIRE(network.relay(1).counters().data_received > 0);
  CHECK(data_one_to_two == 2 * network.relay(1).counters().data_received);
  // Relay 2's line 0 (on the stream's path in and out of 2) goes dark.
  network.editLine(LineRef{2, 0}, addOutage(kFailAt, 60 * kSecond));
  simulator.runUntil(12 * kSecond);

  REQUIRE(publisher.packetsSent() == 10000);
  const sdk::ReceiveSnapshot s = at_4.stats().snapshot();
  CHECK(s.unique == 10000);
  CHECK(s.lost == 0);
  CHECK(s.duplicates == 0);
  CHECK(at_4.dataReceived() == 10000);
  const std::uint64_t deduped = network.relay(2).counters().dropped[static_cast<std::size_t>(
                                    relay::DropReason::kDuplicate)] +
                                network.relay(4).counters().dropped[static_cast<std::size_t>(
                                    relay::DropReason::kDuplicate)];
  WARN("redundant stream: relay 2 line 0 failed at 5 s; subscriber " << describe(at_4) << "; second copies sent by 1 / 2: "
       << network.relay(1).counters().redundant_copies_sent << " / " << network.relay(2).counters().redundant_copies_sent
       << ", duplicates dropped by relays 2 + 4: " << deduped);
}

}  // namespace
}  // namespace overline::sim::test
