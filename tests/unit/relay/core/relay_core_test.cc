// One RelayCore driven directly: packets in, recorded packets and counters out.
//
// Relay 1 has neighbours 2 and 3 (two lines each); origin 4 is reached via 2;
// node 9 is nobody's neighbour.

#include <algorithm>
#include <catch2/catch.hpp>

#include "relay/core/relay_core.h"
#include "tests/unit/relay/core/test_network.h"

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
constexpr NodeId kUnreachable = 9;
constexpr StreamId kRemoteStream = makeStreamId(kRemote, 1);
constexpr StreamId kOwnStream = makeStreamId(kSelf, 1);

RelayCoreConfig singleRelayConfig() {
  RelayCoreConfig config;
  config.node_id = kSelf;
  config.line_count = 2;
  config.neighbours = {
      NeighbourConfig{kUp, {relayLine(kUp, 0), relayLine(kUp, 1)}},
      NeighbourConfig{kSide, {relayLine(kSide, 0), relayLine(kSide, 1)}},
  };
  config.routes = std::make_shared<const RouteTable>(RouteTable{{{kRemote, {kUp}}}});
  return config;
}

struct Relay {
  explicit Relay(RelayCoreConfig config = singleRelayConfig())
      : core(test::withTestAuth(std::move(config)), sink), peers(core.nodeId()) {}

  // Joined and tagged as a real client and neighbour would (test_peers.h).
  void fromClient(std::uint32_t client, const Bytes& packet, LineIndex line = 0) {
    core.onDatagram(line, clientEndpoint(client), peers.fromClient(clientEndpoint(client), packet, now), now);
  }
  void fromNeighbour(NodeId neighbour, const Bytes& packet, LineIndex their_line = 0) {
    core.onDatagram(0, relayLine(neighbour, their_line), peers.fromNeighbour(neighbour, packet), now);
  }
  void join(std::uint32_t client, LineIndex line = 0) {
    fromClient(client, makeControl(PacketType::kHello, 0), line);
  }
  // Ticks every tickInterval() up to and including `until_us`. Neighbours
  // answer each probe at once while `neighbours_answer` is set, so their
  // links come up as on a healthy network.
  void tickUntil(TimeUs until_us) {
    while (now < until_us) {
      now = std::min(now + core.tickInterval(), until_us);
      core.onTick(now);
      for (; probes_seen < sink.probes.size(); ++probes_seen) {
        const test::SentPacket probe = sink.probes[probes_seen];  // a copy: answering appends
        if (!neighbours_answer || probe.header().type != PacketType::kProbe) continue;
        const NodeId neighbour = test::nodeOfRelayLine(probe.to);
        core.onDatagram(probe.line, probe.to, peers.fromNeighbour(neighbour, test::makeProbeAck(probe.header(), neighbour)),
                        now);
      }
    }
  }
  std::uint64_t dropped(DropReason reason) const {
    return core.counters().dropped[static_cast<std::size_t>(reason)];
  }

  RecordingSink sink;  // declared before `core`, which keeps a reference
  RelayCore core;
  test::TestPeers peers;  // the neighbours and clients, tagging as real ones do
  TimeUs now = 1000 * kSecond;
  bool neighbours_answer = true;
  std::size_t probes_seen = 0;
};

// A new DATA packet: every call takes the next sequence, so relays never
// take one for a duplicate of another.
Bytes dataPacket(StreamId stream, std::uint8_t hop_limit = wire::kDefaultHopLimit, NodeId sender = kNoNode) {
  static std::uint32_t next_sequence = 0;
  return makePacket(PacketSpec{PacketType::kData, stream, hop_limit, sender, next_sequence++, 100});
}

TEST_CASE("A HELLO with a valid cookie joins a client: WELCOME on the receiving line, keepalives answered") {
  Relay relay;
  const Bytes hello = relay.peers.fromClient(clientEndpoint(1), makeControl(PacketType::kHello, 0), relay.now);
  relay.core.onDatagram(1, clientEndpoint(1), hello, relay.now);

  REQUIRE(relay.sink.sent.size() == 1);
  const test::SentPacket reply = relay.sink.sent[0];
  CHECK(reply.line == 1);
  CHECK(reply.to == clientEndpoint(1));
  CHECK(reply.bytes.size() <= hello.size());  // never more than asked
  CHECK(reply.bytes.size() == wire::kHeaderBytes + wire::kWelcomePayloadBytes);
  const wire::Header header = reply.header();
  CHECK(header.type == PacketType::kWelcome);
  CHECK(header.sender_node_id == kSelf);
  CHECK(header.stream_id == 0);
  CHECK(header.hop_limit == wire::kDefaultHopLimit);
  CHECK(relay.core.gauges().clients == 1);
  CHECK(relay.core.counters().welcomes_sent == 1);

  // A keepalive (tagged) refreshes the same client and gets a header-only HELLO.
  relay.fromClient(1, makeControl(PacketType::kHello, 0), 0);
  REQUIRE(relay.sink.sent.size() == 2);
  CHECK(relay.sink.sent[1].line == 0);
  CHECK(relay.sink.sent[1].header().type == PacketType::kHello);
  CHECK(relay.sink.sent[1].bytes.size() == wire::kHeaderBytes + wire::kTagBytes);  // tagged for the client
  CHECK(relay.core.gauges().clients == 1);
  CHECK(relay.core.counters().droppedTotal() == 0);
}

