// Failover tables, redundant mode and dedup on the in-memory network.

#include <algorithm>
#include <catch2/catch.hpp>
#include <set>

#include "relay/core/relay_core.h"
#include "tests/unit/relay/core/test_network.h"

namespace overline::relay {
namespace {

using test::makePacket;
using test::PacketSpec;
using test::PathModel;
using test::relayLine;
using test::TestNetwork;
using wire::PacketType;

constexpr DurationUs kInterval = ProbingConfig{}.interval_us;
constexpr DurationUs kDownAfter = ProbingConfig{}.down_after_us;
constexpr DurationUs kFailbackHold = FailoverConfig{}.failback_hold_us;
constexpr DurationUs kRefresh = SubscriptionTimers{}.refresh_interval_us;
constexpr PathModel kCut{0, 0, 0, true};

std::uint64_t dropped(TestNetwork& net, NodeId node, DropReason reason) {
  return net.relay(node).counters().dropped[static_cast<std::size_t>(reason)];
}

std::multiset<std::uint32_t> dataSequences(const TestNetwork::Client& client) {
  std::multiset<std::uint32_t> sequences;
  for (const test::SentPacket& p : client.received) {
    if (p.header().type == PacketType::kData) sequences.insert(p.header().sequence);
  }
  return sequences;
}

// When relay `from` first sent `type` to relay `to` at or after `since_us`.
std::optional<TimeUs> firstSent(const TestNetwork& net, NodeId from, NodeId to, PacketType type, TimeUs since_us) {
  for (const TestNetwork::Transmission& t : net.log()) {
    if (t.at_us >= since_us && t.from_node == from && t.header.type == type &&
        (t.to == relayLine(to, 0) || t.to == relayLine(to, 1))) {
      return t.at_us;
    }
  }
  return std::nullopt;
}

// Diamond: origin 1; relay 4 (the subscriber's edge) reaches it through 2,
// with 3 as the backup. 1 publishes a packet every 10 ms with timestamps that
// grow with the sequence, as the SDK's do.
struct Diamond {
  Diamond() {
    net.setPaths(1, 2, PathModel{2 * kMillisecond});
    net.setPaths(1, 3, PathModel{2 * kMillisecond});
    net.setPaths(2, 4, PathModel{2 * kMillisecond});
    net.setPaths(3, 4, PathModel{2 * kMillisecond});
    net.setRouteEntries(4, {{1, RouteEntry{2, 3}}});
    net.subscribe(subscriber, stream);
    net.advance(2 * kSecond);
  }
  void publishFor(DurationUs duration_us) {
    for (const TimeUs end = net.now() + duration_us; net.now() < end;) {
      PacketSpec spec;
      spec.stream = stream;
      spec.sequence = sequence;
      spec.timestamp_us = 1'000'000 + sequence;
      spec.payload_bytes = 100;
      ++sequence;
      net.clientSend(publisher, makePacket(spec));
      net.advance(10 * kMillisecond);
    }
  }

