// RelayCore::setNeighbours: the controller's peer list replacing the
// neighbour set at run time, driven with fake time and a recording sink.
//
// Relay 1 starts with neighbours 2 and 3 (two lines each); origin 4 is
// routed via 2 with 3 as backup.

#include <algorithm>
#include <catch2/catch.hpp>

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
using test::RecordingSink;
using test::relayLine;
using wire::PacketType;

constexpr NodeId kSelf = 1;
constexpr NodeId kUp = 2;
constexpr NodeId kSide = 3;
constexpr NodeId kRemote = 4;
constexpr NodeId kNew = 5;
constexpr StreamId kRemoteStream = makeStreamId(kRemote, 1);
constexpr StreamId kOwnStream = makeStreamId(kSelf, 1);

NeighbourConfig neighbour(NodeId id) { return NeighbourConfig{id, {relayLine(id, 0), relayLine(id, 1)}}; }

RelayCoreConfig config() {
  RelayCoreConfig config;
  config.node_id = kSelf;
  config.line_count = 2;
  config.neighbours = {neighbour(kUp), neighbour(kSide)};
  config.routes = std::make_shared<const RouteTable>(RouteTable{{{kRemote, {kUp, kSide}}}});
  return config;
}

struct Relay {
  Relay() : core(test::withTestAuth(config()), sink), peers(core.nodeId()) {}

  void fromClient(std::uint32_t client, const Bytes& packet) {
    core.onDatagram(0, clientEndpoint(client), peers.fromClient(clientEndpoint(client), packet, now), now);
  }
  void fromNeighbour(NodeId node, const Bytes& packet) {
    core.onDatagram(0, relayLine(node, 0), peers.fromNeighbour(node, packet), now);
  }
  // Ticks up to `until_us`; every neighbour answers every probe at once.
  void tickUntil(TimeUs until_us) {
    while (now < until_us) {
      now = std::min(now + core.tickInterval(), until_us);
      core.onTick(now);
      for (; probes_seen < sink.probes.size(); ++probes_seen) {
        const test::SentPacket probe = sink.probes[probes_seen];
        if (probe.header().type != PacketType::kProbe) continue;
        const NodeId neighbour = test::nodeOfRelayLine(probe.to);
        core.onDatagram(probe.line, probe.to, peers.fromNeighbour(neighbour, test::makeProbeAck(probe.header(), neighbour)),
                        now);
      }
    }
  }
  const LinkSnapshot* link(NodeId node, LineIndex local, LineIndex remote) const {
    static thread_local std::vector<LinkSnapshot> links;
    links = core.links();
    const auto it = std::find_if(links.begin(), links.end(), [&](const LinkSnapshot& l) {
      return l.neighbour == node && l.local_line == local && l.remote_line == remote;
    });
    return it == links.end() ? nullptr : &*it;
  }

  RecordingSink sink;  // before `core`, which keeps a reference
  RelayCore core;
  test::TestPeers peers;  // the neighbours and clients, tagging as real ones do
  TimeUs now = 1000 * kSecond;
  std::size_t probes_seen = 0;
};

Bytes dataPacket(StreamId stream, NodeId sender) {
  static std::uint32_t next_sequence = 0;
  return makePacket(PacketSpec{PacketType::kData, stream, 16, sender, next_sequence++, 100});
}

TEST_CASE("setNeighbours keeps the measured links of unchanged neighbours and adds fresh ones") {
  Relay relay;
  relay.tickUntil(relay.now + kSecond);
  REQUIRE(relay.link(kUp, 0, 0)->state == LinkState::kUp);
  const std::uint64_t probes_before = relay.link(kUp, 0, 0)->probes_sent;

  relay.core.setNeighbours({neighbour(kUp), neighbour(kSide), neighbour(kNew)});
  CHECK(relay.core.links().size() == 12);
  CHECK(relay.link(kUp, 0, 0)->state == LinkState::kUp);
  CHECK(relay.link(kUp, 0, 0)->probes_sent == probes_before);
  CHECK(relay.link(kNew, 1, 1)->state == LinkState::kUnknown);

  relay.tickUntil(relay.now + kSecond);
  CHECK(relay.link(kNew, 1, 1)->state == LinkState::kUp);
  CHECK(relay.link(kUp, 0, 0)->probes_sent > probes_before);

  SECTION("a neighbour whose lines change starts over with unmeasured links") {
    relay.core.setNeighbours({NeighbourConfig{kUp, {relayLine(kUp, 1)}}, neighbour(kSide), neighbour(kNew)});
    CHECK(relay.link(kUp, 0, 0)->state == LinkState::kUnknown);
    CHECK(relay.link(kUp, 0, 1) == nullptr);
    CHECK(relay.link(kSide, 0, 0)->state == LinkState::kUp);
    // Packets from its old address are no longer the neighbour's: an unknown client's.
    relay.fromNeighbour(kUp, makeControl(PacketType::kSubscribe, kOwnStream, 16, kUp));
    CHECK(relay.core.counters().dropped[static_cast<std::size_t>(DropReason::kUnknownSource)] == 1);
  }
}

