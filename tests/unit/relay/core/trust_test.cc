// The trust rules of RelayCore (relay_core.h, "Trust"; docs/architecture.md,
// "Trust"): tags between relays, the client join, token grants, stream
// owners, the DATA sanity checks at the origin, client and stream quotas,
// the retransmission budget, key rotation and the packet age. Each rule is
// tried the way an attacker would and must end in a counted drop that
// changes nothing.

#include <algorithm>
#include <catch2/catch.hpp>
#include <limits>
#include <string>

#include "common/crypto/gmac.h"
#include "common/crypto/key_derivation.h"
#include "common/crypto/packet_auth.h"
#include "common/token/join_token.h"
#include "common/wire/byte_order.h"
#include "common/wire/nack_payload.h"
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
constexpr NodeId kDown = 3;
constexpr NodeId kRemote = 4;
constexpr StreamId kOwnStream = makeStreamId(kSelf, 1);
constexpr StreamId kRemoteStream = makeStreamId(kRemote, 1);
constexpr std::int64_t kNowUnixS = 1'900'000'000;

RelayCoreConfig config() {
  RelayCoreConfig config;
  config.node_id = kSelf;
  config.line_count = 2;
  config.neighbours = {NeighbourConfig{kUp, {relayLine(kUp, 0), relayLine(kUp, 1)}},
                       NeighbourConfig{kDown, {relayLine(kDown, 0), relayLine(kDown, 1)}}};
  config.routes = std::make_shared<const RouteTable>(RouteTable{{{kRemote, {kUp}}}});
  return test::withTestAuth(config);
}

struct Relay {
  explicit Relay(RelayCoreConfig c = config()) : core(std::move(c), sink), peers(kSelf) {
    core.setWallClockUs(kNowUnixS * kSecond);
  }
  void fromClient(std::uint32_t client, const Bytes& packet) {
    core.onDatagram(0, clientEndpoint(client), peers.fromClient(clientEndpoint(client), packet, now), now);
  }
  void fromNeighbour(NodeId neighbour, const Bytes& packet) {
    core.onDatagram(0, relayLine(neighbour, 0), peers.fromNeighbour(neighbour, packet), now);
  }
  void raw(const Endpoint& from, const Bytes& packet) { core.onDatagram(0, from, packet, now); }
  std::uint64_t dropped(DropReason reason) const {
    return core.counters().dropped[static_cast<std::size_t>(reason)];
  }
  void join(std::uint32_t client) { fromClient(client, makeControl(PacketType::kHello, 0)); }
  Bytes data(StreamId stream, std::uint32_t sequence, NodeId sender = kNoNode,
             std::uint64_t timestamp_us = kNowUnixS * kSecond) const {
    PacketSpec spec{PacketType::kData, stream, wire::kDefaultHopLimit, sender, sequence, 100};
    spec.timestamp_us = timestamp_us;
    return makePacket(spec);
  }

  RecordingSink sink;
  RelayCore core;
  test::TestPeers peers;
  TimeUs now = 1000 * kSecond;
};

// --- Between relays --------------------------------------------------------

