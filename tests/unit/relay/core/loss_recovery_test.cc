// Per-hop loss recovery (NACK and retransmission) through real RelayCores in
// the in-memory TestNetwork: relay 1 is the origin of the stream (publisher
// client), relay 2 its downstream (subscriber client); every line pair has a
// 10 ms one-way delay, so links measure srtt 20 ms.

#include <algorithm>
#include <catch2/catch.hpp>
#include <map>
#include <vector>

#include "common/wire/nack_payload.h"
#include "relay/core/relay_core.h"
#include "tests/unit/relay/core/test_network.h"
#include "tests/unit/relay/core/test_peers.h"

namespace overline::relay {
namespace {

using test::Bytes;
using test::makePacket;
using test::PacketSpec;
using test::PathModel;
using test::relayLine;
using test::TestNetwork;
using wire::PacketType;

constexpr NodeId kUp = 1;
constexpr NodeId kDown = 2;
constexpr StreamId kStream = makeStreamId(kUp, 1);
constexpr DurationUs kDelay = 10 * kMillisecond;

bool isRetransmit(const wire::Header& header) { return (header.flags & wire::kFlagRetransmit) != 0; }

Bytes makeNack(StreamId stream, NodeId sender, const std::vector<std::uint32_t>& sequences) {
  wire::Header header;
  header.type = PacketType::kNack;
  header.hop_limit = 1;
  header.sender_node_id = sender;
  header.stream_id = stream;
  Bytes payload(wire::kMaxNackPayloadBytes);
  payload.resize(wire::encodeNackPayload(sequences, payload));
  Bytes out(wire::kHeaderBytes + payload.size());
  out.resize(wire::encodePacket(header, payload, out));
  return out;
}

struct TwoRelays {
  explicit TwoRelays(const RelayCoreConfig& base = {}) : net({kUp, kDown}, {{kUp, kDown}}, base) {
    net.setPaths(kUp, kDown, PathModel{kDelay});
    publisher = &net.addClient(kUp);
    subscriber = &net.addClient(kDown);
    net.subscribe(*subscriber, kStream);
    net.advance(500 * kMillisecond);  // links measured, tree built
  }
  void publish(std::uint32_t sequence, std::uint8_t budget = 0) {
    PacketSpec spec{PacketType::kData, kStream, wire::kDefaultHopLimit, kNoNode, sequence, 200};
    spec.timestamp_us = 1000 + sequence;
    spec.latency_budget = budget;
    net.clientSend(*publisher, makePacket(spec));
  }
  // Publishes sequences [0, count) one millisecond apart.
  void publishRun(std::uint32_t count, std::uint8_t budget = 0) {
    for (std::uint32_t s = 0; s < count; ++s) {
      publish(s, budget);
      net.advance(kMillisecond);
    }
  }
  std::vector<TestNetwork::Transmission> sent(NodeId from, PacketType type) const {
    std::vector<TestNetwork::Transmission> out;
    for (const auto& t : net.log()) {
      if (t.from_node == from && t.header.type == type) out.push_back(t);
    }
    return out;
  }
  std::vector<std::uint32_t> received(wire::PacketType type = PacketType::kData) const {
    std::vector<std::uint32_t> out;
    for (const auto& p : subscriber->received) {
      if (p.header().type == type) out.push_back(p.header().sequence);
    }
    return out;
  }
  const RelayCounters& counters(NodeId node) { return net.relay(node).counters(); }

