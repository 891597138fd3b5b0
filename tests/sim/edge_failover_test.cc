// Edge failover in the SDK: a client's edge relay dies mid-stream and the
// client's SessionCore (the SDK's own logic, on the simulator's clock)
// declares the session dead, joins its next candidate edge and carries on:
// a subscriber resubscribes there, a publisher publishes the same stream id
// with its sequence numbers continuing, and relays find the stream at its
// new origin through the stream directory.
#include <algorithm>
#include <catch2/catch.hpp>
#include <iterator>
#include <string>

#include "simulations/sim_clients.h"
#include "simulations/sim_network.h"
#include "tests/sim/scenarios.h"

namespace overline::sim::test {
namespace {

constexpr TimeUs kStartUs = 1 * kSecond;
constexpr TimeUs kFailAt = 5 * kSecond;
constexpr TimeUs kStopUs = 8 * kSecond;
constexpr TimeUs kEndUs = 9 * kSecond;
constexpr DurationUs kMaxInterruptionUs = 1 * kSecond;

// The two ways an edge dies: the relay process stops, or the network
// around it goes (every path to and from its lines drops everything).
enum class EdgeDeath { kRelayStops, kPathsDown };

void kill(SimNetwork& network, NodeId edge, EdgeDeath how) {
  if (how == EdgeDeath::kRelayStops) {
    network.killNode(edge);
    return;
  }
  for (const LineIndex line : {LineIndex{0}, LineIndex{1}}) network.editLine(LineRef{edge, line}, setDown(true));
}

const char* name(EdgeDeath how) { return how == EdgeDeath::kRelayStops ? "relay stops" : "paths down"; }

TEST_CASE("edge failover: the subscriber's edge dies, it moves to its next candidate within 1 s",
          "[sim][sdk_failover]") {
  const EdgeDeath how = GENERATE(EdgeDeath::kRelayStops, EdgeDeath::kPathsDown);
  Simulator simulator;
  SimNetwork network(simulator, 13);
  addTopology(network, diamond({}, linkSettings(10 * kMillisecond, 0, 0)));
  const StreamId stream = makeStreamId(1, 1);
  SimPublisher publisher(network, PublisherConfig{.edges = {{.node = 1}}, .start_us = kStartUs, .stop_us = kStopUs});
  SimSubscriber subscriber(network, SubscriberConfig{.edges = {{.node = 4}, {.node = 3}}, .stream = stream});

  simulator.runUntil(kFailAt);
  REQUIRE(subscriber.client().core().edgeNode() == 4);
  const std::size_t before = subscriber.arrivals().size();
  REQUIRE(before > 0);
  kill(network, 4, how);
  simulator.runUntil(kEndUs);

  // The SDK noticed the silence, joined relay 3 and subscribed there.
  const std::optional<TimedEvent> moved =
      firstEventAfter(subscriber.client(), sdk::SessionEventType::kEdgeChanged, kFailAt);
  REQUIRE(moved);
  CHECK(moved->event == sdk::SessionEvent{sdk::SessionEventType::kEdgeChanged, 4, 3, relayLineEndpoint(3, 0)});
  CHECK(subscriber.client().core().edgeNode() == 3);
  CHECK(subscriber.client().core().counters().dead_edges == 1);

  // The same stream arrives again within 1 s of the failure, and to its end.
  const Gap gap = largestGap(subscriber.arrivals(), kFailAt, kEndUs);
  const DurationUs resumed_after = gap.end_us - kFailAt;
  CHECK(resumed_after <= kMaxInterruptionUs);
  REQUIRE(subscriber.arrivals().size() > before);
  CHECK(subscriber.arrivals().back().sequence == publisher.packetsSent() - 1);
  const sdk::SessionCounters c = subscriber.client().core().counters();
  CHECK(c.unknown_stream == 0);
  CHECK(c.playout_resyncs == 0);
  CHECK(subscriber.stats().snapshot().duplicates == 0);

  WARN("subscriber edge failover (" << name(how) << "): edge 4 died at 5 s; the SDK moved to edge 3 at +"
       << (moved->at_us - kFailAt) / 1000 << " ms; the stream arrived again at +" << resumed_after / 1000
       << " ms (gap " << gap.lengthUs() / 1000 << " ms); " << describe(subscriber));
}

TEST_CASE("edge failover: the publisher's edge dies, it moves with its stream id and sequence, subscribers resume "
          "within 1 s",
          "[sim][sdk_failover]") {
  const EdgeDeath how = GENERATE(EdgeDeath::kRelayStops, EdgeDeath::kPathsDown);
  Simulator simulator;
  SimNetwork network(simulator, 17);
  addTopology(network, diamond({}, linkSettings(10 * kMillisecond, 0, 0)));
  const StreamId stream = makeStreamId(1, 1);
  // The publisher's home is relay 1; subscribers sit on 3 (one hop from it)
  // and 4 (two hops).
  SimPublisher publisher(network, PublisherConfig{.edges = {{.node = 1}, {.node = 2}},
                                                  .start_us = kStartUs,
                                                  .stop_us = kStopUs});
  SimSubscriber at_3(network, SubscriberConfig{.edges = {{.node = 3}}, .stream = stream});
  SimSubscriber at_4(network, SubscriberConfig{.edges = {{.node = 4}}, .stream = stream});

  simulator.runUntil(kFailAt);
  REQUIRE(publisher.streamId() == stream);
  REQUIRE(publisher.client().core().edgeNode() == 1);
  kill(network, 1, how);
  simulator.runUntil(kEndUs);

  // The SDK moved to relay 2 and kept publishing the same stream.
  const std::optional<TimedEvent> moved =
      firstEventAfter(publisher.client(), sdk::SessionEventType::kEdgeChanged, kFailAt);
  REQUIRE(moved);
  CHECK(moved->event == sdk::SessionEvent{sdk::SessionEventType::kEdgeChanged, 1, 2, relayLineEndpoint(2, 0)});
  CHECK(publisher.streamId() == stream);
  CHECK(publisher.client().core().originNode() == 1);
  const sdk::SessionCounters p = publisher.client().core().counters();
  CHECK(p.dead_edges == 1);
  CHECK(p.data_without_edge > 0);  // the move's gap: those sequences are lost, not reused

  std::string figures;
  for (const SimSubscriber* subscriber : {&at_3, &at_4}) {
    const Gap gap = largestGap(subscriber->arrivals(), kFailAt, kEndUs);
    const DurationUs resumed_after = gap.end_us - kFailAt;
    CHECK(resumed_after <= kMaxInterruptionUs);
    // Sequences continue across the move: the first packet after the gap
    // is numbered after the last one before, and the last one sent (the
    // publisher's packetsSent() - 1) arrived; no restart was seen.
    const auto resumed = std::find_if(subscriber->arrivals().begin(), subscriber->arrivals().end(),
                                      [&](const Arrival& a) { return a.at_us == gap.end_us; });
    REQUIRE(resumed != subscriber->arrivals().begin());
    REQUIRE(resumed != subscriber->arrivals().end());
    CHECK(resumed->sequence > std::prev(resumed)->sequence);
    CHECK(publisher.sendTimeOf(resumed->sequence) >= moved->at_us);
    CHECK(subscriber->arrivals().back().sequence == publisher.packetsSent() - 1);
    CHECK(subscriber->client().core().counters().playout_resyncs == 0);
    CHECK(subscriber->stats().snapshot().duplicates == 0);
    figures += "; subscriber at " + std::to_string(subscriber->client().core().edgeNode()) + " resumed at +" +
               std::to_string(resumed_after / 1000) + " ms (gap " + std::to_string(gap.lengthUs() / 1000) +
               " ms), " + describe(*subscriber);
  }
  WARN("publisher edge failover (" << name(how) << "): edge 1 died at 5 s; the SDK moved to edge 2 at +"
       << (moved->at_us - kFailAt) / 1000 << " ms, same stream 0x" << std::hex << stream << std::dec << ", "
       << p.data_without_edge << " DATA sent while without an edge" << figures);
}

}  // namespace
}  // namespace overline::sim::test
