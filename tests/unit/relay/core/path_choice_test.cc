// Link probing and per-hop path choice in RelayCore: one relay driven
// directly, and relays on the in-memory network with modeled line pairs.

#include <algorithm>
#include <catch2/catch.hpp>
#include <set>

#include "relay/core/relay_core.h"
#include "tests/unit/relay/core/test_network.h"
#include "tests/unit/relay/core/test_peers.h"

namespace overline::relay {
namespace {

using test::Bytes;
using test::clientEndpoint;
using test::makeControl;
using test::makePacket;
using test::PacketSpec;
using test::PathModel;
using test::RecordingSink;
using test::relayLine;
using test::TestNetwork;
using wire::PacketType;

constexpr DurationUs kInterval = ProbingConfig{}.interval_us;
constexpr DurationUs kDownAfter = ProbingConfig{}.down_after_us;

RelayCoreConfig twoNeighbours() {
  RelayCoreConfig config;
  config.node_id = 1;
  config.line_count = 2;
  config.neighbours = {
      NeighbourConfig{2, {relayLine(2, 0), relayLine(2, 1)}},
      NeighbourConfig{3, {relayLine(3, 0), relayLine(3, 1)}},
  };
  return test::withTestAuth(config);
}

Bytes probe(std::uint32_t sequence, std::uint64_t timestamp_us, NodeId sender) {
  PacketSpec spec;
  spec.type = PacketType::kProbe;
  spec.hop_limit = 1;
  spec.sender = sender;
  spec.sequence = sequence;
  spec.timestamp_us = timestamp_us;
  return makePacket(spec);
}

std::vector<LinkSnapshot> linksTo(const RelayCore& relay, NodeId neighbour) {
  std::vector<LinkSnapshot> links = relay.links();
  std::erase_if(links, [&](const LinkSnapshot& l) { return l.neighbour != neighbour; });
  return links;
}

LinkSnapshot activeLink(const RelayCore& relay, NodeId neighbour) {
  const std::vector<LinkSnapshot> links = linksTo(relay, neighbour);
  const auto it = std::find_if(links.begin(), links.end(), [](const LinkSnapshot& l) { return l.active; });
  REQUIRE(it != links.end());
  return *it;
}

TEST_CASE("a PROBE from a neighbour is answered with a same-size PROBE_ACK from its arrival line") {
  RecordingSink sink;
  RelayCore relay(twoNeighbours(), sink);
  test::TestPeers peers(1);
  const Bytes question = peers.fromNeighbour(2, probe(9, 0x0102030405, 2));
  relay.onDatagram(1, relayLine(2, 1), question, 5 * kSecond);

  REQUIRE(sink.probes.size() == 1);
  const test::SentPacket& answer = sink.probes[0];
  CHECK(answer.line == 1);
  CHECK(answer.to == relayLine(2, 1));
  CHECK(answer.bytes.size() == question.size());  // no amplification
  CHECK(answer.bytes.size() == wire::kHeaderBytes + wire::kTagBytes);
  const wire::Header header = answer.header();
  CHECK(header.type == PacketType::kProbeAck);
  CHECK(header.sender_node_id == 1);
  CHECK(header.sequence == 9);
  CHECK(header.timestamp_us == 0x0102030405u);
  CHECK(relay.counters().probe_acks_sent == 1);
  CHECK(relay.counters().probe_bytes_sent == wire::kHeaderBytes + wire::kTagBytes);
  CHECK(relay.counters().droppedTotal() == 0);
  CHECK(sink.sent.empty());
}

TEST_CASE("PROBE and PROBE_ACK from anyone but a neighbour are dropped unanswered") {
  RecordingSink sink;
  RelayCore relay(twoNeighbours(), sink);
  const TimeUs now = 5 * kSecond;
  relay.onDatagram(0, clientEndpoint(1), probe(1, 1, 9), now);
  relay.onDatagram(0, clientEndpoint(1), test::makeProbeAck(wire::parsePacket(probe(1, 1, 9))->header, 9), now);
  // A joined SDK client is no neighbour either.
  test::TestPeers peers(1);
  relay.onDatagram(0, clientEndpoint(2), peers.fromClient(clientEndpoint(2), makeControl(PacketType::kHello, 0), now), now);
  relay.onDatagram(0, clientEndpoint(2), peers.fromClient(clientEndpoint(2), probe(1, 1, 0), now), now);
  CHECK(relay.counters().dropped[static_cast<std::size_t>(DropReason::kUnknownSource)] == 3);
  CHECK(sink.probes.empty());
  CHECK(sink.sent.size() == 1);  // the HELLO answer
  CHECK(relay.counters().probe_acks_sent == 0);
}

TEST_CASE("probes go out on every link, staggered, and ACKs give each link its RTT") {
  TestNetwork net({1, 2}, {{1, 2}});
  net.setPaths(1, 2, PathModel{5 * kMillisecond});  // 10 ms RTT
  const TimeUs start = net.now();
  net.advance(kSecond);

  const std::vector<LinkSnapshot> links = linksTo(net.relay(1), 2);
  REQUIRE(links.size() == 4);
  std::set<std::pair<LineIndex, LineIndex>> pairs;
  for (const LinkSnapshot& link : links) {
    CAPTURE(link.local_line, link.remote_line);
    pairs.emplace(link.local_line, link.remote_line);
    CHECK(link.state == LinkState::kUp);
    CHECK(link.srtt_us == 10 * kMillisecond);
    CHECK(link.jitter_us == 0);
    CHECK(link.loss_ratio == 0);
    CHECK(link.probes_sent == 50);
    CHECK(link.acks_received >= 49);
  }
  CHECK(pairs.size() == 4);

  // The four links' probes go out at four different times in each interval.
  std::set<TimeUs> first_probe_at;
  for (const TestNetwork::Transmission& t : net.log()) {
    if (t.from_node == 1 && t.header.type == PacketType::kProbe && t.at_us <= start + kInterval) {
      first_probe_at.insert(t.at_us);
      CHECK(t.header.sender_node_id == 1);
      CHECK(t.header.hop_limit == 1);
    }
  }
  CHECK(first_probe_at.size() == 4);

  const RelayCounters& c = net.relay(1).counters();
  CHECK(c.probes_sent == 200);
  // Every probe of relay 2 is answered but those still in flight.
  CHECK(c.probe_acks_sent <= net.relay(2).counters().probes_sent);
  CHECK(c.probe_acks_sent >= net.relay(2).counters().probes_sent - 4);
  CHECK(c.probe_acks_received >= 196);
  CHECK(c.probe_bytes_sent == (c.probes_sent + c.probe_acks_sent) * (wire::kHeaderBytes + wire::kTagBytes));
  CHECK(c.droppedTotal() == 0);
  CHECK(c.path_switches == 0);  // the first choice is not a switch
}

TEST_CASE("links of a silent neighbour go DOWN after down_after and come back after up_after_acks") {
  TestNetwork net({1, 2}, {{1, 2}});
  net.advance(kSecond);
  net.setPaths(1, 2, PathModel{0, 0, 0, true});
  const TimeUs cut = net.now();
  net.advance(kDownAfter - 5 * kMillisecond);
  for (const LinkSnapshot& link : linksTo(net.relay(1), 2)) CHECK(link.state == LinkState::kUp);
  net.advance(kInterval + 5 * kMillisecond);
  CHECK(net.now() - cut == kDownAfter + kInterval);
  for (const LinkSnapshot& link : linksTo(net.relay(1), 2)) CHECK(link.state == LinkState::kDown);

  net.setPaths(1, 2, PathModel{});
  net.advance(4 * kInterval - 5 * kMillisecond);  // at most 4 ACKs per link so far
  for (const LinkSnapshot& link : linksTo(net.relay(1), 2)) CHECK(link.state == LinkState::kDown);
  net.advance(kInterval + 5 * kMillisecond);
  for (const LinkSnapshot& link : linksTo(net.relay(1), 2)) CHECK(link.state == LinkState::kUp);
}

// Relay 1 publishes to a subscriber on relay 2 every tick; line pair
// 1.line0 <-> 2.line0 is the fastest, so it carries the stream.
struct TwoRelays {
  TwoRelays() {
    net.setPaths(1, 2, PathModel{4 * kMillisecond});
    net.setPath(1, 0, 2, 0, PathModel{2 * kMillisecond});
    net.subscribe(subscriber, stream);
    net.advance(3 * kSecond);
  }
  // Publishes one packet per 5 ms for `duration_us`.
  void publishFor(DurationUs duration_us) {
    for (const TimeUs end = net.now() + duration_us; net.now() < end;) {
      net.publish(publisher, stream, sequence++);
      net.advance(5 * kMillisecond);
    }
  }
  std::multiset<std::uint32_t> received() const {
    std::multiset<std::uint32_t> sequences;
    for (const test::SentPacket& p : subscriber.received) {
      if (p.header().type == PacketType::kData) sequences.insert(p.header().sequence);
    }
    return sequences;
  }