  TestNetwork net;
  TestNetwork::Client* publisher = nullptr;
  TestNetwork::Client* subscriber = nullptr;
};

TEST_CASE("A lost DATA packet is NACKed on two links after the allowance and retransmitted once on another link") {
  TwoRelays relays;
  std::vector<std::vector<std::uint32_t>> nack_payloads;
  relays.net.drop_if = [&](const TestNetwork::Transmission& t, std::span<const std::byte> bytes) {
    if (t.header.type == PacketType::kNack) {
      const auto list = wire::parseNackPayload(wire::parsePacket(bytes)->payload);
      REQUIRE(list.ok());
      nack_payloads.emplace_back(list->view().begin(), list->view().end());
    }
    return t.header.type == PacketType::kData && t.from_node == kUp && t.header.sequence == 5 &&
           !isRetransmit(t.header);
  };
  relays.publishRun(10);
  relays.net.advance(200 * kMillisecond);

  const auto data = relays.sent(kUp, PacketType::kData);
  const auto original = std::find_if(data.begin(), data.end(), [](const auto& t) { return t.header.sequence == 6; });
  REQUIRE(original != data.end());
  // Relay 2 notices the gap when sequence 6 arrives.
  const TimeUs detected_us = original->at_us + kDelay;

  const auto nacks = relays.sent(kDown, PacketType::kNack);
  REQUIRE(nacks.size() == 2);  // answered at the first attempt: never repeated
  CHECK(nacks[0].at_us == nacks[1].at_us);
  CHECK(nacks[0].at_us >= detected_us + 5 * kMillisecond);
  CHECK(nacks[0].at_us <= detected_us + 5 * kMillisecond + relays.net.relay(kDown).tickInterval());
  CHECK_FALSE((nacks[0].from == nacks[1].from && nacks[0].to == nacks[1].to));
  for (const auto& nack : nacks) {
    CHECK(nack.to.address() >> 8 == relayLine(kUp, 0).address() >> 8);
    CHECK(nack.header.hop_limit == 1);
    CHECK(nack.header.stream_id == kStream);
  }
  CHECK(nack_payloads == std::vector<std::vector<std::uint32_t>>{{5}, {5}});

  std::vector<TestNetwork::Transmission> retransmissions;
  std::copy_if(data.begin(), data.end(), std::back_inserter(retransmissions),
               [](const auto& t) { return isRetransmit(t.header); });
  REQUIRE(retransmissions.size() == 1);  // the second NACK copy is paced out
  CHECK(retransmissions[0].header.sequence == 5);
  CHECK(retransmissions[0].header.timestamp_us == 1005);
  // Not the link the originals took: another local AND another remote line.
  CHECK(retransmissions[0].from != original->from);
  CHECK(retransmissions[0].to != original->to);

  // Relay 2 forwards it as a plain packet; the subscriber has everything once.
  std::vector<std::uint32_t> got = relays.received();
  CHECK(got.size() == 10);
  std::sort(got.begin(), got.end());
  CHECK(std::adjacent_find(got.begin(), got.end()) == got.end());
  for (const auto& p : relays.subscriber->received) CHECK_FALSE(isRetransmit(p.header()));

  const RelayCounters& down = relays.counters(kDown);
  CHECK(down.nack_packets_sent == 2);
  CHECK(down.nack_sequences_sent == 1);
  CHECK(down.retransmissions_received == 1);
  CHECK(down.recovered_nack == 1);
  CHECK(down.unrecovered == 0);
  CHECK(down.neighbour_bytes_sent[static_cast<std::size_t>(SentKind::kNack)] == 2 * (wire::kHeaderBytes + 4 + wire::kTagBytes));
  const RelayCounters& up = relays.counters(kUp);
  CHECK(up.nack_packets_received == 2);
  CHECK(up.retransmissions_sent == 1);
  CHECK(up.nack_misses == 0);
  CHECK(up.neighbour_bytes_sent[static_cast<std::size_t>(SentKind::kRetransmit)] == wire::kHeaderBytes + 200 + wire::kTagBytes);
  // Sequence 5 left relay 1 (the network lost it): 10 first transmissions.
  CHECK(up.neighbour_bytes_sent[static_cast<std::size_t>(SentKind::kData)] == 10 * (wire::kHeaderBytes + 200 + wire::kTagBytes));
  CHECK(up.data_payload_bytes_sent == 10 * 200);
  CHECK(up.neighbour_bytes_sent[static_cast<std::size_t>(SentKind::kProbe)] > 0);
}

TEST_CASE("Nothing is retransmitted or NACKed once the packet's latency budget has passed") {
  TwoRelays relays;
  relays.net.drop_if = [](const TestNetwork::Transmission& t, std::span<const std::byte>) {
    return t.header.type == PacketType::kData && t.from_node == kUp && t.header.sequence == 5;
  };
  constexpr std::uint8_t kBudgetUnits = 10;  // 100 ms
  relays.publishRun(10, kBudgetUnits);
  relays.net.advance(500 * kMillisecond);

  const auto data = relays.sent(kUp, PacketType::kData);
  const auto original = std::find_if(data.begin(), data.end(), [](const auto& t) {
    return t.header.sequence == 5 && !isRetransmit(t.header);
  });
  REQUIRE(original != data.end());
  std::size_t retransmissions = 0;
  for (const auto& t : data) {
    if (!isRetransmit(t.header)) continue;
    ++retransmissions;
    CHECK(t.at_us < original->at_us + 100 * kMillisecond);
  }
  CHECK(retransmissions >= 2);  // the budget allowed a few attempts
  const TimeUs detected_us = original->at_us + kMillisecond + kDelay;
  for (const auto& nack : relays.sent(kDown, PacketType::kNack)) {
    CHECK(nack.at_us + 10 * kMillisecond <= detected_us + 100 * kMillisecond);  // + srtt / 2
  }
  CHECK(relays.counters(kDown).unrecovered == 1);
  CHECK(relays.counters(kDown).recovered_nack == 0);
  CHECK(relays.received().size() == 9);

  // A NACK arriving after the budget finds the packet expired.
  const std::size_t sent_before = relays.net.log().size();
  test::TestPeers peers(kUp);
  relays.net.relay(kUp).onDatagram(0, relayLine(kDown, 0), peers.fromNeighbour(kDown, makeNack(kStream, kDown, {5, 6})),
                                   relays.net.now());
  CHECK(relays.counters(kUp).retransmit_budget_expired == 2);
  CHECK(relays.net.log().size() == sent_before);
}

TEST_CASE("NACKs from a neighbour that is not a downstream, malformed NACKs and unknown sequences are counted") {
  TwoRelays relays;
  relays.publishRun(3);
  const std::size_t sent_before = relays.net.log().size();
  RelayCore& down = relays.net.relay(kDown);
  RelayCore& up = relays.net.relay(kUp);
  const TimeUs now = relays.net.now();

  // Relay 1 is relay 2's upstream, not its downstream.
  test::TestPeers to_down(kDown);
  test::TestPeers to_up(kUp);
  down.onDatagram(0, relayLine(kUp, 0), to_down.fromNeighbour(kUp, makeNack(kStream, kUp, {1})), now);
  CHECK(down.counters().dropped[static_cast<std::size_t>(DropReason::kNotDownstream)] == 1);
  // A stream relay 1 does not carry.
  up.onDatagram(0, relayLine(kDown, 0), to_up.fromNeighbour(kDown, makeNack(makeStreamId(kUp, 99), kDown, {1})), now);
  CHECK(up.counters().dropped[static_cast<std::size_t>(DropReason::kNotDownstream)] == 1);

  Bytes malformed = makeNack(kStream, kDown, {1});
  malformed.pop_back();
  malformed[7] = std::byte{3};  // payload_length 3
  up.onDatagram(0, relayLine(kDown, 0), to_up.fromNeighbour(kDown, malformed), now);
  CHECK(up.counters().dropped[static_cast<std::size_t>(DropReason::kMalformedNack)] == 1);

  up.onDatagram(0, relayLine(kDown, 0), to_up.fromNeighbour(kDown, makeNack(kStream, kDown, {77, 78})), now);
  CHECK(up.counters().nack_misses == 2);
  CHECK(up.counters().nack_packets_received == 3);  // well-formed or not, from a neighbour
  CHECK(relays.net.log().size() == sent_before);
}

TEST_CASE("With recovery.nack off a relay neither NACKs nor answers NACKs") {
  RelayCoreConfig config;
  config.recovery.nack = false;
  TwoRelays relays(config);
  relays.net.drop_if = [](const TestNetwork::Transmission& t, std::span<const std::byte>) {
    return t.header.type == PacketType::kData && t.from_node == kUp && t.header.sequence == 5;
  };
  relays.publishRun(10);
  relays.net.advance(200 * kMillisecond);
  CHECK(relays.sent(kDown, PacketType::kNack).empty());
  CHECK(relays.received().size() == 9);
  test::TestPeers peers(kUp);
  relays.net.relay(kUp).onDatagram(0, relayLine(kDown, 0), peers.fromNeighbour(kDown, makeNack(kStream, kDown, {5})),
                                   relays.net.now());
  CHECK(relays.counters(kUp).dropped[static_cast<std::size_t>(DropReason::kUnsupportedType)] == 1);
  CHECK(relays.counters(kUp).data_payload_bytes_sent == 10 * 200);
}

TEST_CASE("Over 30% loss on every link, NACK recovery delivers nearly every packet within the budget") {
  TwoRelays relays;
  relays.net.setPaths(kUp, kDown, PathModel{kDelay, 0, 0.30});
  relays.net.advance(3 * kSecond);  // loss measured: links DEGRADED
  constexpr std::uint32_t kPackets = 2000;
  relays.publishRun(kPackets);
  relays.net.advance(kSecond);

  std::vector<std::uint32_t> got = relays.received();
  std::sort(got.begin(), got.end());
  got.erase(std::unique(got.begin(), got.end()), got.end());
  const RelayCounters& down = relays.counters(kDown);
  INFO("recovered " << down.recovered_nack << ", unrecovered " << down.unrecovered << ", NACKed "
                    << down.nack_sequences_sent);
  // Each try loses 30% and the 400 ms budget allows several tries at 20 ms RTT.
  CHECK(got.size() >= kPackets * 999 / 1000);
  CHECK(down.unrecovered <= kPackets / 1000);
  CHECK(down.recovered_nack >= kPackets / 5);
  CHECK(relays.counters(kUp).dropped[static_cast<std::size_t>(DropReason::kNoSubscribers)] == 0);

  // High measured loss: retransmissions go out on two links at once (unless
  // probing has just declared every other link DOWN, which 30% loss on
  // probes and acks makes happen now and then).
  std::map<std::pair<std::uint32_t, TimeUs>, int> copies;
  for (const auto& t : relays.sent(kUp, PacketType::kData)) {
    if (isRetransmit(t.header)) ++copies[{t.header.sequence, t.at_us}];
  }
  REQUIRE_FALSE(copies.empty());
  const auto pairs = std::count_if(copies.begin(), copies.end(), [](const auto& entry) { return entry.second == 2; });
  INFO(pairs << " of " << copies.size() << " retransmissions went out twice");
  CHECK(static_cast<std::size_t>(pairs) * 2 >= copies.size());
  CHECK(std::all_of(copies.begin(), copies.end(), [](const auto& entry) { return entry.second <= 2; }));
}

TEST_CASE("Across two lossy hops, a packet that filled a gap goes on to the next relay on two links") {
  constexpr NodeId kMiddle = 2;
  constexpr NodeId kEdge = 3;
  TestNetwork net({kUp, kMiddle, kEdge}, {{kUp, kMiddle}, {kMiddle, kEdge}});
  net.setRoutes(kEdge, {{kUp, kMiddle}});
  net.setPaths(kUp, kMiddle, PathModel{kDelay, 0, 0.30});
  net.setPaths(kMiddle, kEdge, PathModel{kDelay, 0, 0.30});
  TestNetwork::Client& publisher = net.addClient(kUp);
  TestNetwork::Client& subscriber = net.addClient(kEdge);
  net.subscribe(subscriber, kStream);
  net.advance(3 * kSecond);  // loss measured on every link
  constexpr std::uint32_t kPackets = 2000;
  for (std::uint32_t s = 0; s < kPackets; ++s) {
    PacketSpec spec{PacketType::kData, kStream, wire::kDefaultHopLimit, kNoNode, s, 200};
    spec.timestamp_us = 1000 + s;
    net.clientSend(publisher, makePacket(spec));
    net.advance(kMillisecond);
  }
  net.advance(kSecond);

  std::vector<std::uint32_t> got;
  for (const auto& p : subscriber.received) {
    if (p.header().type == PacketType::kData) got.push_back(p.header().sequence);
  }
  std::sort(got.begin(), got.end());
  got.erase(std::unique(got.begin(), got.end()), got.end());
  CHECK(got.size() >= kPackets * 999 / 1000);
  const RelayCounters& middle = net.relay(kMiddle).counters();
  // Relay 2 recovers about 30% of the stream from relay 1 and passes each
  // on twice; relay 3 drops the second copies as duplicates.
  CHECK(middle.recovered_nack >= kPackets / 5);
  CHECK(middle.filled_copies_sent >= middle.recovered_nack * 9 / 10);
  CHECK(net.relay(kEdge).counters().recovered_nack > 0);
  CHECK(net.relay(kEdge).counters().dropped[static_cast<std::size_t>(DropReason::kDuplicate)] > 0);
}

}  // namespace
}  // namespace overline::relay