TEST_CASE("from a neighbour's address, only a valid fresh tag counts: anything else is a drop that changes nothing") {
  Relay relay;
  const Bytes subscribe = makeControl(PacketType::kSubscribe, kOwnStream, wire::kDefaultHopLimit, kDown);

  SECTION("untagged (a forged source address)") {
    relay.raw(relayLine(kDown, 0), subscribe);
    CHECK(relay.dropped(DropReason::kUnauthenticated) == 1);
  }
  SECTION("a wrong tag") {
    Bytes forged = relay.peers.fromNeighbour(kDown, subscribe);
    forged.back() ^= std::byte{1};
    relay.raw(relayLine(kDown, 0), forged);
    CHECK(relay.dropped(DropReason::kBadTag) == 1);
  }
  SECTION("another node's valid tag from this neighbour's address") {
    relay.raw(relayLine(kDown, 0), relay.peers.fromNeighbour(kUp, subscribe));
    CHECK(relay.dropped(DropReason::kBadTag) == 1);
  }
  SECTION("an epoch the relay does not have") {
    Bytes untagged = subscribe;
    wire::writeBigEndian<std::uint32_t>(untagged, 8, kDown);
    Bytes forged(untagged.size() + wire::kTagBytes);
    std::copy(untagged.begin(), untagged.end(), forged.begin());
    const crypto::Gmac key(crypto::derivePairKey(test::testAuth().mesh_keys[0].secret, 7, kDown, kSelf));
    forged.resize(crypto::sealPacket(key, 7, 1, forged, untagged.size()));
    relay.raw(relayLine(kDown, 0), forged);
    CHECK(relay.dropped(DropReason::kBadTag) == 1);
  }
  SECTION("a replay of a genuine packet (once it was accepted, its copy is refused)") {
    const Bytes genuine = relay.peers.fromNeighbour(kDown, subscribe);
    relay.raw(relayLine(kDown, 0), genuine);
    REQUIRE(relay.core.gauges().downstreams == 1);
    relay.core.onDatagram(0, relayLine(kDown, 0), genuine, relay.now + kSecond);
    CHECK(relay.dropped(DropReason::kReplayed) == 1);
    return;  // the genuine SUBSCRIBE did subscribe: the checks below are for the others
  }
  SECTION("a v1 packet") {
    Bytes v1(32);
    v1[0] = std::byte{wire::kMagic};
    v1[1] = std::byte{1};
    v1[2] = static_cast<std::byte>(PacketType::kUnsubscribe);
    relay.raw(relayLine(kDown, 0), v1);
    CHECK(relay.core.counters().malformed[static_cast<std::size_t>(wire::ParseError::kTooShort)] +
              relay.core.counters().malformed[static_cast<std::size_t>(wire::ParseError::kBadVersion)] ==
          1);
  }
  CHECK(relay.core.gauges().downstreams == 0);
  CHECK(relay.core.gauges().streams == 0);
  CHECK(relay.sink.sent.empty());
}

TEST_CASE("every packet to a neighbour is tagged for it, with increasing packet numbers") {
  Relay relay;
  relay.fromNeighbour(kDown, makeControl(PacketType::kSubscribe, kRemoteStream, wire::kDefaultHopLimit, kDown));
  relay.fromNeighbour(kDown, makeControl(PacketType::kSubscribe, makeStreamId(kRemote, 2), 16, kDown));
  REQUIRE(relay.sink.count(PacketType::kSubscribe, relayLine(kUp, 0)) == 2);
  std::uint64_t previous = 0;
  const crypto::Gmac key(crypto::derivePairKey(test::testAuth().mesh_keys[0].secret, 1, kSelf, kUp));
  for (const test::SentPacket& sent : relay.sink.sent) {
    const auto parsed = wire::parsePacket(sent.bytes);
    REQUIRE(parsed.ok());
    CHECK(parsed->header.key_epoch == 1);
    CHECK(parsed->header.packet_number > previous);
    previous = parsed->header.packet_number;
    CHECK(crypto::verifyPacket(key, *parsed));
  }
}

