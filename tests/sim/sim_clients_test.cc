// SimClient (the SDK's SessionCore on the simulator's clock), SimPublisher
// and SimSubscriber on one relay, and gap analysis.
#include "simulations/sim_clients.h"

#include <catch2/catch.hpp>

#include "simulations/topology.h"

namespace overline::sim {
namespace {

const std::vector<LineRef> kRelayOne{{.node = 1}};

TEST_CASE("a client joins its edge, keeps it alive, and wakes only at the core's deadlines", "[sim][clients]") {
  Simulator simulator;
  SimNetwork network(simulator, 1);
  addTopology(network, Topology{.nodes = {{.id = 1}}});
  SimClient client(network, ClientConfig{.edges = kRelayOne, .join_at_us = 10 * kMillisecond});
  simulator.runUntil(10 * kSecond + 5 * kMillisecond);

  // HELLO at 10 ms, CHALLENGE back at 12 ms, HELLO with the cookie, WELCOME at 14 ms.
  const Endpoint edge = relayLineEndpoint(1, 0);
  REQUIRE(client.events().size() == 2);
  CHECK(client.events()[0].at_us == 14 * kMillisecond);
  CHECK(client.events()[0].event == sdk::SessionEvent{sdk::SessionEventType::kJoined, kNoNode, 1, edge});
  CHECK(client.events()[1].at_us == 14 * kMillisecond);
  CHECK(client.events()[1].event == sdk::SessionEvent{sdk::SessionEventType::kConnected, kNoNode, 1, edge});
  CHECK(client.core().connected());
  CHECK(client.core().edgeNode() == 1);
  CHECK(client.core().reflexiveAddress() == client.endpoint());
  const sdk::SessionCounters c = client.core().counters();
  // A keepalive every 100 ms from the join on, each answered: 99 answered by 9.914 s.
  CHECK(c.packets_sent == 2 + 99);
  CHECK(c.hello_replies == 99);
  CHECK(c.dead_edges == 0);
  CHECK(c.unknown_source + c.unauthenticated + c.malformed == 0);
  // The client wakes at its deadlines only (a keepalive every 100 ms, a
  // subscription refresh every 500 ms), never polls: on top of the relay
  // alone, one event per packet delivered and per wake-up, and the relay's
  // own wake-ups for the session's expiry deadline (one per client_expiry;
  // the relay ticks at its deadlines too).
  Simulator alone;
  SimNetwork relay_only(alone, 1);
  addTopology(relay_only, Topology{.nodes = {{.id = 1}}});
  alone.runUntil(10 * kSecond + 5 * kMillisecond);
  const std::uint64_t deliveries = c.packets_sent + c.packets_received;
  const std::uint64_t wakeups = 1 + 99 + 10 * kSecond / sdk::SessionConfig{}.refresh_interval_us +
                                10 * kSecond / relay::Limits{}.client_expiry_us;
  CHECK(simulator.eventsRun() - alone.eventsRun() <= deliveries + wakeups);
}

TEST_CASE("a subscriber on the origin edge receives the publisher's packets once, in order", "[sim][clients]") {
  Simulator simulator;
  SimNetwork network(simulator, 1);
  addTopology(network, Topology{.nodes = {{.id = 1}}});
  SimSubscriber subscriber(network, SubscriberConfig{.edges = kRelayOne, .stream = makeStreamId(1, 7)});
  SimPublisher publisher(network, PublisherConfig{.edges = kRelayOne,
                                                  .stream_local_id = 7,
                                                  .packets_per_second = 100,
                                                  .start_us = 100 * kMillisecond,
                                                  .stop_us = 1100 * kMillisecond});
  CHECK(publisher.streamId() == 0);  // not joined yet
  simulator.runUntil(2 * kSecond);

  CHECK(publisher.streamId() == makeStreamId(1, 7));
  CHECK(publisher.packetsSent() == 100);
  CHECK(publisher.sendTimeOf(3) == 130 * kMillisecond);
  CHECK(publisher.client().core().connected());
  CHECK(publisher.client().core().counters().hello_replies > 0);
  CHECK(subscriber.client().core().connected());
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
  // The SDK's playout handed every packet on, in order.
  const sdk::SessionCounters played = subscriber.client().core().counters();
  CHECK(played.data_delivered == 100);
  CHECK(played.playout_lost == 0);
}

TEST_CASE("DATA due before the publisher's join waits for it and keeps its due time", "[sim][clients]") {
  Simulator simulator;
  SimNetwork network(simulator, 1);
  addTopology(network, Topology{.nodes = {{.id = 1}}});
  SimSubscriber subscriber(network, SubscriberConfig{.edges = kRelayOne, .stream = makeStreamId(1, 1)});
  SimPublisher publisher(network, PublisherConfig{.edges = kRelayOne, .stop_us = 100 * kMillisecond});
  // The publisher's way to its edge takes 10 ms: it joins at 22 ms, with
  // DATA 0..21 due by then.
  network.editPath(publisher.client().endpoint(), relayLineEndpoint(1, 0), setDelay(10 * kMillisecond));
  simulator.runUntil(1 * kSecond);

  REQUIRE(publisher.packetsSent() == 100);
  const sdk::ReceiveSnapshot snapshot = subscriber.stats().snapshot();
  CHECK(snapshot.unique == 100);
  CHECK(snapshot.lost == 0);
  CHECK(snapshot.reordered == 0);
  REQUIRE(!subscriber.arrivals().empty());
  CHECK(subscriber.arrivals().front() == Arrival{33 * kMillisecond, 0});
  CHECK(snapshot.latency_max_us == 33 * kMillisecond);  // DATA 0, stamped 0, sent at 22 ms
  CHECK(publisher.client().core().counters().data_without_edge == 0);
}

TEST_CASE("a publisher's schedule does not drift at rates that do not divide a second", "[sim][clients]") {
  Simulator simulator;
  SimNetwork network(simulator, 1);
  addTopology(network, Topology{.nodes = {{.id = 1}}});
  SimPublisher publisher(network, PublisherConfig{.edges = kRelayOne, .packets_per_second = 3, .stop_us = 1 * kSecond});
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
