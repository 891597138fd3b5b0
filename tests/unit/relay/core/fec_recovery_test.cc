// Per-hop FEC through real RelayCores in the in-memory TestNetwork: relay 1
// is the origin of the stream (publisher client), relay 2 its downstream
// (subscriber client). FEC is used only where the link loses >= 1% and
// fewer than three NACK rounds fit the stream's latency budget.

#include <algorithm>
#include <catch2/catch.hpp>
#include <functional>
#include <vector>

#include "common/wire/nack_payload.h"
#include "relay/core/relay_core.h"
#include "tests/unit/relay/core/test_network.h"
#include "tests/unit/relay/core/test_peers.h"

namespace overline::relay {
namespace {

using test::makePacket;
using test::PacketSpec;
using test::PathModel;
using test::TestNetwork;
using wire::PacketType;

constexpr NodeId kUp = 1;
constexpr NodeId kDown = 2;
constexpr StreamId kStream = makeStreamId(kUp, 1);
constexpr std::uint8_t kBudget100Ms = 10;  // latency_budget units of 10 ms

struct Hop {
  // One-way delay `delay_us` on every line pair; with `probe_loss` every
  // fourth probe (and probe answer) is lost, so links measure ~25% loss.
  Hop(DurationUs delay_us, bool probe_loss, const RelayCoreConfig& base = {})
      : net({kUp, kDown}, {{kUp, kDown}}, base) {
    net.setPaths(kUp, kDown, PathModel{delay_us});
    net.drop_if = [this, probe_loss](const TestNetwork::Transmission& t, std::span<const std::byte> bytes) {
      if (t.header.type == PacketType::kNack) {
        const auto list = wire::parseNackPayload(wire::parsePacket(bytes)->payload);
        REQUIRE(list.ok());
        nacked.insert(nacked.end(), list->view().begin(), list->view().end());
      }
      if (probe_loss && (t.header.type == PacketType::kProbe || t.header.type == PacketType::kProbeAck) &&
          t.header.sequence % 4 == 0) {
        return true;
      }
      // First transmissions only: retransmissions get through.
      return t.header.type == PacketType::kData && t.from_node == kUp &&
             (t.header.flags & wire::kFlagRetransmit) == 0 && lose(t.header.sequence);
    };
    publisher = &net.addClient(kUp);
    subscriber = &net.addClient(kDown);
    net.subscribe(*subscriber, kStream);
    net.advance(3 * kSecond);  // links measured, tree built
  }
  // Publishes sequences [first, first + count) one millisecond apart.
  void publishRun(std::uint32_t first, std::uint32_t count, std::uint8_t budget) {
    for (std::uint32_t s = first; s < first + count; ++s) {
      PacketSpec spec{PacketType::kData, kStream, wire::kDefaultHopLimit, kNoNode, s, 200};
      spec.timestamp_us = 1000 + s;
      spec.latency_budget = budget;
      net.clientSend(*publisher, makePacket(spec));
      net.advance(kMillisecond);
    }
  }
  std::vector<std::uint32_t> received() const {
    std::vector<std::uint32_t> out;
    for (const auto& p : subscriber->received) {
      if (p.header().type == PacketType::kData) out.push_back(p.header().sequence);
    }
    std::sort(out.begin(), out.end());
    return out;
  }
  const RelayCounters& counters(NodeId node) { return net.relay(node).counters(); }
  std::uint64_t fecBytes(NodeId node) {
    return counters(node).neighbour_bytes_sent[static_cast<std::size_t>(SentKind::kFec)];
  }