TEST_CASE("a forged NACK makes nothing retransmit; a neighbour's NACKs are bounded by the retransmit budget") {
  RelayCoreConfig c = config();
  c.recovery.retransmit_budget_ratio = 0.5;  // half a packet per packet sent to it
  c.recovery.retransmit_burst_bytes = 4096;
  Relay relay(c);
  relay.fromNeighbour(kDown, makeControl(PacketType::kSubscribe, kRemoteStream, wire::kDefaultHopLimit, kDown));
  for (std::uint32_t sequence = 0; sequence < 40; ++sequence) {
    relay.fromNeighbour(kUp, relay.data(kRemoteStream, sequence, kUp));
  }
  const std::uint64_t data_bytes = relay.core.counters().neighbour_bytes_sent[static_cast<std::size_t>(SentKind::kData)];
  REQUIRE(data_bytes > 0);
  std::vector<std::uint32_t> all(40);
  for (std::uint32_t i = 0; i < 40; ++i) all[i] = i;
  Bytes payload(wire::kMaxNackPayloadBytes);
  payload.resize(wire::encodeNackPayload(all, payload));
  wire::Header header;
  header.type = PacketType::kNack;
  header.hop_limit = 1;
  header.sender_node_id = kDown;
  header.stream_id = kRemoteStream;
  Bytes nack(wire::kHeaderBytes + payload.size());
  nack.resize(wire::encodePacket(header, payload, nack));

  // Forged (untagged) from the downstream's address: counted, nothing sent.
  relay.raw(relayLine(kDown, 0), nack);
  CHECK(relay.dropped(DropReason::kUnauthenticated) == 1);
  CHECK(relay.core.counters().retransmissions_sent == 0);

  // Genuine, asking for everything twice over: the budget holds.
  relay.fromNeighbour(kDown, nack);
  relay.now += 100 * kMillisecond;
  relay.fromNeighbour(kDown, nack);
  const std::uint64_t retransmitted =
      relay.core.counters().neighbour_bytes_sent[static_cast<std::size_t>(SentKind::kRetransmit)];
  CHECK(retransmitted > 0);
  CHECK(static_cast<double>(retransmitted) <= 0.5 * static_cast<double>(data_bytes) + 4096);
  CHECK(relay.dropped(DropReason::kRetransmitBudget) > 0);
}

// --- Clients ---------------------------------------------------------------

TEST_CASE("a forged HELLO from a victim's address gets one stateless CHALLENGE, never more bytes than it had") {
  Relay relay;
  std::size_t in = 0;
  for (int i = 0; i < 50; ++i) {
    wire::PacketBuffer hello;
    std::array<std::byte, wire::kHelloNonceBytes + wire::kCookieBytes + 200> payload{};
    payload[0] = static_cast<std::byte>(i + 1);
    wire::Header header;
    header.type = PacketType::kHello;
    const std::size_t size = wire::encodePacket(header, payload, hello);
    in += size;
    relay.raw(clientEndpoint(9), Bytes(hello.begin(), hello.begin() + static_cast<std::ptrdiff_t>(size)));
  }
  std::size_t out = 0;
  for (const test::SentPacket& sent : relay.sink.sent) {
    CHECK(sent.header().type == PacketType::kChallenge);
    out += sent.bytes.size();
  }
  CHECK(out <= in);
  CHECK(relay.core.gauges().clients == 0);
  CHECK(relay.core.counters().challenges_sent == 50);
}

TEST_CASE("after the join, a client's packets must carry its session tag") {
  Relay relay;
  relay.join(1);
  REQUIRE(relay.core.gauges().clients == 1);
  const Bytes subscribe = makeControl(PacketType::kSubscribe, kOwnStream);

  relay.raw(clientEndpoint(1), subscribe);  // forged with its address
  CHECK(relay.dropped(DropReason::kUnauthenticated) == 1);
  Bytes genuine = relay.peers.fromClient(clientEndpoint(1), subscribe, relay.now);
  Bytes tampered = genuine;
  tampered[20] ^= std::byte{1};
  relay.raw(clientEndpoint(1), tampered);
  CHECK(relay.dropped(DropReason::kBadTag) == 1);
  CHECK(relay.core.gauges().downstreams == 0);
  relay.raw(clientEndpoint(1), genuine);
  CHECK(relay.core.gauges().downstreams == 1);
  relay.raw(clientEndpoint(1), genuine);
  CHECK(relay.dropped(DropReason::kReplayed) == 1);
  // A forged UNSUBSCRIBE cannot cut it.
  relay.raw(clientEndpoint(1), makeControl(PacketType::kUnsubscribe, kOwnStream));
  CHECK(relay.core.gauges().downstreams == 1);
  // Another endpoint's session key does not fit either (its packet number
  // is fresh here, so the tag is what refuses it).
  relay.join(2);
  for (int i = 0; i < 3; ++i) relay.peers.fromClient(clientEndpoint(2), makeControl(PacketType::kHello, 0), relay.now);
  relay.raw(clientEndpoint(1), relay.peers.fromClient(clientEndpoint(2), makeControl(PacketType::kUnsubscribe, kOwnStream),
                                                      relay.now));
  CHECK(relay.dropped(DropReason::kBadTag) == 2);
  CHECK(relay.core.gauges().downstreams == 1);
}