TEST_CASE("A HELLO without a cookie gets a stateless CHALLENGE, smaller than itself") {
  Relay relay;
  Bytes hello(wire::kHeaderBytes + wire::kMinHelloPayloadBytes);
  wire::Header header;
  header.type = PacketType::kHello;
  header.sequence = 7;
  Bytes fields(wire::kMinHelloPayloadBytes, std::byte{0});  // nonce 1...1, no cookie yet
  std::fill(fields.begin(), fields.begin() + wire::kHelloNonceBytes, std::byte{1});
  hello.resize(wire::encodePacket(header, fields, hello));
  relay.core.onDatagram(0, clientEndpoint(1), hello, relay.now);
  REQUIRE(relay.sink.sent.size() == 1);
  CHECK(relay.sink.sent[0].header().type == PacketType::kChallenge);
  CHECK(relay.sink.sent[0].header().sequence == 7);
  CHECK(relay.sink.sent[0].bytes.size() < hello.size());
  CHECK(relay.core.gauges().clients == 0);  // no state
  // A wrong cookie is counted and challenged again; a HELLO too short for its fields is dropped.
  Bytes forged = hello;
  forged[wire::kHeaderBytes + wire::kHelloNonceBytes] = std::byte{0x55};
  relay.core.onDatagram(0, clientEndpoint(1), forged, relay.now);
  CHECK(relay.dropped(DropReason::kBadCookie) == 1);
  relay.core.onDatagram(0, clientEndpoint(1), makeControl(PacketType::kHello, 0), relay.now);
  CHECK(relay.dropped(DropReason::kBadHello) == 1);
  CHECK(relay.core.gauges().clients == 0);
  CHECK(relay.core.counters().challenges_sent == 2);
}

TEST_CASE("Non-HELLO packets from an unknown endpoint are dropped as unknown_source") {
  Relay relay;
  relay.core.onDatagram(0, clientEndpoint(1), dataPacket(kOwnStream), relay.now);
  relay.core.onDatagram(0, clientEndpoint(1), makeControl(PacketType::kSubscribe, kOwnStream), relay.now);
  relay.core.onDatagram(0, clientEndpoint(1), makeControl(PacketType::kUnsubscribe, kOwnStream), relay.now);
  relay.core.onDatagram(0, clientEndpoint(1), makeControl(PacketType::kProbe, 0), relay.now);

  CHECK(relay.dropped(DropReason::kUnknownSource) == 4);
  CHECK(relay.sink.sent.empty());
  CHECK(relay.core.gauges().clients == 0);
  CHECK(relay.core.gauges().streams == 0);
  CHECK(relay.core.counters().packets_received == 4);
}

TEST_CASE("HELLO from a neighbour is unexpected; FEC and NACK from clients are unsupported") {
  Relay relay;
  relay.fromNeighbour(kUp, makeControl(PacketType::kHello, 0));
  CHECK(relay.dropped(DropReason::kUnexpectedType) == 1);

  relay.join(1);
  relay.sink.sent.clear();
  for (const PacketType type : {PacketType::kNack, PacketType::kFec}) {
    relay.fromClient(1, makePacket(PacketSpec{type, 0, wire::kDefaultHopLimit, kNoNode, 0, 8}));
  }
  CHECK(relay.dropped(DropReason::kUnsupportedType) == 2);
  // FEC from a neighbour for a stream nobody here carries.
  relay.fromNeighbour(kUp, makePacket(PacketSpec{PacketType::kFec, 0, wire::kDefaultHopLimit, kUp, 0, 8}));
  CHECK(relay.dropped(DropReason::kNoSubscribers) == 1);
  CHECK(relay.core.counters().fec_packets_received == 1);
  CHECK(relay.sink.sent.empty());
}

TEST_CASE("Malformed datagrams are counted under their ParseError and never answered") {
  Relay relay;
  const Bytes valid = makeControl(PacketType::kSubscribe, kOwnStream);
  auto corrupt = [&](std::size_t offset, std::uint8_t value) {
    Bytes bytes = valid;
    bytes[offset] = std::byte{value};
    return bytes;
  };
  Bytes too_large = makePacket(PacketSpec{PacketType::kData, kOwnStream, 16, kNoNode, 0, wire::kMaxPayloadBytes});
  too_large.push_back(std::byte{0});
  too_large[6] = std::byte{0x04};  // payload_length 1201
  too_large[7] = std::byte{0xB1};
  Bytes mismatch = dataPacket(kOwnStream);
  mismatch.pop_back();
  Bytes unexpected_payload = makePacket(PacketSpec{PacketType::kData, kOwnStream, 16, kNoNode, 0, 4});
  unexpected_payload[2] = static_cast<std::byte>(PacketType::kSubscribe);

  const std::vector<std::pair<Bytes, wire::ParseError>> cases = {
      {Bytes(10), wire::ParseError::kTooShort},
      {corrupt(0, 0x50), wire::ParseError::kBadMagic},
      {corrupt(1, 1), wire::ParseError::kBadVersion},  // a v1 packet
      {corrupt(2, 0), wire::ParseError::kUnknownType},
      {corrupt(2, wire::kMaxPacketType + 1), wire::ParseError::kUnknownType},
      {corrupt(3, 1), wire::ParseError::kUnknownFlags},
      {corrupt(5, 1), wire::ParseError::kReservedNotZero},
      {too_large, wire::ParseError::kPayloadTooLarge},
      {mismatch, wire::ParseError::kLengthMismatch},
      {unexpected_payload, wire::ParseError::kUnexpectedPayload},
  };
  std::array<std::uint64_t, wire::kParseErrorCount> expected{};
  for (const auto& [bytes, error] : cases) {
    relay.core.onDatagram(0, relayLine(kUp, 0), bytes, relay.now);  // raw: not tagged
    ++expected[static_cast<std::size_t>(error)];
  }
  CHECK(relay.core.counters().malformed == expected);
  CHECK(relay.core.counters().droppedTotal() == cases.size());
  CHECK(relay.core.counters().packets_received == cases.size());
  CHECK(relay.core.counters().subscribes_received == 0);
  CHECK(relay.sink.sent.empty());
  CHECK(relay.core.gauges().streams == 0);
}

