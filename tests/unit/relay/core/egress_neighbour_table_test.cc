// Egress (tagging, the sink, counting by kind) and NeighbourTable (links,
// probing, path choice, health), driven on their own with a recording sink
// and a fake clock: what RelayCore relies on at those two seams.

#include <catch2/catch.hpp>
#include <optional>

#include "common/crypto/packet_auth.h"
#include "relay/core/egress.h"
#include "relay/core/neighbour_auth.h"
#include "relay/core/neighbour_table.h"
#include "tests/unit/relay/core/test_network.h"
#include "tests/unit/relay/core/test_peers.h"

namespace overline::relay {
namespace {

using test::Bytes;
using test::relayLine;
using wire::PacketType;

constexpr NodeId kSelf = 1;
constexpr NodeId kPeer = 2;
constexpr NodeId kOther = 3;

Bytes headerOnly(PacketType type) {
  wire::Header header;
  header.type = type;
  header.sender_node_id = kSelf;
  Bytes packet(wire::kHeaderBytes);
  wire::encodePacket(header, {}, packet);
  return packet;
}

// The pieces RelayCore wires together, for a relay with two lines and
// neighbours kPeer and kOther (two lines each).
struct Seams {
  explicit Seams(bool auth = true)
      : config(makeConfig(auth)),
        auth_(kSelf, auth, /*packet_number_base=*/1),
        egress(sink, auth_, counters, wall_now_us),
        table(config, auth_, egress, counters) {
    auth_.setMeshKeys(config.auth.mesh_keys);
    table.rebuild();
  }
  static RelayCoreConfig makeConfig(bool auth) {
    RelayCoreConfig config;
    config.node_id = kSelf;
    config.line_count = 2;
    config.neighbours = {NeighbourConfig{kPeer, {relayLine(kPeer, 0), relayLine(kPeer, 1)}},
                         NeighbourConfig{kOther, {relayLine(kOther, 0), relayLine(kOther, 1)}}};
    if (auth) config.auth = test::testAuth();
    return config;
  }
  // Ticks the table every 5 ms up to `until`; neighbour kPeer answers every
  // probe while `answer` is set.
  void tickUntil(TimeUs until, bool answer) {
    for (; now < until; now += 5 * kMillisecond) {
      table.tick(now);
      for (; probes_seen < sink.probes.size(); ++probes_seen) {
        const test::SentPacket probe = sink.probes[probes_seen];
        if (!answer || test::nodeOfRelayLine(probe.to) != kPeer) continue;
        Neighbour* peer = table.find(kPeer);
        const auto source = table.findByEndpoint(probe.to);
        REQUIRE(source.has_value());
        table.onProbeAck(*peer, probe.line, source->line, probe.header(), now + kMillisecond);
      }
    }
  }