TEST_CASE("a token's grant gates SUBSCRIBE and DATA by role and stream scope") {
  const std::vector<std::uint8_t> key(16, 0x42);
  RelayCoreConfig c = config();
  c.join = JoinPolicy{key, true};
  Relay relay(c);
  token::JoinGrant grant;
  grant.expires_unix_s = kNowUnixS + 600;
  grant.roles = static_cast<std::uint8_t>(token::Role::kSubscribe);
  grant.scope = token::StreamScope::exactly(kRemoteStream);
  grant.edges = {kSelf};
  const std::string token = token::signJoinToken(key, grant, "192.168.0.1");
  wire::Header hello;
  hello.type = PacketType::kHello;
  Bytes packet(wire::kHeaderBytes + token.size());
  packet.resize(wire::encodePacket(hello, std::as_bytes(std::span(token.data(), token.size())), packet));
  relay.fromClient(1, packet);
  REQUIRE(relay.core.gauges().clients == 1);

  relay.fromClient(1, makeControl(PacketType::kSubscribe, makeStreamId(kRemote, 2)));  // out of scope
  CHECK(relay.dropped(DropReason::kNotPermitted) == 1);
  relay.fromClient(1, relay.data(kOwnStream, 0));  // no publish role
  CHECK(relay.dropped(DropReason::kNotPermitted) == 2);
  CHECK(relay.core.gauges().streams == 0);
  relay.fromClient(1, makeControl(PacketType::kSubscribe, kRemoteStream));  // granted
  CHECK(relay.core.gauges().streams == 1);
}

TEST_CASE("a stream has one owner: another client's DATA is refused and never moves its window") {
  Relay relay;
  relay.join(1);  // subscriber
  relay.fromClient(1, makeControl(PacketType::kSubscribe, kOwnStream));
  relay.join(2);  // publisher
  relay.join(3);  // attacker, joined like anyone
  relay.fromClient(2, relay.data(kOwnStream, 10));
  REQUIRE(relay.sink.count(PacketType::kData, clientEndpoint(1)) == 1);

  relay.fromClient(3, relay.data(kOwnStream, 10u + (1u << 31)));
  relay.fromClient(3, relay.data(kOwnStream, 11));
  CHECK(relay.dropped(DropReason::kNotOwner) == 2);
  relay.fromClient(2, relay.data(kOwnStream, 11));
  relay.fromClient(2, relay.data(kOwnStream, 12));
  CHECK(relay.sink.count(PacketType::kData, clientEndpoint(1)) == 3);

  SECTION("the owner itself cannot jump far ahead or stamp the future") {
    relay.fromClient(2, relay.data(kOwnStream, 12u + RelayCore::kMaxSequenceJump + 1));
    CHECK(relay.dropped(DropReason::kSequenceJump) == 1);
    relay.fromClient(2, relay.data(kOwnStream, 13, kNoNode, (kNowUnixS + 60) * kSecond));
    CHECK(relay.dropped(DropReason::kFutureTimestamp) == 1);
    relay.fromClient(2, relay.data(kOwnStream, 13));
    CHECK(relay.sink.count(PacketType::kData, clientEndpoint(1)) == 4);  // the window did not move
  }
  SECTION("ownership ends with the owner's session") {
    relay.now += 10 * kSecond;  // clients 2 and 3 fall silent; 1 keeps its session
    relay.fromClient(1, makeControl(PacketType::kHello, 0));
    relay.fromClient(1, makeControl(PacketType::kSubscribe, kOwnStream));
    relay.core.onTick(relay.now);
    relay.peers.forgetClient(clientEndpoint(3));
    relay.join(3);
    relay.fromClient(3, relay.data(kOwnStream, 0));
    CHECK(relay.sink.count(PacketType::kData, clientEndpoint(1)) == 4);
  }
}