TEST_CASE("Subscribing to a remote stream subscribes upstream once; later subscribers merge") {
  Relay relay;
  relay.join(1);
  relay.join(2);
  relay.sink.sent.clear();

  relay.fromClient(1, makeControl(PacketType::kSubscribe, kRemoteStream, 16));
  REQUIRE(relay.sink.sent.size() == 1);
  const test::SentPacket upstream = relay.sink.sent[0];
  CHECK(upstream.line == 0);
  CHECK(upstream.to == relayLine(kUp, 0));
  const wire::Header header = upstream.header();
  CHECK(header.type == PacketType::kSubscribe);
  CHECK(header.stream_id == kRemoteStream);
  CHECK(header.sender_node_id == kSelf);
  CHECK(header.hop_limit == 15);

  relay.fromClient(2, makeControl(PacketType::kSubscribe, kRemoteStream));
  relay.fromNeighbour(kSide, makeControl(PacketType::kSubscribe, kRemoteStream, 16, kSide));
  relay.fromClient(1, makeControl(PacketType::kSubscribe, kRemoteStream));  // refresh
  CHECK(relay.sink.sent.size() == 1);
  CHECK(relay.core.counters().subscribes_sent == 1);
  CHECK(relay.core.counters().subscribes_received == 4);

  const RelayGauges gauges = relay.core.gauges();
  CHECK(gauges.streams == 1);
  CHECK(gauges.downstreams == 3);
  CHECK(gauges.upstream_subscriptions == 1);
  CHECK(gauges.clients == 2);
}

TEST_CASE("Subscribing to this relay's own stream records the downstream without going upstream") {
  Relay relay;
  relay.join(1);
  relay.sink.sent.clear();
  relay.fromClient(1, makeControl(PacketType::kSubscribe, kOwnStream));
  relay.fromNeighbour(kUp, makeControl(PacketType::kSubscribe, kOwnStream, 16, kUp));
  CHECK(relay.sink.sent.empty());
  CHECK(relay.core.gauges().downstreams == 2);
  CHECK(relay.core.gauges().upstream_subscriptions == 0);
}

TEST_CASE("DATA from the upstream is sent once to every downstream with hop fields rewritten") {
  Relay relay;
  relay.join(1, 0);
  relay.join(2, 1);
  relay.fromClient(1, makeControl(PacketType::kSubscribe, kRemoteStream));
  relay.fromClient(2, makeControl(PacketType::kSubscribe, kRemoteStream), 1);
  relay.fromNeighbour(kSide, makeControl(PacketType::kSubscribe, kRemoteStream, 16, kSide));
  relay.sink.sent.clear();
  const RelayCounters before = relay.core.counters();

  // The upstream may send on either of its lines.
  const Bytes data = dataPacket(kRemoteStream, 10, kUp);
  relay.fromNeighbour(kUp, data, 1);

  Bytes expected = data;
  wire::rewriteHopFields(expected, kSelf, 9, 0);  // no RTT measured yet: age 0
  REQUIRE(relay.sink.sent.size() == 3);
  // Each copy is tagged for its receiver (the neighbour's pair key, each
  // client's session key); under the tag, the same packet.
  for (const test::SentPacket& copy : relay.sink.sent) {
    CHECK(test::untagged(copy.bytes) == expected);
    CHECK(wire::parsePacket(copy.bytes)->header.tagged());
  }
  CHECK(relay.sink.count(PacketType::kData, clientEndpoint(1)) == 1);
  CHECK(relay.sink.count(PacketType::kData, clientEndpoint(2)) == 1);
  CHECK(relay.sink.count(PacketType::kData, relayLine(kSide, 0)) == 1);
  for (const test::SentPacket& copy : relay.sink.sent) {
    if (copy.to == clientEndpoint(2)) CHECK(copy.line == 1);  // the line client 2 uses
    if (copy.to == relayLine(kSide, 0)) CHECK(copy.line == 0);
  }
  CHECK(relay.core.counters().data_received == 1);
  CHECK(relay.core.counters().data_forwarded == 3);
  CHECK(relay.core.counters().transit_data_forwarded == 1);  // only the copy to kSide
  CHECK(relay.core.counters().packets_sent - before.packets_sent == 3);
  CHECK(relay.core.counters().bytes_sent - before.bytes_sent == 3 * (data.size() + wire::kTagBytes));
  CHECK(relay.core.counters().droppedTotal() == 0);
}

TEST_CASE("A client is answered on the line it last used") {
  Relay relay;
  relay.join(1, 0);
  relay.fromClient(1, makeControl(PacketType::kSubscribe, kOwnStream), 1);
  relay.join(2);
  relay.sink.sent.clear();
  relay.fromClient(2, dataPacket(kOwnStream));
  REQUIRE(relay.sink.sent.size() == 1);
  CHECK(relay.sink.sent[0].to == clientEndpoint(1));
  CHECK(relay.sink.sent[0].line == 1);
}