  TestNetwork net{{1, 2}, {{1, 2}}};
  TestNetwork::Client& publisher = net.addClient(1);
  TestNetwork::Client& subscriber = net.addClient(2);
  const StreamId stream = makeStreamId(1, 1);
  std::uint32_t sequence = 0;
};

TEST_CASE("the fastest link is chosen, and a switch happens at once when the active link goes DOWN") {
  TwoRelays t;
  LinkSnapshot active = activeLink(t.net.relay(1), 2);
  REQUIRE(active.local_line == 0);
  REQUIRE(active.remote_line == 0);
  CHECK(active.srtt_us == 4 * kMillisecond);

  t.publishFor(200 * kMillisecond);
  const TimeUs cut = t.net.now();
  t.net.setPath(1, 0, 2, 0, PathModel{0, 0, 0, true});
  const std::uint32_t first_after_cut = t.sequence;
  t.publishFor(kSecond);

  // The first DATA on another line pair left within down_after + one interval.
  TimeUs moved_at = 0;
  for (const TestNetwork::Transmission& tx : t.net.log()) {
    if (tx.from_node == 1 && tx.header.type == PacketType::kData && tx.at_us >= cut &&
        !(tx.from == relayLine(1, 0) && tx.to == relayLine(2, 0))) {
      moved_at = tx.at_us;
      break;
    }
  }
  REQUIRE(moved_at != 0);
  CHECK(moved_at - cut <= kDownAfter + kInterval);
  CHECK(t.net.relay(1).counters().path_switches == 1);
  active = activeLink(t.net.relay(1), 2);
  CHECK_FALSE((active.local_line == 0 && active.remote_line == 0));

  // What was sent on the dead pair before the switch is lost; everything
  // after it arrives, once.
  const std::multiset<std::uint32_t> received = t.received();
  std::uint32_t lost = 0;
  for (std::uint32_t s = 0; s < t.sequence; ++s) {
    CHECK(received.count(s) <= 1);
    if (received.count(s) == 0) {
      CHECK(s >= first_after_cut);
      ++lost;
    }
  }
  CHECK(lost <= (kDownAfter + kInterval) / (5 * kMillisecond) + 1);
  CHECK(received.count(t.sequence - 1) == 1);
}

TEST_CASE("no switch under network jitter smaller than the margin") {
  TestNetwork net({1, 2}, {{1, 2}});
  // Every pair: 10 ms one way plus 0..2 ms of jitter; none is better.
  net.setPaths(1, 2, PathModel{10 * kMillisecond, 2 * kMillisecond});
  net.advance(30 * kSecond);
  for (const NodeId node : {1u, 2u}) {
    CAPTURE(node);
    CHECK(net.relay(node).counters().path_switches == 0);
    for (const LinkSnapshot& link : net.relay(node).links()) {
      CHECK(link.state == LinkState::kUp);
      CHECK(link.jitter_us > 0);
    }
  }
}

TEST_CASE("a clearly better link is taken after switch_hold, once") {
  TestNetwork net({1, 2}, {{1, 2}});
  net.setPaths(1, 2, PathModel{10 * kMillisecond});
  net.advance(2 * kSecond);
  const LinkSnapshot before = activeLink(net.relay(1), 2);
  // Another pair gets much faster (20 ms RTT -> 4 ms).
  const LineIndex local = before.local_line == 0 ? 1 : 0;
  net.setPath(1, local, 2, before.remote_line, PathModel{2 * kMillisecond});
  net.advance(kSecond);  // srtt converges within a few hundred ms, then the 1 s hold runs
  CHECK(net.relay(1).counters().path_switches == 0);
  net.advance(kSecond);
  CHECK(net.relay(1).counters().path_switches == 1);
  const LinkSnapshot after = activeLink(net.relay(1), 2);
  CHECK(after.local_line == local);
  CHECK(after.remote_line == before.remote_line);
  net.advance(10 * kSecond);
  CHECK(net.relay(1).counters().path_switches == 1);
}

TEST_CASE("20% loss on the active pair makes it DEGRADED within 2 s and traffic moves off it") {
  TestNetwork net({1, 2}, {{1, 2}}, {}, 7);
  net.setPaths(1, 2, PathModel{3 * kMillisecond});
  net.setPath(1, 0, 2, 0, PathModel{2 * kMillisecond});
  net.advance(3 * kSecond);
  REQUIRE(activeLink(net.relay(1), 2).local_line == 0);
  REQUIRE(activeLink(net.relay(1), 2).remote_line == 0);

  net.setPath(1, 0, 2, 0, PathModel{2 * kMillisecond, 0, 0.20});
  auto lossyState = [&] { return net.relay(1).links()[0].state; };  // 1.line0 -> 2.line0
  const TimeUs start = net.now();
  while (lossyState() != LinkState::kDegraded && net.now() < start + 3 * kSecond) {
    net.advance(5 * kMillisecond);
  }
  CHECK(lossyState() == LinkState::kDegraded);
  CHECK(net.now() - start < 2 * kSecond);
  // A better class is taken at once.
  const LinkSnapshot active = activeLink(net.relay(1), 2);
  CHECK_FALSE((active.local_line == 0 && active.remote_line == 0));
  CHECK(active.state == LinkState::kUp);

  SECTION("1% loss does not") {
    TestNetwork calm({1, 2}, {{1, 2}}, {}, 7);
    calm.setPaths(1, 2, PathModel{3 * kMillisecond, 0, 0.01});
    for (int i = 0; i < 60; ++i) {
      calm.advance(kSecond);
      for (const LinkSnapshot& link : calm.relay(1).links()) REQUIRE(link.state == LinkState::kUp);
    }
    CHECK(calm.relay(1).counters().path_switches == 0);
  }
}

TEST_CASE("a neighbour whose probes are never answered keeps getting traffic") {
  // Links start UNKNOWN and usable; once all are DOWN the relay stays on one
  // (nothing is better) rather than going silent.
  Bytes subscribe = makeControl(PacketType::kSubscribe, makeStreamId(2, 1));
  RecordingSink sink;
  RelayCore relay(twoNeighbours(), sink);
  TimeUs now = 5 * kSecond;
  test::TestPeers peers(1);
  relay.onDatagram(0, clientEndpoint(1), peers.fromClient(clientEndpoint(1), makeControl(PacketType::kHello, 0), now), now);
  relay.onDatagram(0, clientEndpoint(1), peers.fromClient(clientEndpoint(1), subscribe, now), now);
  CHECK(sink.count(PacketType::kSubscribe, relayLine(2, 0)) == 1);  // the default pair, before any probe
  for (int i = 0; i < 400; ++i) {
    now += relay.tickInterval();
    relay.onTick(now);
    if (i % 50 == 0) relay.onDatagram(0, clientEndpoint(1), peers.fromClient(clientEndpoint(1), subscribe, now), now);
  }
  for (const LinkSnapshot& link : linksTo(relay, 2)) CHECK(link.state == LinkState::kDown);
  CHECK(sink.count(PacketType::kSubscribe) >= 4);  // refreshes still go out
}

}  // namespace
}  // namespace overline::relay
