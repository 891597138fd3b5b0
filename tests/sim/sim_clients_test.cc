// SimPublisher and SimSubscriber on one relay (the stream's origin is the
// subscriber's edge), and gap analysis.
#include "simulations/sim_clients.h"

#include <catch2/catch.hpp>

#include "simulations/topology.h"

namespace overline::sim {
namespace {

TEST_CASE("a subscriber on the origin edge receives the publisher's packets once, in order", "[sim][clients]") {
  Simulator simulator;
  SimNetwork network(simulator, 1);
  addTopology(network, Topology{.nodes = {{.id = 1}}});
  SimSubscriber subscriber(network, SubscriberConfig{.edge = 1, .stream = makeStreamId(1, 7)});
  SimPublisher publisher(network, PublisherConfig{.edge = 1,
                                                  .stream_local_id = 7,
                                                  .packets_per_second = 100,
                                                  .start_us = 100 * kMillisecond,
                                                  .stop_us = 1100 * kMillisecond});
  simulator.runUntil(2 * kSecond);

  CHECK(publisher.streamId() == makeStreamId(1, 7));
  CHECK(publisher.packetsSent() == 100);
  CHECK(publisher.sendTimeOf(3) == 130 * kMillisecond);
  CHECK(publisher.edgeAnswered());
  CHECK(subscriber.edgeAnswered());
  const sdk::ReceiveSnapshot snapshot = subscriber.stats().snapshot();
  CHECK(snapshot.unique == 100);
  CHECK(snapshot.duplicates == 0);
  CHECK(snapshot.lost == 0);
  CHECK(snapshot.reordered == 0);
  // Publisher -> edge 1 ms, edge -> subscriber 1 ms: exact on a virtual clock.
  CHECK(snapshot.latency_max_us == 2 * kMillisecond);
  REQUIRE(subscriber.arrivals().size() == 100);
  CHECK(subscriber.arrivals().front().at_us == 102 * kMillisecond);
  CHECK(subscriber.largestGapUs() == 10 * kMillisecond);
}

TEST_CASE("a publisher's schedule does not drift at rates that do not divide a second", "[sim][clients]") {
  Simulator simulator;
  SimNetwork network(simulator, 1);
  addTopology(network, Topology{.nodes = {{.id = 1}}});
  SimPublisher publisher(network, PublisherConfig{.edge = 1, .packets_per_second = 3, .stop_us = 1 * kSecond});
  CHECK(publisher.sendTimeOf(1) == 333333);
  CHECK(publisher.sendTimeOf(3) == 1 * kSecond);
  simulator.runUntil(2 * kSecond);
  CHECK(publisher.packetsSent() == 3);
}

TEST_CASE("largestGap finds the longest gap overlapping a window", "[sim][clients]") {
  const std::vector<Arrival> arrivals{{0, 0}, {10, 1}, {50, 2}, {55, 3}, {200, 4}, {205, 5}};
  CHECK(largestGap(arrivals, 0, 1000).start_us == 55);
  CHECK(largestGap(arrivals, 0, 1000).lengthUs() == 145);
  CHECK(largestGap(arrivals, 0, 40).lengthUs() == 40);   // 10 -> 50 overlaps the window
  CHECK(largestGap(arrivals, 201, 1000).lengthUs() == 5);
  CHECK(largestGap(arrivals, 300, 1000).lengthUs() == 0);
  CHECK(largestGap({}, 0, 1000).lengthUs() == 0);
}

}  // namespace
}  // namespace overline::sim