TEST_CASE("A neighbour sending over its second line is the same downstream") {
  Relay relay;
  relay.fromNeighbour(kSide, makeControl(PacketType::kSubscribe, kRemoteStream, 16, kSide), 0);
  relay.fromNeighbour(kSide, makeControl(PacketType::kSubscribe, kRemoteStream, 16, kSide), 1);
  CHECK(relay.core.gauges().downstreams == 1);
  relay.sink.sent.clear();

  relay.fromNeighbour(kUp, dataPacket(kRemoteStream, 16, kUp));
  REQUIRE(relay.sink.sent.size() == 1);
  CHECK(relay.sink.sent[0].to == relayLine(kSide, 0));
  CHECK(relay.sink.sent[0].line == 0);

  // An UNSUBSCRIBE over the other line removes it too, and the stream with it.
  relay.sink.sent.clear();
  relay.fromNeighbour(kSide, makeControl(PacketType::kUnsubscribe, kRemoteStream, 16, kSide), 1);
  CHECK(relay.core.gauges().streams == 0);
  REQUIRE(relay.sink.sent.size() == 1);
  CHECK(relay.sink.sent[0].header().type == PacketType::kUnsubscribe);
  CHECK(relay.sink.sent[0].to == relayLine(kUp, 0));
}

TEST_CASE("DATA is never sent back to where it came from") {
  Relay relay;
  relay.join(1);
  relay.join(2);
  relay.fromClient(1, makeControl(PacketType::kSubscribe, kOwnStream));
  relay.sink.sent.clear();

  relay.fromClient(1, dataPacket(kOwnStream));
  CHECK(relay.sink.sent.empty());
  CHECK(relay.dropped(DropReason::kNoSubscribers) == 1);

  relay.fromClient(2, makeControl(PacketType::kSubscribe, kOwnStream));
  relay.fromClient(1, dataPacket(kOwnStream));
  REQUIRE(relay.sink.sent.size() == 1);
  CHECK(relay.sink.sent[0].to == clientEndpoint(2));
  CHECK(relay.core.counters().data_forwarded == 1);
}

TEST_CASE("Hop limit") {
  Relay relay;
  relay.join(1);
  relay.sink.sent.clear();

  SECTION("SUBSCRIBE with hop limit 0 is dropped and not recorded") {
    relay.fromClient(1, makeControl(PacketType::kSubscribe, kOwnStream, 0));
    relay.fromNeighbour(kSide, makeControl(PacketType::kSubscribe, kRemoteStream, 0, kSide));
    CHECK(relay.dropped(DropReason::kHopLimitExceeded) == 2);
    CHECK(relay.core.gauges().streams == 0);
    CHECK(relay.sink.sent.empty());
  }
  SECTION("SUBSCRIBE with hop limit 1 is accepted only where it need not go upstream") {
    relay.fromNeighbour(kSide, makeControl(PacketType::kSubscribe, kRemoteStream, 1, kSide));
    CHECK(relay.dropped(DropReason::kHopLimitExceeded) == 1);
    CHECK(relay.core.gauges().streams == 0);
    CHECK(relay.sink.sent.empty());

    relay.fromNeighbour(kSide, makeControl(PacketType::kSubscribe, kOwnStream, 1, kSide));
    relay.fromClient(1, makeControl(PacketType::kSubscribe, kRemoteStream));
    relay.fromNeighbour(kSide, makeControl(PacketType::kSubscribe, kRemoteStream, 1, kSide));
    CHECK(relay.dropped(DropReason::kHopLimitExceeded) == 1);
    CHECK(relay.core.gauges().downstreams == 3);
  }
  SECTION("DATA arriving with hop limit 0 is dropped") {
    relay.fromClient(1, makeControl(PacketType::kSubscribe, kRemoteStream));
    relay.sink.sent.clear();
    relay.fromNeighbour(kUp, dataPacket(kRemoteStream, 0, kUp));
    CHECK(relay.dropped(DropReason::kHopLimitExceeded) == 1);
    CHECK(relay.sink.sent.empty());
  }
  SECTION("DATA left with hop limit 0 still reaches clients but no relay, counted once per packet") {
    relay.fromClient(1, makeControl(PacketType::kSubscribe, kOwnStream));
    relay.fromNeighbour(kUp, makeControl(PacketType::kSubscribe, kOwnStream, 16, kUp));
    relay.fromNeighbour(kSide, makeControl(PacketType::kSubscribe, kOwnStream, 16, kSide));
    relay.join(2);
    relay.sink.sent.clear();

    relay.fromClient(2, dataPacket(kOwnStream, 1));
    REQUIRE(relay.sink.sent.size() == 1);
    CHECK(relay.sink.sent[0].to == clientEndpoint(1));
    CHECK(relay.sink.sent[0].header().hop_limit == 0);
    CHECK(relay.dropped(DropReason::kHopLimitExceeded) == 1);
    CHECK(relay.core.counters().data_forwarded == 1);
  }
}