TEST_CASE("client quotas: per address, per session publications, and streams clients may create") {
  RelayCoreConfig c = config();
  c.limits.max_clients_per_ip = 2;
  c.limits.max_publications_per_client = 1;
  c.limits.max_client_streams = 2;
  c.limits.max_streams = 4;
  Relay relay(c);
  // Three sessions from one address (ports differ).
  for (std::uint16_t port : {6001, 6002, 6003}) {
    const Endpoint from = clientEndpoint(1).withPort(port);
    relay.core.onDatagram(0, from, relay.peers.fromClient(from, makeControl(PacketType::kHello, 0), relay.now),
                          relay.now);
  }
  CHECK(relay.core.gauges().clients == 2);
  CHECK(relay.dropped(DropReason::kClientIpLimit) == 1);

  relay.join(2);
  relay.fromClient(2, relay.data(makeStreamId(kSelf, 7), 0));
  relay.fromClient(2, relay.data(makeStreamId(kSelf, 8), 0));
  CHECK(relay.dropped(DropReason::kPublicationLimit) == 1);

  relay.join(3);
  for (std::uint32_t i = 0; i < 3; ++i) relay.fromClient(3, makeControl(PacketType::kSubscribe, makeStreamId(kRemote, i)));
  CHECK(relay.core.gauges().streams == 2);
  CHECK(relay.dropped(DropReason::kStreamLimit) == 1);
  // Transit still has room.
  relay.fromNeighbour(kDown, makeControl(PacketType::kSubscribe, makeStreamId(kRemote, 9), 16, kDown));
  relay.fromNeighbour(kDown, makeControl(PacketType::kSubscribe, makeStreamId(kRemote, 10), 16, kDown));
  CHECK(relay.core.gauges().streams == 4);
}

// --- Rotation and age ------------------------------------------------------

TEST_CASE("key rotation mid-stream: every packet arrives, and after the switch every hop uses the new epoch") {
  RelayCoreConfig base = test::withTestAuth({});
  constexpr TimeUs kSwitchUnixUs = (kNowUnixS + 2) * kSecond;
  std::vector<std::uint8_t> second(32, 0x77);
  base.auth.mesh_keys.push_back(MeshKey{2, second, kSwitchUnixUs});
  test::TestNetwork net({1, 2, 3}, {{1, 2}, {2, 3}}, base);
  net.setPaths(1, 2, test::PathModel{2 * kMillisecond});
  net.setPaths(2, 3, test::PathModel{2 * kMillisecond});
  net.setRoutes(3, {{1, 2}});
  const TimeUs wall_at_start = kNowUnixS * kSecond - net.now();
  const auto tickWall = [&] {
    for (NodeId node : {1, 2, 3}) net.relay(node).setWallClockUs(wall_at_start + net.now());
  };
  tickWall();
  test::TestNetwork::Client& publisher = net.addClient(1);
  test::TestNetwork::Client& subscriber = net.addClient(3);
  const StreamId stream = makeStreamId(1, 5);
  net.subscribe(subscriber, stream);
  for (int i = 0; i < 10; ++i) {
    net.advance(10 * kMillisecond);
    tickWall();
  }
  std::uint32_t sequence = 0;
  for (; sequence < 400; ++sequence) {  // 4 s at 100 packets/s, across the switch at 2 s
    net.publish(publisher, stream, sequence);
    net.advance(10 * kMillisecond);
    tickWall();
  }
  net.advance(100 * kMillisecond);
  CHECK(subscriber.receivedCount(PacketType::kData) == 400);
  std::size_t after_switch = 0;
  for (const test::TestNetwork::Transmission& t : net.log()) {
    const bool to_relay = (t.to.address() >> 24) == 10;  // relay lines are 10.0.<node>.<line + 1>
    if (!to_relay || t.lost) continue;
    if (wall_at_start + t.at_us >= kSwitchUnixUs + 50 * kMillisecond) {
      CHECK(t.header.key_epoch == 2);
      ++after_switch;
    } else if (wall_at_start + t.at_us < kSwitchUnixUs) {
      CHECK(t.header.key_epoch == 1);
    }
  }
  CHECK(after_switch > 100);
  for (NodeId node : {1, 2, 3}) {
    CHECK(net.relay(node).counters().dropped[static_cast<std::size_t>(DropReason::kBadTag)] == 0);
    CHECK(net.relay(node).counters().dropped[static_cast<std::size_t>(DropReason::kReplayed)] == 0);
  }
}