  TestNetwork net;
  TestNetwork::Client* publisher = nullptr;
  TestNetwork::Client* subscriber = nullptr;
  std::function<bool(std::uint32_t)> lose = [](std::uint32_t) { return false; };
  std::vector<std::uint32_t> nacked;
};

std::vector<std::uint32_t> sequencesUpTo(std::uint32_t count) {
  std::vector<std::uint32_t> out(count);
  for (std::uint32_t i = 0; i < count; ++i) out[i] = i;
  return out;
}

TEST_CASE("Over a lossy link with an RTT too long for NACK, a lost DATA packet is rebuilt from FEC, not NACKed") {
  Hop hop(40 * kMillisecond, true);  // srtt 80 ms: 100 / (80 + 20) = 1 NACK round
  const auto links = hop.net.relay(kUp).links();
  const auto active = std::find_if(links.begin(), links.end(), [](const LinkSnapshot& l) { return l.active; });
  REQUIRE(active != links.end());
  REQUIRE(active->loss_ratio > 0.1);

  // The decoder uses only DATA that arrives once FEC is active on the hop:
  // a first run turns it on.
  hop.publishRun(0, 24, kBudget100Ms);
  hop.net.advance(200 * kMillisecond);
  REQUIRE(hop.counters(kUp).fec_packets_sent > 0);
  REQUIRE(hop.counters(kDown).fec_packets_received == hop.counters(kUp).fec_packets_sent);

  hop.lose = [](std::uint32_t sequence) { return sequence == 30; };
  hop.publishRun(24, 16, kBudget100Ms);
  hop.net.advance(300 * kMillisecond);

  CHECK(hop.received() == sequencesUpTo(40));
  const RelayCounters& down = hop.counters(kDown);
  CHECK(down.recovered_fec == 1);
  CHECK(down.recovered_nack == 0);
  CHECK(down.unrecovered == 0);
  CHECK(down.fec_decode_failures == 0);
  CHECK(down.fec_inconsistent == 0);
  CHECK(std::find(hop.nacked.begin(), hop.nacked.end(), 30) == hop.nacked.end());
  CHECK(hop.counters(kUp).retransmissions_sent == 0);
  const RelayCounters& up = hop.counters(kUp);
  CHECK(hop.fecBytes(kUp) > 0);
  // Parity is sent on the active link, like the data.
  for (const auto& t : hop.net.log()) {
    if (t.header.type != PacketType::kFec) continue;
    CHECK(t.from_node == kUp);
    CHECK(t.header.stream_id == kStream);
    CHECK(t.header.sender_node_id == kUp);
  }
  CHECK(up.fec_packets_sent == hop.net.countSent(kUp, kDown, PacketType::kFec));
}

TEST_CASE("No FEC is sent over a clean link, nor over a lossy one whose budget leaves room for NACK") {
  SECTION("clean link, short budget") {
    Hop hop(10 * kMillisecond, false);
    hop.publishRun(0, 64, kBudget100Ms);
    hop.net.advance(500 * kMillisecond);
    CHECK(hop.received() == sequencesUpTo(64));
    CHECK(hop.counters(kUp).fec_packets_sent == 0);
    CHECK(hop.fecBytes(kUp) == 0);
    CHECK(hop.net.countSent(kUp, kDown, PacketType::kFec) == 0);
  }
  SECTION("lossy link, budget for several NACK rounds") {
    Hop hop(10 * kMillisecond, true);  // 400 / (20 + 20) = 10 NACK rounds
    hop.lose = [](std::uint32_t sequence) { return sequence == 30; };
    hop.publishRun(0, 64, 40);
    hop.net.advance(500 * kMillisecond);
    CHECK(hop.received() == sequencesUpTo(64));
    CHECK(hop.counters(kUp).fec_packets_sent == 0);
    CHECK(hop.fecBytes(kUp) == 0);
    CHECK(hop.counters(kDown).recovered_nack == 1);
  }
}

TEST_CASE("recovery.fec false: no parity even where NACK is too slow; NACK still recovers") {
  RelayCoreConfig base;
  base.recovery.fec = false;
  Hop hop(40 * kMillisecond, true, base);  // the set-up that turns FEC on by default
  hop.lose = [](std::uint32_t sequence) { return sequence == 30; };
  // 200 ms: the packet is 40 ms old when the downstream misses it, and a
  // NACK round takes 80 ms + the allowance, so one round fits (at 100 ms
  // the retransmission could not arrive in time and is not attempted).
  hop.publishRun(0, 40, 2 * kBudget100Ms);
  hop.net.advance(300 * kMillisecond);
  CHECK(hop.counters(kUp).fec_packets_sent == 0);
  CHECK(hop.fecBytes(kUp) == 0);
  CHECK(hop.net.countSent(kUp, kDown, PacketType::kFec) == 0);
  CHECK(hop.counters(kDown).recovered_fec == 0);
  CHECK(hop.received() == sequencesUpTo(40));
  CHECK(std::find(hop.nacked.begin(), hop.nacked.end(), 30) != hop.nacked.end());
  CHECK(hop.counters(kUp).retransmissions_sent >= 1);
  CHECK(hop.counters(kDown).recovered_nack == 1);
  CHECK(hop.counters(kDown).unrecovered == 0);
}

TEST_CASE("FEC from a neighbour that is not the upstream, and malformed FEC, are counted drops") {
  Hop hop(10 * kMillisecond, false);
  hop.publishRun(0, 4, kBudget100Ms);
  RelayCore& up = hop.net.relay(kUp);
  RelayCore& down = hop.net.relay(kDown);
  wire::Header header;
  header.type = PacketType::kFec;
  header.hop_limit = wire::kDefaultHopLimit;
  header.sender_node_id = kDown;
  header.stream_id = kStream;
  // k = 1, m = 1, parity 0, sequence 0, a 12-byte block.
  std::vector<std::byte> payload(4 + 4 + 12);
  payload[0] = std::byte{1};
  payload[1] = std::byte{1};
  std::vector<std::byte> packet(wire::kHeaderBytes + payload.size());
  packet.resize(wire::encodePacket(header, payload, packet));
  // Relay 1 is the origin: relay 2 is its downstream, not its upstream.
  test::TestPeers to_up(kUp);
  test::TestPeers to_down(kDown);
  up.onDatagram(0, test::relayLine(kDown, 0), to_up.fromNeighbour(kDown, packet), hop.net.now());
  CHECK(up.counters().dropped[static_cast<std::size_t>(DropReason::kNotUpstream)] == 1);

  payload[1] = std::byte{0};  // m = 0
  header.sender_node_id = kUp;
  packet.resize(wire::kHeaderBytes + payload.size());
  packet.resize(wire::encodePacket(header, payload, packet));
  down.onDatagram(0, test::relayLine(kUp, 0), to_down.fromNeighbour(kUp, packet), hop.net.now());
  CHECK(down.counters().dropped[static_cast<std::size_t>(DropReason::kMalformedFec)] == 1);
  CHECK(down.counters().fec_packets_received == 1);
  CHECK(up.counters().fec_packets_received == 1);
}

}  // namespace
}  // namespace overline::relay