TEST_CASE("No route and routing loops refuse the SUBSCRIBE without recording it") {
  RelayCoreConfig config = singleRelayConfig();
  // Node 5 routes via 9, which is not a neighbour.
  config.routes = std::make_shared<const RouteTable>(RouteTable{{{kRemote, {kUp}}, {5, {kUnreachable}}}});
  Relay relay(config);
  relay.join(1);
  relay.sink.sent.clear();

  relay.fromClient(1, makeControl(PacketType::kSubscribe, makeStreamId(kUnreachable, 1)));
  relay.fromClient(1, makeControl(PacketType::kSubscribe, makeStreamId(5, 1)));
  CHECK(relay.dropped(DropReason::kNoRoute) == 2);

  // The next hop toward 4 is 2 itself: accepting would loop.
  relay.fromNeighbour(kUp, makeControl(PacketType::kSubscribe, kRemoteStream, 16, kUp));
  CHECK(relay.dropped(DropReason::kNoRoute) == 3);

  CHECK(relay.core.gauges().streams == 0);
  CHECK(relay.sink.sent.empty());

  SECTION("the current upstream cannot become a downstream, even while a route change is pending") {
    relay.fromClient(1, makeControl(PacketType::kSubscribe, kRemoteStream));
    relay.core.setRoutes(std::make_shared<const RouteTable>(RouteTable{{{kRemote, {kSide}}}}));
    relay.fromNeighbour(kUp, makeControl(PacketType::kSubscribe, kRemoteStream, 16, kUp));
    CHECK(relay.dropped(DropReason::kNoRoute) == 4);
    CHECK(relay.core.gauges().downstreams == 1);
  }
  SECTION("a direct neighbour is an implicit route") {
    relay.fromClient(1, makeControl(PacketType::kSubscribe, makeStreamId(kSide, 1)));
    REQUIRE(relay.sink.sent.size() == 1);
    CHECK(relay.sink.sent[0].to == relayLine(kSide, 0));
    CHECK(relay.sink.sent[0].header().type == PacketType::kSubscribe);
  }
}

TEST_CASE("A client may publish a stream whose home is another relay: this relay announces itself as its origin") {
  Relay relay;
  relay.join(1);
  relay.join(2);
  relay.fromClient(2, makeControl(PacketType::kSubscribe, kRemoteStream));
  REQUIRE(relay.sink.count(PacketType::kSubscribe, relayLine(kUp, 0)) == 1);  // toward its home, 4 via 2
  relay.sink.sent.clear();

  relay.fromClient(1, dataPacket(kRemoteStream));
  // Delivered to the local subscriber, and announced to both neighbours at once.
  CHECK(relay.sink.count(PacketType::kData, clientEndpoint(2)) == 1);
  CHECK(relay.sink.count(PacketType::kAnnounce) == 2);
  CHECK(relay.core.counters().announces_sent == 2);
  CHECK(relay.core.gauges().local_publications == 1);
  // This relay is an origin now: it stops subscribing toward the home at
  // the next tick, and releases that branch one refresh interval later
  // (make before break, as after any upstream move).
  relay.tickUntil(relay.now + relay.core.tickInterval());
  CHECK(relay.core.gauges().upstream_subscriptions == 0);
  const TimeUs released_by = relay.now + SubscriptionTimers{}.refresh_interval_us;
  while (relay.now < released_by) {  // the publisher goes on sending
    relay.fromClient(1, dataPacket(kRemoteStream));
    relay.tickUntil(relay.now + 20 * kMillisecond);
  }
  CHECK(relay.sink.count(PacketType::kUnsubscribe) == 1);
  CHECK(relay.core.counters().origin_moves == 0);  // its origin did not change: it became one
  CHECK(relay.core.counters().droppedTotal() == 0);
}

TEST_CASE("DATA from a neighbour that is not the stream's upstream is dropped") {
  Relay relay;
  relay.join(1);
  relay.fromClient(1, makeControl(PacketType::kSubscribe, kRemoteStream));
  relay.sink.sent.clear();

  relay.fromNeighbour(kSide, dataPacket(kRemoteStream, 16, kSide));
  CHECK(relay.dropped(DropReason::kNotUpstream) == 1);
  // A neighbour feeding this relay's own stream is never its upstream either.
  relay.fromClient(1, makeControl(PacketType::kSubscribe, kOwnStream));
  relay.fromNeighbour(kUp, dataPacket(kOwnStream, 16, kUp));
  CHECK(relay.dropped(DropReason::kNotUpstream) == 2);
  // A stream nobody here wants.
  relay.fromNeighbour(kUp, dataPacket(makeStreamId(kRemote, 99), 16, kUp));
  CHECK(relay.dropped(DropReason::kNoSubscribers) == 1);
  CHECK(relay.sink.sent.empty());
}