TEST_CASE("A removed neighbour stops being a downstream; emptied streams unsubscribe upstream") {
  Relay relay;
  relay.tickUntil(relay.now + kSecond);
  // Neighbour 3 subscribes to a remote stream (via 2) and to this relay's own.
  relay.fromNeighbour(kSide, makeControl(PacketType::kSubscribe, kRemoteStream, 16, kSide));
  relay.fromNeighbour(kSide, makeControl(PacketType::kSubscribe, kOwnStream, 16, kSide));
  // A client shares the own stream, so that one survives.
  relay.fromClient(1, makeControl(PacketType::kHello, 0));
  relay.fromClient(1, makeControl(PacketType::kSubscribe, kOwnStream));
  REQUIRE(relay.core.gauges().streams == 2);
  relay.sink.sent.clear();

  relay.core.setNeighbours({neighbour(kUp)});
  CHECK(relay.core.gauges().streams == 1);
  CHECK(relay.core.gauges().downstreams == 1);
  CHECK(relay.sink.count(PacketType::kUnsubscribe, relayLine(kUp, 0)) == 1);
  CHECK(relay.core.links().size() == 4);

  // Own DATA from a publishing client now reaches only the subscribing client.
  relay.fromClient(2, makeControl(PacketType::kHello, 0));
  relay.sink.sent.clear();
  relay.fromClient(2, dataPacket(kOwnStream, kNoNode));
  CHECK(relay.sink.count(PacketType::kData, clientEndpoint(1)) == 1);
  CHECK(relay.sink.count(PacketType::kData) == 1);
}

TEST_CASE("Streams whose upstream is removed move to the backup at the next tick") {
  Relay relay;
  relay.tickUntil(relay.now + kSecond);
  relay.fromClient(1, makeControl(PacketType::kHello, 0));
  relay.fromClient(1, makeControl(PacketType::kSubscribe, kRemoteStream));
  REQUIRE(relay.sink.count(PacketType::kSubscribe, relayLine(kUp, 0)) == 1);
  relay.sink.sent.clear();

  relay.core.setNeighbours({neighbour(kSide)});
  // The removed upstream is told at once; the backup is asked at the next tick.
  CHECK(relay.sink.count(PacketType::kUnsubscribe, relayLine(kUp, 0)) == 1);
  CHECK(relay.core.gauges().upstream_subscriptions == 0);
  relay.tickUntil(relay.now + relay.core.tickInterval());
  CHECK(relay.sink.count(PacketType::kSubscribe, relayLine(kSide, 0)) == 1);
  CHECK(relay.core.gauges().upstream_subscriptions == 1);
  relay.fromNeighbour(kSide, dataPacket(kRemoteStream, kSide));
  CHECK(relay.sink.count(PacketType::kData, clientEndpoint(1)) == 1);
  // DATA from the removed node is an unknown source now.
  relay.fromNeighbour(kUp, dataPacket(kRemoteStream, kUp));
  CHECK(relay.sink.count(PacketType::kData, clientEndpoint(1)) == 1);

  SECTION("the node coming back in a later peer list is probed and routed through again") {
    relay.core.setNeighbours({neighbour(kSide), neighbour(kUp)});
    CHECK(relay.link(kUp, 0, 0)->state == LinkState::kUnknown);
    relay.sink.sent.clear();
    // Route primary 2 is not down (unmeasured links count as up): failback
    // waits for the hold, then moves make-before-break.
    relay.tickUntil(relay.now + FailoverConfig{}.failback_hold_us + kSecond);
    CHECK(relay.sink.count(PacketType::kSubscribe, relayLine(kUp, 0)) >= 1);
  }
}

TEST_CASE("An empty peer list leaves only local streams") {
  Relay relay;
  relay.fromClient(1, makeControl(PacketType::kHello, 0));
  relay.fromClient(1, makeControl(PacketType::kSubscribe, kRemoteStream));
  relay.core.setNeighbours({});
  CHECK(relay.core.links().empty());
  relay.tickUntil(relay.now + kSecond);
  CHECK(relay.core.gauges().upstream_subscriptions == 0);
  CHECK(relay.core.gauges().downstreams == 1);
}

}  // namespace
}  // namespace overline::relay