  TestNetwork net{{1, 2, 3, 4}, {{1, 2}, {1, 3}, {2, 4}, {3, 4}}};
  TestNetwork::Client& publisher = net.addClient(1);
  TestNetwork::Client& subscriber = net.addClient(4);
  const StreamId stream = makeStreamId(1, 1);
  std::uint32_t sequence = 0;
};

TEST_CASE("failover to the backup when the primary's links all go down; failback only after the hold") {
  Diamond d;
  TestNetwork& net = d.net;
  REQUIRE(net.countSent(4, 2, PacketType::kSubscribe) >= 1);
  REQUIRE(net.countSent(4, 3, PacketType::kSubscribe) == 0);
  d.publishFor(500 * kMillisecond);
  REQUIRE(dataSequences(d.subscriber).size() == d.sequence);

  // Every line pair between 2 and 4 fails.
  net.setPaths(2, 4, kCut);
  const TimeUs cut = net.now();
  const std::uint32_t first_after_cut = d.sequence;
  d.publishFor(kSecond);

  // The stream followed at once: SUBSCRIBE to the backup (and UNSUBSCRIBE to
  // the primary) at the tick that saw the last link to 2 go DOWN.
  CHECK(net.relay(4).counters().failovers == 1);
  const auto subscribed_backup = firstSent(net, 4, 3, PacketType::kSubscribe, cut);
  const auto unsubscribed_primary = firstSent(net, 4, 2, PacketType::kUnsubscribe, cut);
  REQUIRE(subscribed_backup);
  REQUIRE(unsubscribed_primary);
  CHECK(*subscribed_backup == *unsubscribed_primary);
  CHECK(*subscribed_backup - cut <= kDownAfter + kInterval);
  CHECK(net.relay(3).gauges().streams == 1);

  // Only what was published before the move is lost; nothing twice.
  std::multiset<std::uint32_t> received = dataSequences(d.subscriber);
  const std::uint32_t lost_before_move =
      static_cast<std::uint32_t>((kDownAfter + kInterval) / (10 * kMillisecond)) + 1;
  for (std::uint32_t s = 0; s < d.sequence; ++s) {
    CAPTURE(s);
    CHECK(received.count(s) <= 1);
    if (s < first_after_cut || s >= first_after_cut + lost_before_move) CHECK(received.count(s) == 1);
  }

  // The primary comes back. Its links are UP again after up_after_acks ACKs
  // (about 100 ms); the stream returns only after failback_hold more.
  net.setPaths(2, 4, PathModel{2 * kMillisecond});
  const TimeUs restored = net.now();
  d.publishFor(kFailbackHold);
  CHECK_FALSE(firstSent(net, 4, 2, PacketType::kSubscribe, restored));
  CHECK(net.relay(4).counters().failbacks == 0);
  d.publishFor(300 * kMillisecond);
  CHECK(net.relay(4).counters().failbacks == 1);
  const auto resubscribed = firstSent(net, 4, 2, PacketType::kSubscribe, restored);
  REQUIRE(resubscribed);
  CHECK(*resubscribed - restored >= kFailbackHold);
  CHECK(*resubscribed - restored <= kFailbackHold + 200 * kMillisecond);
  // Make before break: the backup is released when the primary's first
  // DATA arrives (a few ms: 2 -> 1 -> 2 -> 4), not before.
  const auto unsubscribed_backup = firstSent(net, 4, 3, PacketType::kUnsubscribe, restored);
  REQUIRE(unsubscribed_backup);
  CHECK(*unsubscribed_backup > *resubscribed);
  CHECK(*unsubscribed_backup - *resubscribed < 50 * kMillisecond);

  // Meanwhile both branches delivered: 4 took DATA from either and dropped
  // the overlap as duplicates, so the client saw no gap and no repeat.
  d.publishFor(2 * kRefresh);
  received = dataSequences(d.subscriber);
  const std::uint32_t lost_budget = static_cast<std::uint32_t>((kDownAfter + kInterval) / (10 * kMillisecond)) + 1;
  for (std::uint32_t s = 0; s < d.sequence; ++s) {
    CAPTURE(s);
    CHECK(received.count(s) <= 1);
    if (s >= first_after_cut + lost_budget) CHECK(received.count(s) == 1);
  }
  CHECK(net.relay(4).counters().failovers == 1);
  CHECK(net.relay(4).gauges().upstream_subscriptions == 1);
  // (2 never heard 4's UNSUBSCRIBE across the cut, so it kept sending to 4,
  // which refused it as not_upstream, until its downstream entry expired.)
}

TEST_CASE("a direct neighbour that is its own primary fails over to its backup") {
  // Triangle: relay 1 subscribes to 2's stream directly, through 3 when the
  // direct links die.
  TestNetwork net({1, 2, 3}, {{1, 2}, {1, 3}, {2, 3}});
  net.setRouteEntries(1, {{2, RouteEntry{2, 3}}});
  TestNetwork::Client& publisher = net.addClient(2);
  TestNetwork::Client& subscriber = net.addClient(1);
  const StreamId stream = makeStreamId(2, 1);
  net.subscribe(subscriber, stream);
  net.advance(kSecond);
  REQUIRE(net.countSent(1, 2, PacketType::kSubscribe) >= 1);

  net.setPaths(1, 2, kCut);
  const TimeUs cut = net.now();
  net.advance(kDownAfter + kInterval);
  const auto moved = firstSent(net, 1, 3, PacketType::kSubscribe, cut);
  REQUIRE(moved);
  CHECK(net.relay(1).counters().failovers == 1);
  CHECK(net.relay(3).gauges().upstream_subscriptions == 1);  // 3 joined 2's tree for 1
  net.publish(publisher, stream, 1);
  CHECK(dataSequences(subscriber) == std::multiset<std::uint32_t>{1});
}

TEST_CASE("redundant DATA goes on two disjoint links; each relay and client takes it once") {
  // 1 -> 2 -> 3, a subscriber on 2 and one on 3.
  TestNetwork net({1, 2, 3}, {{1, 2}, {2, 3}});
  net.setRoutes(3, {{1, 2}});
  net.setPaths(1, 2, PathModel{3 * kMillisecond});
  net.setPaths(2, 3, PathModel{3 * kMillisecond});
  TestNetwork::Client& publisher = net.addClient(1);
  TestNetwork::Client& at2 = net.addClient(2);
  TestNetwork::Client& at3 = net.addClient(3);
  const StreamId stream = makeStreamId(1, 5);
  net.subscribe(at2, stream);
  net.subscribe(at3, stream);
  net.advance(kSecond);

  // Sequences run across the 32-bit wrap.
  constexpr std::uint32_t kFirst = 0xFFFFFFC0u;
  constexpr std::uint32_t kCount = 200;
  auto publish = [&](std::uint32_t i) {
    PacketSpec spec;
    spec.stream = stream;
    spec.sequence = kFirst + i;
    spec.timestamp_us = 5'000'000 + i;
    spec.flags = wire::kFlagRedundant;
    spec.payload_bytes = 200;
    net.clientSend(publisher, makePacket(spec));
    net.advance(5 * kMillisecond);
  };
  const std::size_t log_start = net.log().size();
  for (std::uint32_t i = 0; i < 100; ++i) publish(i);

  // Two copies per packet on each relay hop, on line pairs that share no line.
  std::map<std::uint32_t, std::vector<const TestNetwork::Transmission*>> copies_1_to_2;
  for (std::size_t i = log_start; i < net.log().size(); ++i) {
    const TestNetwork::Transmission& t = net.log()[i];
    if (t.header.type != PacketType::kData) continue;
    CHECK(t.header.flags == wire::kFlagRedundant);  // kept hop by hop
    if (t.from_node == 1 && test::nodeOfRelayLine(t.to) == 2) copies_1_to_2[t.header.sequence].push_back(&t);
  }
  REQUIRE(copies_1_to_2.size() == 100);
  for (const auto& [sequence, copies] : copies_1_to_2) {
    CAPTURE(sequence);
    REQUIRE(copies.size() == 2);
    CHECK(copies[0]->from != copies[1]->from);
    CHECK(copies[0]->to != copies[1]->to);
  }
  net.advance(10 * kMillisecond);  // the last copies reach 3
  CHECK(net.relay(1).counters().redundant_copies_sent == 100);
  CHECK(net.relay(1).counters().data_forwarded == 100);
  CHECK(net.relay(2).counters().redundant_copies_sent == 100);
  CHECK(dropped(net, 2, DropReason::kDuplicate) == 100);
  CHECK(dropped(net, 3, DropReason::kDuplicate) == 100);
  CHECK(net.relay(2).counters().data_forwarded == 200);  // one to 3, one to the client

  // Relay 1's line 0 fails (its ISP goes away): the copy on line 1 carries
  // every packet while the relays notice and re-choose.
  net.setPath(1, 0, 2, 0, PathModel{0, 0, 0, true});
  net.setPath(1, 0, 2, 1, PathModel{0, 0, 0, true});
  for (std::uint32_t i = 100; i < kCount; ++i) publish(i);
  net.advance(100 * kMillisecond);

  std::multiset<std::uint32_t> expected;
  for (std::uint32_t i = 0; i < kCount; ++i) expected.insert(kFirst + i);
  CHECK(dataSequences(at2) == expected);
  CHECK(dataSequences(at3) == expected);
  CHECK(net.relay(1).counters().path_switches >= 1);
}

TEST_CASE("without the flag, DATA takes one link; duplicates from anywhere are dropped") {
  TestNetwork net({1, 2}, {{1, 2}});
  TestNetwork::Client& publisher = net.addClient(1);
  TestNetwork::Client& subscriber = net.addClient(2);
  const StreamId stream = makeStreamId(1, 2);
  net.subscribe(subscriber, stream);
  net.advance(kSecond);
  for (std::uint32_t s = 0; s < 10; ++s) net.publish(publisher, stream, s);
  net.publish(publisher, stream, 4);  // the publisher repeats itself
  CHECK(net.countSent(1, 2, PacketType::kData) == 10);
  CHECK(net.relay(1).counters().redundant_copies_sent == 0);
  CHECK(dropped(net, 1, DropReason::kDuplicate) == 1);
  CHECK(dataSequences(subscriber).size() == 10);
}

}  // namespace
}  // namespace overline::relay