TEST_CASE("Limits") {
  RelayCoreConfig config = singleRelayConfig();
  config.limits.max_clients = 2;
  config.limits.max_streams = 3;
  config.limits.max_subscriptions_per_client = 2;
  Relay relay(config);

  SECTION("max_clients refuses further HELLOs without answering") {
    relay.join(1);
    relay.join(2);
    relay.sink.sent.clear();
    relay.join(3);
    CHECK(relay.dropped(DropReason::kClientLimit) == 1);
    CHECK(relay.sink.sent.empty());
    CHECK(relay.core.gauges().clients == 2);
    relay.join(1);  // a joined client is still answered
    CHECK(relay.sink.sent.size() == 1);
  }
  SECTION("max_streams refuses new streams, not refreshes or new downstreams of known ones") {
    for (std::uint32_t i = 1; i <= 3; ++i) {
      relay.fromNeighbour(kSide, makeControl(PacketType::kSubscribe, makeStreamId(kSelf, i), 16, kSide));
    }
    relay.fromNeighbour(kSide, makeControl(PacketType::kSubscribe, makeStreamId(kSelf, 4), 16, kSide));
    CHECK(relay.dropped(DropReason::kStreamLimit) == 1);
    relay.fromNeighbour(kSide, makeControl(PacketType::kSubscribe, makeStreamId(kSelf, 3), 16, kSide));
    relay.fromNeighbour(kUp, makeControl(PacketType::kSubscribe, makeStreamId(kSelf, 3), 16, kUp));
    CHECK(relay.dropped(DropReason::kStreamLimit) == 1);
    CHECK(relay.core.gauges().streams == 3);
    CHECK(relay.core.gauges().downstreams == 4);
  }
  SECTION("max_subscriptions_per_client refuses a client's extra streams; unsubscribing frees a slot") {
    relay.join(1);
    relay.join(2);
    relay.fromClient(1, makeControl(PacketType::kSubscribe, makeStreamId(kSelf, 1)));
    relay.fromClient(1, makeControl(PacketType::kSubscribe, makeStreamId(kSelf, 2)));
    relay.fromClient(1, makeControl(PacketType::kSubscribe, makeStreamId(kSelf, 3)));
    CHECK(relay.dropped(DropReason::kSubscriptionLimit) == 1);
    relay.fromClient(1, makeControl(PacketType::kSubscribe, makeStreamId(kSelf, 2)));  // refresh
    relay.fromClient(2, makeControl(PacketType::kSubscribe, makeStreamId(kSelf, 3)));  // another client
    CHECK(relay.dropped(DropReason::kSubscriptionLimit) == 1);
    CHECK(relay.core.gauges().downstreams == 3);

    relay.fromClient(1, makeControl(PacketType::kUnsubscribe, makeStreamId(kSelf, 1)));
    relay.fromClient(1, makeControl(PacketType::kSubscribe, makeStreamId(kSelf, 3)));
    CHECK(relay.dropped(DropReason::kSubscriptionLimit) == 1);
    CHECK(relay.core.gauges().downstreams == 3);
    CHECK(relay.core.gauges().streams == 2);
  }
}

TEST_CASE("Explicit UNSUBSCRIBE removes a downstream at once; an unknown one is ignored") {
  Relay relay;
  relay.join(1);
  relay.fromClient(1, makeControl(PacketType::kSubscribe, kRemoteStream));
  relay.fromNeighbour(kSide, makeControl(PacketType::kSubscribe, kRemoteStream, 16, kSide));
  relay.sink.sent.clear();

  relay.fromClient(1, makeControl(PacketType::kUnsubscribe, kRemoteStream));
  CHECK(relay.core.gauges().downstreams == 1);
  CHECK(relay.sink.sent.empty());  // the neighbour still wants it

  relay.fromNeighbour(kSide, makeControl(PacketType::kUnsubscribe, kRemoteStream, 16, kSide));
  CHECK(relay.core.gauges().streams == 0);
  CHECK(relay.core.gauges().upstream_subscriptions == 0);
  REQUIRE(relay.sink.sent.size() == 1);
  CHECK(relay.sink.sent[0].to == relayLine(kUp, 0));
  CHECK(relay.sink.sent[0].header().type == PacketType::kUnsubscribe);
  CHECK(relay.sink.sent[0].header().stream_id == kRemoteStream);
  CHECK(relay.core.counters().unsubscribes_sent == 1);

  relay.fromClient(1, makeControl(PacketType::kUnsubscribe, kRemoteStream));
  relay.fromNeighbour(kSide, makeControl(PacketType::kUnsubscribe, makeStreamId(kRemote, 5), 16, kSide));
  CHECK(relay.core.counters().unsubscribes_received == 4);
  CHECK(relay.core.counters().droppedTotal() == 0);
  CHECK(relay.sink.sent.size() == 1);
}

TEST_CASE("Upstream subscriptions are refreshed every refresh interval with the default hop limit") {
  Relay relay;
  relay.join(1);
  relay.fromClient(1, makeControl(PacketType::kSubscribe, kRemoteStream, 5));
  relay.sink.sent.clear();
  const TimeUs start = relay.now;
  const DurationUs refresh = SubscriptionTimers{}.refresh_interval_us;

  // Kept alive by the client, which refreshes a little more often than the relay.
  for (int round = 1; round <= 10; ++round) {
    relay.tickUntil(start + round * refresh - refresh / 10);
    relay.fromClient(1, makeControl(PacketType::kSubscribe, kRemoteStream));
  }
  relay.tickUntil(start + 10 * refresh);
  CHECK(relay.sink.count(PacketType::kSubscribe, relayLine(kUp, 0)) == 10);
  for (const test::SentPacket& sent : relay.sink.sent) {
    CHECK(sent.header().hop_limit == wire::kDefaultHopLimit);
  }
  CHECK(relay.core.counters().downstreams_expired == 0);
  CHECK(relay.core.gauges().upstream_subscriptions == 1);
}

TEST_CASE("A downstream that stops refreshing expires and the stream is unsubscribed upstream") {
  Relay relay;
  relay.fromNeighbour(kSide, makeControl(PacketType::kSubscribe, kRemoteStream, 16, kSide));
  const TimeUs expires_at = relay.now + SubscriptionTimers{}.expiry_us;
  relay.sink.sent.clear();

  relay.tickUntil(expires_at - 1);
  CHECK(relay.core.gauges().downstreams == 1);
  relay.tickUntil(expires_at);
  CHECK(relay.core.gauges().streams == 0);
  CHECK(relay.core.counters().downstreams_expired == 1);
  CHECK(relay.sink.count(PacketType::kUnsubscribe, relayLine(kUp, 0)) == 1);

  relay.fromNeighbour(kUp, dataPacket(kRemoteStream, 16, kUp));
  CHECK(relay.dropped(DropReason::kNoSubscribers) == 1);
}

