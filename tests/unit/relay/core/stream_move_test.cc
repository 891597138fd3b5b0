// Streams whose publisher moves to another edge, or publishes through two
// edges at once, on an in-memory network of RelayCores (no controller: the
// stream directory is relay-to-relay). The subscriber keeps the stream id it
// asked for; a dual-homed stream loses nothing when one of its edges dies.

#include <algorithm>
#include <catch2/catch.hpp>
#include <set>
#include <vector>

#include "relay/core/relay_core.h"
#include "tests/unit/relay/core/test_network.h"

namespace overline::relay {
namespace {

using test::TestNetwork;
using wire::PacketType;

constexpr DurationUs kPacketInterval = 10 * kMillisecond;
constexpr DurationUs kExpiry = SubscriptionTimers{}.expiry_us;

// 1 is the subscriber's edge; 2 (the stream's home) and 3 are edges a
// publisher can use; every pair is linked.
struct Triangle {
  TestNetwork net{{1, 2, 3}, {{1, 2}, {1, 3}, {2, 3}}};
  const StreamId stream = makeStreamId(2, 7);

  void killEdge(NodeId node) {
    for (const NodeId other : {1, 2, 3}) {
      if (other != node) net.setPaths(node, other, test::PathModel{.down = true});
    }
  }
};

std::vector<std::uint32_t> dataSequences(const TestNetwork::Client& client, StreamId expected_stream) {
  std::vector<std::uint32_t> sequences;
  for (const test::SentPacket& packet : client.received) {
    const wire::Header header = packet.header();
    if (header.type != PacketType::kData) continue;
    CHECK(header.stream_id == expected_stream);  // the id it asked for, whatever the origin
    sequences.push_back(header.sequence);
  }
  return sequences;
}

TEST_CASE("A publisher that moves to another edge keeps its stream id, and the subscriber finds it there") {
  Triangle t;
  TestNetwork& net = t.net;
  TestNetwork::Client& subscriber = net.addClient(1);
  TestNetwork::Client& at_home = net.addClient(2);
  net.subscribe(subscriber, t.stream);
  std::uint32_t sequence = 0;
  for (; sequence < 20; ++sequence) {
    net.publish(at_home, t.stream, sequence);
    net.advance(kPacketInterval);
  }
  REQUIRE(dataSequences(subscriber, t.stream).size() == 20);

  // Edge 2 dies; the publisher joins edge 3 and goes on with the same stream.
  t.killEdge(2);
  TestNetwork::Client& moved = net.addClient(3);
  const std::uint32_t first_after_move = sequence;
  for (; sequence < 120; ++sequence) {
    net.publish(moved, t.stream, sequence);
    net.advance(kPacketInterval);
  }
  const std::vector<std::uint32_t> received = dataSequences(subscriber, t.stream);
  const std::set<std::uint32_t> unique(received.begin(), received.end());
  CHECK(unique.size() == received.size());  // no duplicates
  // Edge 3 announced the stream at its first DATA; relay 1 subscribed to it at
  // its next tick. What 3 received before that SUBSCRIBE had nobody to go to.
  const auto first_moved = unique.lower_bound(first_after_move);
  REQUIRE(first_moved != unique.end());
  CHECK(*first_moved <= first_after_move + 2);
  CHECK(unique.size() >= 118);
  CHECK(net.relay(3).counters().announces_sent >= 2);
  CHECK(net.relay(1).counters().origin_moves >= 1);

  // Once 2's announcement expired, 3 is relay 1's one upstream.
  net.advance(kExpiry + kPacketInterval);
  CHECK(net.relay(1).gauges().upstream_subscriptions == 1);
  CHECK(net.relay(1).gauges().extra_upstream_subscriptions == 0);
  const std::size_t before = dataSequences(subscriber, t.stream).size();
  net.publish(moved, t.stream, sequence++);
  CHECK(dataSequences(subscriber, t.stream).size() == before + 1);
}

TEST_CASE("A dual-homed publisher: the subscriber gets every packet once, and nothing is lost when one edge dies") {
  Triangle t;
  TestNetwork& net = t.net;
  TestNetwork::Client& subscriber = net.addClient(1);
  TestNetwork::Client& first = net.addClient(2);
  TestNetwork::Client& second = net.addClient(3);
  net.subscribe(subscriber, t.stream);
  for (std::uint32_t sequence = 0; sequence < 200; ++sequence) {
    // The SDK sends each packet through both edges, identical.
    net.publish(first, t.stream, sequence);
    net.publish(second, t.stream, sequence);
    net.advance(kPacketInterval);
    if (sequence == 50) {
      // Both branches are up: toward the home and toward the second edge.
      CHECK(net.relay(1).gauges().upstream_subscriptions == 1);
      CHECK(net.relay(1).gauges().extra_upstream_subscriptions == 1);
      CHECK(net.relay(1).gauges().directory_streams == 1);
      t.killEdge(2);
    }
  }
  const std::vector<std::uint32_t> received = dataSequences(subscriber, t.stream);
  std::vector<std::uint32_t> expected(200);
  for (std::uint32_t i = 0; i < 200; ++i) expected[i] = i;
  CHECK(received == expected);  // every sequence, once, in order
  CHECK(net.relay(1).counters().dropped[static_cast<std::size_t>(DropReason::kDuplicate)] > 0);
}

TEST_CASE("A branch toward one origin avoids the other origin: the route's backup is taken") {
  // A square: subscriber edge 1 reaches 3 through 2 (primary) or 4 (backup).
  // Relay 1's path to the second origin, 3, runs through the first, 2: the
  // extra branch goes through 4 instead, so killing 2 loses nothing.
  TestNetwork net{{1, 2, 3, 4}, {{1, 2}, {2, 3}, {3, 4}, {4, 1}}};
  net.setRouteEntries(1, {{3, RouteEntry{2, 4}}});
  const StreamId stream = makeStreamId(2, 7);
  TestNetwork::Client& subscriber = net.addClient(1);
  TestNetwork::Client& first = net.addClient(2);
  TestNetwork::Client& second = net.addClient(3);
  net.subscribe(subscriber, stream);
  for (std::uint32_t sequence = 0; sequence < 200; ++sequence) {
    net.publish(first, stream, sequence);
    net.publish(second, stream, sequence);
    net.advance(kPacketInterval);
    if (sequence == 50) {
      CHECK(net.relay(1).gauges().extra_upstream_subscriptions == 1);
      CHECK(net.countSent(1, 4, PacketType::kSubscribe) > 0);
      for (const NodeId other : {1, 3}) net.setPaths(2, other, test::PathModel{.down = true});
    }
  }
  std::vector<std::uint32_t> expected(200);
  for (std::uint32_t i = 0; i < 200; ++i) expected[i] = i;
  CHECK(dataSequences(subscriber, stream) == expected);

  // The subscriber leaves and the publication ends: no relay keeps any
  // branch alive for another.
  net.stopRefreshing(subscriber);
  net.advance(3 * kExpiry);
  for (const NodeId node : {1, 2, 3, 4}) {
    const RelayGauges gauges = net.relay(node).gauges();
    CHECK(gauges.streams == 0);
    // The table sizes kept incrementally come back to zero with it.
    CHECK(gauges.downstreams == 0);
    CHECK(gauges.upstream_subscriptions == 0);
    CHECK(gauges.extra_upstream_subscriptions == 0);
  }
}

TEST_CASE("A branch toward an origin that is a neighbour but routed through the other origin goes direct") {
  // A full mesh of three: subscriber edge 3's route to 1 runs through 2
  // (primary), though 1 is a neighbour too. Both 1 and 2 are origins: 3
  // takes its direct link to 1 as the second branch, with or without a
  // backup in the route.
  const bool with_backup = GENERATE(true, false);
  TestNetwork net{{1, 2, 3}, {{1, 2}, {1, 3}, {2, 3}}};
  net.setRouteEntries(3, {{1, RouteEntry{2, with_backup ? NodeId{1} : kNoNode}}});
  const StreamId stream = makeStreamId(1, 7);
  TestNetwork::Client& subscriber = net.addClient(3);
  TestNetwork::Client& first = net.addClient(1);
  TestNetwork::Client& second = net.addClient(2);
  net.subscribe(subscriber, stream);
  for (std::uint32_t sequence = 0; sequence < 200; ++sequence) {
    net.publish(first, stream, sequence);
    net.publish(second, stream, sequence);
    net.advance(kPacketInterval);
    if (sequence == 50) {
      CHECK(net.relay(3).gauges().upstream_subscriptions == 1);
      CHECK(net.relay(3).gauges().extra_upstream_subscriptions == 1);
      for (const NodeId other : {1, 3}) net.setPaths(2, other, test::PathModel{.down = true});
    }
  }
  std::vector<std::uint32_t> expected(200);
  for (std::uint32_t i = 0; i < 200; ++i) expected[i] = i;
  CHECK(dataSequences(subscriber, stream) == expected);
}

TEST_CASE("A relay that becomes an origin still takes what its dropped branches had in flight") {
  // The publisher is dual-homed on 1 and 2; 1 dies, and its replacement
  // edge is 3, the subscriber's own. When 3 becomes an origin it drops its
  // branch toward 2, which still has 30 ms of packets on the way.
  Triangle t;
  TestNetwork& net = t.net;
  for (const auto& [a, b] : {std::pair{1, 2}, {1, 3}, {2, 3}}) {
    net.setPaths(a, b, test::PathModel{.delay_us = 30 * kMillisecond});
  }
  const StreamId stream = makeStreamId(1, 7);
  TestNetwork::Client& subscriber = net.addClient(3);
  TestNetwork::Client& first = net.addClient(1);
  TestNetwork::Client& second = net.addClient(2);
  net.subscribe(subscriber, stream);
  net.advance(100 * kMillisecond);
  TestNetwork::Client* replacement = nullptr;
  for (std::uint32_t sequence = 0; sequence < 200; ++sequence) {
    if (sequence < 100) net.publish(first, stream, sequence);
    net.publish(second, stream, sequence);
    if (replacement != nullptr) net.publish(*replacement, stream, sequence);
    net.advance(5 * kMillisecond);
    if (sequence == 100) t.killEdge(1);
    if (sequence == 120) replacement = &net.addClient(3);
  }
  net.advance(100 * kMillisecond);
  std::vector<std::uint32_t> received = dataSequences(subscriber, stream);
  std::sort(received.begin(), received.end());
  std::vector<std::uint32_t> expected(200);
  for (std::uint32_t i = 0; i < 200; ++i) expected[i] = i;
  CHECK(received == expected);
  CHECK(net.relay(3).gauges().local_publications == 1);
}

TEST_CASE("A dual-homed subscriber's SUBSCRIBE names its other edge, and its edge routes around it") {
  // Subscriber edge 3 reaches the origin 1 through 2 (primary) or directly
  // (backup). The client is also joined to 2: a branch through 2 would die
  // with its other edge, so 3 subscribes directly to 1.
  const bool hinted = GENERATE(true, false);
  TestNetwork net{{1, 2, 3}, {{1, 2}, {1, 3}, {2, 3}}};
  net.setRouteEntries(3, {{1, RouteEntry{2, 1}}});
  const StreamId stream = makeStreamId(1, 7);
  TestNetwork::Client& subscriber = net.addClient(3);
  net.clientSend(subscriber, test::makePacket(test::PacketSpec{PacketType::kSubscribe, stream,
                                                               wire::kDefaultHopLimit, kNoNode, hinted ? 2u : 0u}));
  CHECK(net.countSent(3, 1, PacketType::kSubscribe) == (hinted ? 1 : 0));
  CHECK(net.countSent(3, 2, PacketType::kSubscribe) == (hinted ? 0 : 1));
}

TEST_CASE("Two edges that reach different origins through each other feed each other while they have subscribers") {
  // A square with a dual-homed publisher at 1 and 2 and subscribers at 3
  // and 4: 3 reaches 2 through 1 (an origin), so its branch toward 2 takes
  // its backup, 4; 4 likewise reaches 1 through 3. Each is the other's
  // downstream and upstream; either origin dying loses nothing at either.
  TestNetwork net{{1, 2, 3, 4}, {{1, 2}, {1, 3}, {3, 4}, {4, 2}}};
  net.setRouteEntries(3, {{2, RouteEntry{1, 4}}});
  net.setRouteEntries(4, {{1, RouteEntry{2, 3}}});
  const StreamId stream = makeStreamId(1, 7);
  TestNetwork::Client& at_3 = net.addClient(3);
  TestNetwork::Client& at_4 = net.addClient(4);
  TestNetwork::Client& first = net.addClient(1);
  TestNetwork::Client& second = net.addClient(2);
  net.subscribe(at_3, stream);
  net.subscribe(at_4, stream);
  for (std::uint32_t sequence = 0; sequence < 300; ++sequence) {
    net.publish(first, stream, sequence);
    net.publish(second, stream, sequence);
    net.advance(kPacketInterval);
    if (sequence == 100) {
      CHECK(net.relay(3).gauges().extra_upstream_subscriptions == 1);
      CHECK(net.relay(4).gauges().extra_upstream_subscriptions == 1);
      for (const NodeId other : {2, 3}) net.setPaths(1, other, test::PathModel{.down = true});
    }
  }
  std::vector<std::uint32_t> expected(300);
  for (std::uint32_t i = 0; i < 300; ++i) expected[i] = i;
  CHECK(dataSequences(at_3, stream) == expected);
  CHECK(dataSequences(at_4, stream) == expected);

  net.stopRefreshing(at_3);
  net.stopRefreshing(at_4);
  net.advance(3 * kExpiry);
  for (const NodeId node : {1, 2, 3, 4}) CHECK(net.relay(node).gauges().streams == 0);
}

TEST_CASE("A malformed ANNOUNCE from a neighbour, or any ANNOUNCE from a client, is a counted drop") {
  Triangle t;
  TestNetwork& net = t.net;
  // A tagged ANNOUNCE from neighbour 2 whose payload is an origin and half a stream id.
  RelayCore& relay = net.relay(1);
  test::TestPeers peers(1);
  test::Bytes bad = test::makePacket(test::PacketSpec{PacketType::kAnnounce, 0, wire::kDefaultHopLimit, 2, 1, 8});
  relay.onDatagram(0, test::relayLine(2, 0), peers.fromNeighbour(2, bad), net.now());
  CHECK(relay.counters().dropped[static_cast<std::size_t>(DropReason::kMalformedAnnounce)] == 1);
  CHECK(relay.counters().announces_forwarded == 0);
  CHECK(relay.gauges().directory_streams == 0);
  // A client may not announce: unexpected_type, nothing recorded.
  TestNetwork::Client& client = net.addClient(1);
  net.clientSend(client, test::makePacket(test::PacketSpec{PacketType::kAnnounce, 0, wire::kDefaultHopLimit,
                                                           kNoNode, 1, 12}));
  CHECK(relay.counters().dropped[static_cast<std::size_t>(DropReason::kUnexpectedType)] == 1);
  CHECK(relay.gauges().directory_streams == 0);
}

TEST_CASE("Announcements flood around a loop once: copies over the other path are recognised") {
  Triangle t;
  TestNetwork& net = t.net;
  TestNetwork::Client& publisher = net.addClient(3);
  net.publish(publisher, t.stream, 0);
  // 3 announced to 1 and 2; each floods it on to the other, which has it already.
  CHECK(net.relay(3).counters().announces_sent == 2);
  CHECK(net.relay(1).counters().announces_forwarded == 1);
  CHECK(net.relay(2).counters().announces_forwarded == 1);
  CHECK(net.relay(1).counters().announces_seen + net.relay(2).counters().announces_seen == 2);
  CHECK(net.relay(3).counters().announces_seen == 0);  // never sent back the way it came
  // The home learns it too: while 3 publishes it, 2 would subscribe to 3.
  CHECK(net.relay(2).gauges().directory_streams == 1);
  CHECK(net.relay(1).counters().droppedTotal() == 0);
}

}  // namespace
}  // namespace overline::relay