TEST_CASE("each hop advances a packet's age by the previous hop's one-way delay") {
  test::TestNetwork net({1, 2, 3}, {{1, 2}, {2, 3}});
  net.setPaths(1, 2, test::PathModel{10 * kMillisecond});
  net.setPaths(2, 3, test::PathModel{20 * kMillisecond});
  net.setRoutes(3, {{1, 2}});
  test::TestNetwork::Client& publisher = net.addClient(1);
  test::TestNetwork::Client& subscriber = net.addClient(3);
  const StreamId stream = makeStreamId(1, 6);
  net.subscribe(subscriber, stream);
  net.advance(500 * kMillisecond);  // RTTs measured
  net.publish(publisher, stream, 0);
  net.advance(100 * kMillisecond);
  REQUIRE(subscriber.receivedCount(PacketType::kData) == 1);
  const auto received = std::find_if(subscriber.received.begin(), subscriber.received.end(),
                                     [](const test::SentPacket& p) { return p.header().type == PacketType::kData; });
  // 0 at relay 1 (from its client), + 10 ms at relay 2, + 20 ms at relay 3.
  CHECK(received->header().age_us == 30 * kMillisecond);
}

TEST_CASE("controller-pushed keys: the core tags with them, keyless neighbours are left out, the gauge follows "
          "the sending epoch") {
  RelayCoreConfig c;
  c.node_id = kSelf;
  c.line_count = 1;
  c.auth.packet_number_base = 1;  // no mesh keys, not lab mode: every key comes from the controller
  RecordingSink sink;
  RelayCore core(c, sink);
  core.setWallClockUs(kNowUnixS * kSecond);
  CHECK(core.gauges().auth_sending_epoch == 0);

  const crypto::Key128 key3{3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3};
  const crypto::Key128 key4{4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4};
  NeighbourConfig up{kUp, {relayLine(kUp, 0)}, {PairKey{3, key3, 0}}};
  const NeighbourConfig keyless{kDown, {relayLine(kDown, 0)}, {}};
  CHECK(core.canKey(up));
  CHECK_FALSE(core.canKey(keyless));
  core.setNeighbours({up});
  TimeUs now = kSecond;
  core.onTick(now);
  REQUIRE_FALSE(sink.probes.empty());
  CHECK(sink.probes.back().header().key_epoch == 3);
  CHECK(crypto::verifyPacket(crypto::Gmac(key3), wire::parsePacket(sink.probes.back().bytes).value()));
  CHECK(core.gauges().auth_sending_epoch == 3);

  // A rotation: epoch 4 arrives ahead of its activation, then takes over.
  const TimeUs activate_at = (kNowUnixS + 60) * kSecond;
  up.keys.push_back(PairKey{4, key4, activate_at});
  core.setNeighbours({up});
  CHECK(core.gauges().auth_sending_epoch == 3);
  core.setWallClockUs(activate_at);
  CHECK(core.gauges().auth_sending_epoch == 4);
  sink.probes.clear();
  for (int i = 0; i < 10 && sink.probes.empty(); ++i) core.onTick(now += core.tickInterval());
  REQUIRE_FALSE(sink.probes.empty());
  CHECK(sink.probes.back().header().key_epoch == 4);
}

}  // namespace
}  // namespace overline::relay