TEST_CASE("A downstream of this relay's own stream expires though no other timer is pending") {
  Relay relay;
  relay.fromNeighbour(kSide, makeControl(PacketType::kSubscribe, kOwnStream, 16, kSide));
  const TimeUs expires_at = relay.now + SubscriptionTimers{}.expiry_us;
  relay.tickUntil(expires_at - 1);
  CHECK(relay.core.gauges().downstreams == 1);
  relay.tickUntil(expires_at);
  CHECK(relay.core.gauges().streams == 0);
  CHECK(relay.core.counters().downstreams_expired == 1);
  CHECK(relay.sink.sent.empty());  // the origin has no upstream to tell
}

TEST_CASE("A silent client expires with all its subscriptions") {
  RelayCoreConfig config = singleRelayConfig();
  config.subscriptions.expiry_us = 60 * kSecond;  // so only client expiry acts
  Relay relay(config);
  const DurationUs client_expiry = config.limits.client_expiry_us;
  relay.join(1);
  relay.fromClient(1, makeControl(PacketType::kSubscribe, kRemoteStream));
  relay.fromClient(1, makeControl(PacketType::kSubscribe, makeStreamId(kRemote, 2)));
  relay.fromClient(1, makeControl(PacketType::kSubscribe, kOwnStream));

  // Any packet counts as a sign of life, even a dropped one.
  const TimeUs last_seen = relay.now + client_expiry / 2;
  relay.tickUntil(last_seen);
  relay.fromClient(1, makeControl(PacketType::kUnsubscribe, makeStreamId(kRemote, 99)));  // for nothing
  relay.tickUntil(last_seen + client_expiry - 1);
  CHECK(relay.core.gauges().clients == 1);
  relay.sink.sent.clear();

  relay.tickUntil(last_seen + client_expiry);
  CHECK(relay.core.gauges().clients == 0);
  CHECK(relay.core.gauges().streams == 0);
  CHECK(relay.core.counters().clients_expired == 1);
  CHECK(relay.core.counters().downstreams_expired == 3);
  CHECK(relay.sink.count(PacketType::kUnsubscribe, relayLine(kUp, 0)) == 2);

  // It is unknown now: it must HELLO again.
  relay.fromClient(1, makeControl(PacketType::kSubscribe, kOwnStream));
  CHECK(relay.dropped(DropReason::kUnknownSource) == 1);
}

TEST_CASE("A route change moves the upstream subscription at the next tick, make before break") {
  Relay relay;
  relay.join(1);
  relay.fromClient(1, makeControl(PacketType::kSubscribe, kRemoteStream));
  relay.sink.sent.clear();
  const DurationUs refresh = SubscriptionTimers{}.refresh_interval_us;

  relay.core.setRoutes(std::make_shared<const RouteTable>(RouteTable{{{kRemote, {kSide}}}}));
  CHECK(relay.sink.sent.empty());
  relay.tickUntil(relay.now + relay.core.tickInterval());
  const TimeUs moved_at = relay.now;
  // The new upstream at once; the old one, still up, keeps feeding us until
  // the new one delivers.
  CHECK(relay.sink.count(PacketType::kSubscribe, relayLine(kSide, 0)) == 1);
  CHECK(relay.sink.sent.size() == 1);
  relay.fromNeighbour(kUp, dataPacket(kRemoteStream, 16, kUp));
  CHECK(relay.sink.count(PacketType::kData, clientEndpoint(1)) == 1);
  CHECK(relay.sink.count(PacketType::kUnsubscribe) == 0);
  relay.fromNeighbour(kSide, dataPacket(kRemoteStream, 16, kSide));
  CHECK(relay.sink.count(PacketType::kData, clientEndpoint(1)) == 2);
  CHECK(relay.sink.count(PacketType::kUnsubscribe, relayLine(kUp, 0)) == 1);

  // DATA still on its way from the old upstream is taken for one refresh
  // interval after the move, then refused.
  relay.tickUntil(moved_at + refresh - relay.core.tickInterval());
  relay.fromNeighbour(kUp, dataPacket(kRemoteStream, 16, kUp));
  CHECK(relay.sink.count(PacketType::kData, clientEndpoint(1)) == 3);
  relay.tickUntil(moved_at + refresh);
  relay.fromNeighbour(kUp, dataPacket(kRemoteStream, 16, kUp));
  CHECK(relay.dropped(DropReason::kNotUpstream) == 1);
  CHECK(relay.sink.count(PacketType::kUnsubscribe, relayLine(kUp, 0)) == 1);
  relay.sink.sent.clear();
  relay.fromNeighbour(kSide, dataPacket(kRemoteStream, 16, kSide));
  CHECK(relay.sink.count(PacketType::kData, clientEndpoint(1)) == 1);

  SECTION("losing the route drops the upstream; regaining it subscribes again") {
    relay.core.setRoutes(nullptr);  // 4 is no neighbour: no route at all
    relay.sink.sent.clear();
    relay.tickUntil(relay.now + relay.core.tickInterval());
    CHECK(relay.core.gauges().upstream_subscriptions == 0);
    CHECK(relay.core.gauges().downstreams == 1);
    // No new upstream will deliver: the old one is released after the interval.
    CHECK(relay.sink.count(PacketType::kUnsubscribe) == 0);
    relay.tickUntil(relay.now + refresh);
    CHECK(relay.sink.count(PacketType::kUnsubscribe, relayLine(kSide, 0)) == 1);

    relay.core.setRoutes(std::make_shared<const RouteTable>(RouteTable{{{kRemote, {kUp}}}}));
    relay.tickUntil(relay.now + relay.core.tickInterval());
    CHECK(relay.sink.count(PacketType::kSubscribe, relayLine(kUp, 0)) == 1);
    CHECK(relay.core.gauges().upstream_subscriptions == 1);
  }
  SECTION("a new next hop that is a downstream of the stream is not subscribed to") {
    relay.fromNeighbour(kUp, makeControl(PacketType::kSubscribe, kRemoteStream, 16, kUp));
    CHECK(relay.core.gauges().downstreams == 2);
    relay.core.setRoutes(std::make_shared<const RouteTable>(RouteTable{{{kRemote, {kUp}}}}));
    relay.sink.sent.clear();
    relay.tickUntil(relay.now + relay.core.tickInterval() + refresh);
    CHECK(relay.sink.count(PacketType::kUnsubscribe, relayLine(kSide, 0)) == 1);
    CHECK(relay.sink.count(PacketType::kSubscribe) == 0);
    CHECK(relay.core.gauges().upstream_subscriptions == 0);
  }
}

