// Several RelayCores on an in-memory network with fake time: subscription
// trees are built, merged, refreshed, pruned and moved, and DATA follows them.

#include <algorithm>
#include <catch2/catch.hpp>
#include <set>

#include "relay/core/relay_core.h"
#include "tests/unit/relay/core/test_network.h"

namespace overline::relay {
namespace {

using test::Bytes;
using test::makePacket;
using test::PacketSpec;
using test::TestNetwork;
using wire::PacketType;

constexpr DurationUs kRefresh = SubscriptionTimers{}.refresh_interval_us;
constexpr DurationUs kExpiry = SubscriptionTimers{}.expiry_us;

// 1 - 2 - 3 - 4, each relay routing toward the far end through the next one.
struct ChainOfFour {
  ChainOfFour() {
    net.setRoutes(1, {{3, 2}, {4, 2}});
    net.setRoutes(2, {{4, 3}});
  }
  TestNetwork net{{1, 2, 3, 4}, {{1, 2}, {2, 3}, {3, 4}}};
};

std::vector<std::uint8_t> hopLimitsOf(const TestNetwork& net, PacketType type) {
  std::vector<std::uint8_t> hop_limits;
  for (const TestNetwork::Transmission& t : net.log()) {
    if (t.header.type == type) hop_limits.push_back(t.header.hop_limit);
  }
  return hop_limits;
}

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

TEST_CASE("A chain of four relays builds the tree hop by hop and DATA flows down it") {
  ChainOfFour chain;
  TestNetwork& net = chain.net;
  TestNetwork::Client& subscriber = net.addClient(1);
  TestNetwork::Client& publisher = net.addClient(4);
  const StreamId stream = makeStreamId(4, 7);

  net.subscribe(subscriber, stream);
  CHECK(net.countSent(1, 2, PacketType::kSubscribe) == 1);
  CHECK(net.countSent(2, 3, PacketType::kSubscribe) == 1);
  CHECK(net.countSent(3, 4, PacketType::kSubscribe) == 1);
  CHECK(hopLimitsOf(net, PacketType::kSubscribe) == std::vector<std::uint8_t>{15, 14, 13});
  for (NodeId node : {1, 2, 3}) CHECK(net.relay(node).gauges().upstream_subscriptions == 1);
  CHECK(net.relay(4).gauges().upstream_subscriptions == 0);
  CHECK(net.relay(4).gauges().downstreams == 1);

  net.publish(publisher, stream, 1);
  REQUIRE(subscriber.receivedCount(PacketType::kData) == 1);
  const test::SentPacket& received = subscriber.received.back();
  Bytes expected = makePacket(PacketSpec{PacketType::kData, stream, 16, kNoNode, 1, 200});
  wire::rewriteHopFields(expected, 1, 12, 0);  // four relays each took one hop (instant links: age 0)
  CHECK(test::untagged(received.bytes) == expected);  // tagged for the subscriber
  CHECK(received.line == 0);
  for (NodeId node : {1, 2, 3, 4}) {
    CHECK(net.relay(node).counters().data_forwarded == 1);
    CHECK(net.relay(node).counters().droppedTotal() == 0);
  }
  CHECK(net.undeliverable() == 0);
}

TEST_CASE("Diamond: the tree follows the routes, and a route change moves a branch") {
  // 1 is the origin; 4 reaches it via 2 (or 3); 3 is also an edge itself.
  TestNetwork net({1, 2, 3, 4}, {{1, 2}, {1, 3}, {2, 4}, {3, 4}});
  net.setRoutes(4, {{1, 2}});
  TestNetwork::Client& publisher = net.addClient(1);
  TestNetwork::Client& at4 = net.addClient(4);
  TestNetwork::Client& at3 = net.addClient(3);
  const StreamId stream = makeStreamId(1, 1);

  net.subscribe(at4, stream);
  net.subscribe(at3, stream);
  CHECK(net.countSent(4, 2, PacketType::kSubscribe) == 1);
  CHECK(net.countSent(2, 1, PacketType::kSubscribe) == 1);
  CHECK(net.countSent(3, 1, PacketType::kSubscribe) == 1);
  CHECK(net.countSent(4, 3, PacketType::kSubscribe) == 0);

  net.publish(publisher, stream, 1);
  CHECK(dataSequences(at4) == std::multiset<std::uint32_t>{1});
  CHECK(dataSequences(at3) == std::multiset<std::uint32_t>{1});
  CHECK(net.relay(1).counters().data_forwarded == 2);
  CHECK(net.countSent(3, 4, PacketType::kData) == 0);

  // The controller now routes 4 -> 1 via 3: 4 subscribes to 3 at once and,
  // with no DATA flowing to prove the new branch, tears the branch through 2
  // down one refresh interval later (make before break).
  net.setRoutes(4, {{1, 3}});
  net.advance(net.relay(4).tickInterval());
  CHECK(net.countSent(4, 3, PacketType::kSubscribe) == 1);
  CHECK(net.countSent(3, 1, PacketType::kSubscribe) == 1);  // 3 already carried the stream
  CHECK(net.countSent(4, 2, PacketType::kUnsubscribe) == 0);
  net.advance(kRefresh);
  CHECK(net.countSent(4, 2, PacketType::kUnsubscribe) == 1);
  CHECK(net.countSent(2, 1, PacketType::kUnsubscribe) == 1);
  CHECK(net.relay(2).gauges().streams == 0);
  CHECK(net.relay(3).gauges().downstreams == 2);

  const std::uint64_t forwarded_by_2 = net.relay(2).counters().data_forwarded;
  for (std::uint32_t seq = 2; seq <= 5; ++seq) net.publish(publisher, stream, seq);
  net.advance(5 * kSecond);  // refreshes keep the new tree, nothing flows via 2
  net.publish(publisher, stream, 6);
  CHECK(dataSequences(at4) == std::multiset<std::uint32_t>{1, 2, 3, 4, 5, 6});
  CHECK(dataSequences(at3) == std::multiset<std::uint32_t>{1, 2, 3, 4, 5, 6});
  CHECK(net.relay(2).counters().data_forwarded == forwarded_by_2);
  CHECK(net.relay(1).counters().data_forwarded == 2 + 5);  // to 2 and 3, then to 3 only
  CHECK(net.relay(3).counters().data_forwarded == 1 + 2 * 5);
  for (NodeId node : {1, 2, 3, 4}) CHECK(net.relay(node).counters().downstreams_expired == 0);
}

TEST_CASE("Each DATA packet reaches each of two downstreams exactly once") {
  TestNetwork net({1, 2, 3}, {{1, 2}, {1, 3}});
  TestNetwork::Client& publisher = net.addClient(1);
  TestNetwork::Client& at2 = net.addClient(2);
  TestNetwork::Client& at3 = net.addClient(3);
  const StreamId stream = makeStreamId(1, 9);
  net.subscribe(at2, stream);
  net.subscribe(at3, stream);

  std::multiset<std::uint32_t> sent;
  for (std::uint32_t seq = 0; seq < 10; ++seq) {
    net.publish(publisher, stream, seq);
    sent.insert(seq);
  }
  CHECK(dataSequences(at2) == sent);
  CHECK(dataSequences(at3) == sent);
  CHECK(net.countSent(1, 2, PacketType::kData) == 10);
  CHECK(net.countSent(1, 3, PacketType::kData) == 10);
  CHECK(net.relay(1).counters().data_forwarded == 20);
  CHECK(dataSequences(publisher).empty());
}

TEST_CASE("Two subscribers behind one edge share one upstream subscription") {
  TestNetwork net({1, 2, 3}, {{1, 2}, {2, 3}});
  net.setRoutes(1, {{3, 2}});
  TestNetwork::Client& first = net.addClient(1);
  TestNetwork::Client& second = net.addClient(1);
  TestNetwork::Client& publisher = net.addClient(3);
  const StreamId stream = makeStreamId(3, 1);

  net.subscribe(first, stream);
  net.subscribe(second, stream);
  CHECK(net.countSent(1, 2, PacketType::kSubscribe) == 1);
  CHECK(net.countSent(2, 3, PacketType::kSubscribe) == 1);
  CHECK(net.relay(1).gauges().downstreams == 2);
  CHECK(net.relay(1).gauges().upstream_subscriptions == 1);
  CHECK(net.relay(3).gauges().downstreams == 1);

  // One refresh per interval upstream, however many downstreams refresh.
  net.advance(3 * kSecond);
  CHECK(net.countSent(1, 2, PacketType::kSubscribe) == 1 + 3 * kSecond / kRefresh);

  for (std::uint32_t seq = 0; seq < 5; ++seq) net.publish(publisher, stream, seq);
  CHECK(net.relay(3).counters().data_forwarded == 5);
  CHECK(net.relay(2).counters().data_forwarded == 5);
  CHECK(net.relay(1).counters().data_forwarded == 10);
  CHECK(dataSequences(first) == std::multiset<std::uint32_t>{0, 1, 2, 3, 4});
  CHECK(dataSequences(second) == std::multiset<std::uint32_t>{0, 1, 2, 3, 4});
}

TEST_CASE("Refreshes keep a tree alive long past the expiry time") {
  ChainOfFour chain;
  TestNetwork& net = chain.net;
  TestNetwork::Client& subscriber = net.addClient(1);
  TestNetwork::Client& publisher = net.addClient(4);
  const StreamId stream = makeStreamId(4, 1);
  net.subscribe(subscriber, stream);

  net.advance(10 * kExpiry);
  for (NodeId node : {1, 2, 3, 4}) {
    CHECK(net.relay(node).counters().downstreams_expired == 0);
    CHECK(net.relay(node).gauges().streams == 1);
  }
  CHECK(net.relay(1).counters().clients_expired == 0);
  net.publish(publisher, stream, 1);
  CHECK(dataSequences(subscriber) == std::multiset<std::uint32_t>{1});
}

TEST_CASE("A subscriber that stops refreshing is pruned and the UNSUBSCRIBE cascades to the origin") {
  ChainOfFour chain;
  TestNetwork& net = chain.net;
  TestNetwork::Client& subscriber = net.addClient(1);
  TestNetwork::Client& publisher = net.addClient(4);
  const StreamId stream = makeStreamId(4, 1);
  net.subscribe(subscriber, stream);
  net.advance(2 * kSecond);
  net.publish(publisher, stream, 1);
  REQUIRE(dataSequences(subscriber).size() == 1);

  net.stopRefreshing(subscriber);
  net.advance(kExpiry);
  CHECK(net.relay(1).counters().downstreams_expired == 1);
  CHECK(net.countSent(1, 2, PacketType::kUnsubscribe) == 1);
  CHECK(net.countSent(2, 3, PacketType::kUnsubscribe) == 1);
  CHECK(net.countSent(3, 4, PacketType::kUnsubscribe) == 1);
  for (NodeId node : {1, 2, 3, 4}) CHECK(net.relay(node).gauges().streams == 0);
  // The relays upstream were told; they did not have to wait for expiry.
  for (NodeId node : {2, 3, 4}) CHECK(net.relay(node).counters().downstreams_expired == 0);

  const std::uint64_t forwarded_by_origin = net.relay(4).counters().data_forwarded;
  for (std::uint32_t seq = 2; seq <= 4; ++seq) net.publish(publisher, stream, seq);
  CHECK(net.relay(4).counters().data_forwarded == forwarded_by_origin);
  CHECK(dropped(net, 4, DropReason::kNoSubscribers) == 3);
  CHECK(dataSequences(subscriber).size() == 1);
}

TEST_CASE("An explicit UNSUBSCRIBE tears the branch down at once") {
  ChainOfFour chain;
  TestNetwork& net = chain.net;
  TestNetwork::Client& subscriber = net.addClient(1);
  const StreamId stream = makeStreamId(4, 1);
  net.subscribe(subscriber, stream);
  net.stopRefreshing(subscriber);
  net.clientSend(subscriber, test::makeControl(PacketType::kUnsubscribe, stream));
  for (NodeId node : {1, 2, 3, 4}) CHECK(net.relay(node).gauges().streams == 0);
  for (NodeId node : {1, 2, 3}) CHECK(net.relay(node).counters().unsubscribes_sent == 1);
}

TEST_CASE("DATA stops where its hop limit runs out") {
  ChainOfFour chain;
  TestNetwork& net = chain.net;
  TestNetwork::Client& subscriber = net.addClient(1);
  TestNetwork::Client& publisher = net.addClient(4);
  const StreamId stream = makeStreamId(4, 1);
  net.subscribe(subscriber, stream);

  // 4 forwards with 2, 3 with 1, and 2 may not pass 0 on to relay 1.
  net.publish(publisher, stream, 1, 3);
  CHECK(hopLimitsOf(net, PacketType::kData) == std::vector<std::uint8_t>{2, 1});
  CHECK(dropped(net, 2, DropReason::kHopLimitExceeded) == 1);
  CHECK(dataSequences(subscriber).empty());

  // One more hop of budget: the edge delivers with hop limit 0 to its client.
  net.publish(publisher, stream, 2, 4);
  REQUIRE(dataSequences(subscriber) == std::multiset<std::uint32_t>{2});
  CHECK(subscriber.received.back().header().hop_limit == 0);
}

TEST_CASE("Inconsistent routes that point two relays at each other build no loop") {
  TestNetwork net({1, 2}, {{1, 2}});
  net.setRoutes(1, {{3, 2}});
  net.setRoutes(2, {{3, 1}});
  TestNetwork::Client& subscriber = net.addClient(1);
  net.subscribe(subscriber, makeStreamId(3, 1));
  CHECK(net.countSent(1, 2, PacketType::kSubscribe) == 1);
  CHECK(dropped(net, 2, DropReason::kNoRoute) == 1);
  CHECK(net.relay(2).gauges().streams == 0);
  CHECK(net.countSent(2, 1, PacketType::kSubscribe) == 0);

  net.advance(2 * kSecond);  // refreshes are refused the same way; nothing accumulates
  CHECK(net.relay(2).gauges().streams == 0);
  CHECK(dropped(net, 2, DropReason::kNoRoute) == net.countSent(1, 2, PacketType::kSubscribe));
}

}  // namespace
}  // namespace overline::relay