  test::RecordingSink sink;
  RelayCounters counters;
  std::optional<TimeUs> wall_now_us = 1'700'000'000'000'000;
  RelayCoreConfig config;
  NeighbourAuth auth_;
  Egress egress;
  NeighbourTable table;
  TimeUs now = 1'000'000;
  std::size_t probes_seen = 0;
};

TEST_CASE("Egress tags packets to a neighbour with the pair's key and counts them by kind", "[egress]") {
  Seams seams;
  const Bytes packet = headerOnly(PacketType::kSubscribe);
  REQUIRE(seams.egress.toNeighbour(kPeer, 1, relayLine(kPeer, 0), packet, SentKind::kControl));
  REQUIRE(seams.sink.sent.size() == 1);
  const test::SentPacket& sent = seams.sink.sent[0];
  CHECK(sent.line == 1);
  CHECK(sent.to == relayLine(kPeer, 0));
  // The neighbour accepts it: tagged under the pair key, fresh number.
  NeighbourAuth peer(kPeer, true, 1);
  peer.setMeshKeys(test::testAuth().mesh_keys);
  const std::vector<NodeId> self{kSelf};
  peer.setNeighbours(self);
  const auto parsed = wire::parsePacket(sent.bytes);
  REQUIRE(parsed);
  CHECK(peer.check(kSelf, *parsed) == NeighbourAuth::Verdict::kOk);
  CHECK(seams.counters.packets_sent == 1);
  CHECK(seams.counters.bytes_sent == sent.bytes.size());
  CHECK(seams.counters.neighbour_bytes_sent[static_cast<std::size_t>(SentKind::kControl)] == sent.bytes.size());

  REQUIRE(seams.egress.toNeighbour(kPeer, 0, relayLine(kPeer, 0), headerOnly(PacketType::kProbe), SentKind::kProbe));
  CHECK(seams.counters.probe_bytes_sent == wire::kHeaderBytes + wire::kTagBytes);
  CHECK(seams.counters.neighbour_bytes_sent[static_cast<std::size_t>(SentKind::kProbe)] == seams.counters.probe_bytes_sent);
}

TEST_CASE("Egress counts a refusal by the sink or, later, by the kernel as send_failed", "[egress]") {
  Seams seams;
  seams.sink.accept = false;
  CHECK_FALSE(seams.egress.untagged(0, test::clientEndpoint(1), headerOnly(PacketType::kHello)));
  CHECK(seams.counters.packets_sent == 0);
  CHECK(seams.counters.dropped[static_cast<std::size_t>(DropReason::kSendFailed)] == 1);
  // A batched sink learns of refusals when it flushes: they are drops too,
  // and packets_sent (what the sink accepted) never goes down.
  seams.sink.accept = true;
  REQUIRE(seams.egress.untagged(0, test::clientEndpoint(1), headerOnly(PacketType::kHello)));
  seams.egress.countSendFailures(1);
  CHECK(seams.counters.packets_sent == 1);
  CHECK(seams.counters.dropped[static_cast<std::size_t>(DropReason::kSendFailed)] == 2);
}

TEST_CASE("Egress tags client packets with the session key and the next packet number", "[egress]") {
  Seams seams;
  const crypto::Key128 key{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  const crypto::Gmac session(key);
  std::uint64_t next = 7;
  REQUIRE(seams.egress.toClient(session, 1, next, 0, test::clientEndpoint(1), headerOnly(PacketType::kHello)));
  CHECK(next == 8);
  const auto parsed = wire::parsePacket(seams.sink.sent.back().bytes);
  REQUIRE(parsed);
  CHECK(parsed->header.packet_number == 7);
  CHECK(crypto::verifyPacket(session, *parsed));
}

TEST_CASE("NeighbourTable finds neighbours by any line, probes every link and marks a silent one down", "[neighbours]") {
  Seams seams;
  REQUIRE(seams.table.all().size() == 2);
  const auto source = seams.table.findByEndpoint(relayLine(kOther, 1));
  REQUIRE(source.has_value());
  CHECK(source->neighbour->id == kOther);
  CHECK(source->line == 1);
  CHECK_FALSE(seams.table.findByEndpoint(relayLine(9, 0)).has_value());
  CHECK(seams.table.links().size() == 8);  // 2 local lines x 2 lines, per neighbour

  // kPeer answers, kOther never does: kOther goes down, kPeer stays up.
  seams.tickUntil(seams.now + 600 * kMillisecond, /*answer=*/true);
  CHECK_FALSE(seams.table.isDown(kPeer));
  CHECK(seams.table.isDown(kOther));
  CHECK(seams.table.isDown(9));  // not a neighbour
  // Every link was probed, staggered over the interval (20 ms): 4 links x
  // 2 neighbours x ~30 intervals.
  CHECK(seams.counters.probes_sent >= 8 * 25);
  for (const LinkSnapshot& link : seams.table.links()) {
    if (link.neighbour == kPeer) CHECK(link.state == LinkState::kUp);
  }
}

TEST_CASE("NeighbourTable keeps an unchanged neighbour's links across a rebuild and drops a removed one", "[neighbours]") {
  Seams seams;
  seams.tickUntil(seams.now + 300 * kMillisecond, /*answer=*/true);
  REQUIRE_FALSE(seams.table.isDown(kPeer));
  const std::uint64_t probes_before = seams.table.links()[0].probes_sent;
  seams.config.neighbours.pop_back();  // kOther leaves
  seams.table.rebuild();
  CHECK(seams.table.all().size() == 1);
  CHECK_FALSE(seams.table.contains(kOther));
  CHECK_FALSE(seams.table.findByEndpoint(relayLine(kOther, 0)).has_value());
  CHECK(seams.table.links()[0].probes_sent == probes_before);  // the same monitor, measurements kept
  CHECK_FALSE(seams.table.isDown(kPeer));
}

TEST_CASE("NeighbourTable sends soft state on every link only while the active one is lossy", "[neighbours]") {
  Seams seams;
  const Bytes packet = headerOnly(PacketType::kSubscribe);
  const Neighbour& peer = *seams.table.find(kPeer);
  REQUIRE(seams.table.sendSoftState(peer, packet));
  CHECK(seams.sink.sent.size() == 1);  // clean (unmeasured) link: once
  // The duplicate link is on the other local AND other remote line.
  const std::optional<std::size_t> duplicate = seams.table.duplicateLink(peer);
  REQUIRE(duplicate.has_value());
  CHECK(peer.path.localLineOf(*duplicate) != peer.path.localLineOf(peer.path.active()));
  CHECK(peer.path.remoteLineOf(*duplicate) != peer.path.remoteLineOf(peer.path.active()));
  CHECK(seams.table.srttTo(peer) == NeighbourTable::kUnmeasuredSrttUs);

  // kOther never answers: its links lose every probe, so soft state to it
  // goes on all four links.
  seams.tickUntil(seams.now + 600 * kMillisecond, /*answer=*/false);
  const Neighbour& other = *seams.table.find(kOther);
  REQUIRE(seams.table.activeLinkLossy(other));
  const std::size_t before = seams.sink.sent.size();
  REQUIRE(seams.table.sendSoftState(other, packet));
  CHECK(seams.sink.sent.size() - before == 4);
}

}  // namespace
}  // namespace overline::relay