TEST_CASE("A move away from a down upstream unsubscribes it at once") {
  RelayCoreConfig config = singleRelayConfig();
  config.routes = std::make_shared<const RouteTable>(RouteTable{{{kRemote, {kUp, kSide}}}});
  Relay relay(config);
  relay.join(1);
  relay.fromClient(1, makeControl(PacketType::kSubscribe, kRemoteStream));
  relay.tickUntil(relay.now + 200 * kMillisecond);  // every link measured and UP
  relay.sink.sent.clear();

  // kUp stops answering; kSide still does (probes to it are answered below).
  relay.neighbours_answer = false;
  const TimeUs silent_from = relay.now;
  while (relay.core.counters().failovers == 0 && relay.now < silent_from + kSecond) {
    relay.now += relay.core.tickInterval();
    relay.core.onTick(relay.now);
    for (; relay.probes_seen < relay.sink.probes.size(); ++relay.probes_seen) {
      const test::SentPacket probe = relay.sink.probes[relay.probes_seen];
      if (probe.header().type != PacketType::kProbe || test::nodeOfRelayLine(probe.to) != kSide) continue;
      relay.core.onDatagram(probe.line, probe.to, relay.peers.fromNeighbour(kSide, test::makeProbeAck(probe.header(), kSide)),
                            relay.now);
    }
  }
  CHECK(relay.core.counters().failovers == 1);
  CHECK(relay.now - silent_from <= ProbingConfig{}.down_after_us + ProbingConfig{}.interval_us);
  CHECK(relay.sink.count(PacketType::kUnsubscribe) == 1);
  CHECK(relay.sink.count(PacketType::kSubscribe) == 1);
  CHECK(relay.sink.sent[0].header().type == PacketType::kUnsubscribe);  // the dead one first
  CHECK(test::nodeOfRelayLine(relay.sink.sent[0].to) == kUp);
  CHECK(test::nodeOfRelayLine(relay.sink.sent[1].to) == kSide);
}

TEST_CASE("Packets the sink refuses are counted as send_failed, not as sent") {
  Relay relay;
  relay.sink.accept = false;
  relay.join(1);
  CHECK(relay.dropped(DropReason::kSendFailed) == 1);
  relay.join(2);
  relay.fromClient(1, makeControl(PacketType::kSubscribe, kOwnStream));
  relay.fromClient(2, makeControl(PacketType::kSubscribe, kOwnStream));
  relay.fromClient(1, makeControl(PacketType::kSubscribe, kRemoteStream));  // upstream SUBSCRIBE fails
  CHECK(relay.dropped(DropReason::kSendFailed) == 3);
  CHECK(relay.core.counters().subscribes_sent == 0);

  relay.join(3);
  relay.fromClient(3, dataPacket(kOwnStream));
  // WELCOME to 3, DATA to 1 and 2, and the new publication's ANNOUNCE to both neighbours.
  CHECK(relay.dropped(DropReason::kSendFailed) == 8);
  CHECK(relay.core.counters().data_forwarded == 0);
  CHECK(relay.core.counters().packets_sent == 0);
  CHECK(relay.core.counters().bytes_sent == 0);
  CHECK(relay.sink.sent.size() == 6);
}

TEST_CASE("tickInterval is short enough for probes, refresh and expiry but at least 1 ms") {
  RelayCoreConfig config = test::withTestAuth(singleRelayConfig());  // neighbours need keys
  RecordingSink sink;
  CHECK(RelayCore(config, sink).tickInterval() == 5 * kMillisecond);  // a quarter of the 20 ms probe interval
  config.probing.interval_us = kSecond;
  CHECK(RelayCore(config, sink).tickInterval() == 50 * kMillisecond);
  config.subscriptions.refresh_interval_us = 100 * kMillisecond;
  CHECK(RelayCore(config, sink).tickInterval() == 25 * kMillisecond);
  config.subscriptions.refresh_interval_us = 100;
  CHECK(RelayCore(config, sink).tickInterval() == kMillisecond);
}

}  // namespace
}  // namespace overline::relay
