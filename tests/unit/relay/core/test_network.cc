#include "tests/unit/relay/core/test_network.h"

#include <algorithm>
#include <catch2/catch.hpp>

namespace overline::relay::test {

using wire::PacketType;

Endpoint relayLine(NodeId node, LineIndex line) {
  return Endpoint((10u << 24) | ((node & 0xffu) << 8) | (line + 1u), 7000);
}

NodeId nodeOfRelayLine(const Endpoint& endpoint) { return (endpoint.address() >> 8) & 0xffu; }

Endpoint clientEndpoint(std::uint32_t index) {
  return Endpoint((192u << 24) | (168u << 16) | (index & 0xffu), static_cast<std::uint16_t>(5000 + index));
}

Bytes makePacket(const PacketSpec& spec) {
  wire::Header header;
  header.type = spec.type;
  header.flags = spec.flags;
  header.hop_limit = spec.hop_limit;
  header.sender_node_id = spec.sender;
  header.stream_id = spec.stream;
  header.sequence = spec.sequence;
  header.timestamp_us = spec.timestamp_us;
  header.latency_budget = spec.latency_budget;
  Bytes payload(spec.payload_bytes);
  for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<std::byte>(i * 7 + 3);
  Bytes out(wire::kHeaderBytes + payload.size());
  out.resize(wire::encodePacket(header, payload, out));
  return out;
}

Bytes makeControl(PacketType type, StreamId stream, std::uint8_t hop_limit, NodeId sender) {
  PacketSpec spec;
  spec.type = type;
  spec.stream = stream;
  spec.hop_limit = hop_limit;
  spec.sender = sender;
  return makePacket(spec);
}

Bytes makeProbeAck(const wire::Header& probe, NodeId responder) {
  wire::Header ack = probe;
  ack.type = PacketType::kProbeAck;
  ack.sender_node_id = responder;
  Bytes out(wire::kHeaderBytes);
  out.resize(wire::encodePacket(ack, {}, out));
  return out;
}

wire::Header headerOf(std::span<const std::byte> packet) {
  const auto parsed = wire::parsePacket(packet);
  if (!parsed) FAIL("relay emitted a malformed packet: " << wire::toString(parsed.error()));
  return parsed->header;
}

namespace {

bool isProbing(PacketType type) { return type == PacketType::kProbe || type == PacketType::kProbeAck; }

// The vector of `sink` packets of `type` are recorded in.
template <typename Sink>
auto& recordOf(Sink& sink, PacketType type) {
  if (isProbing(type)) return sink.probes;
  return type == PacketType::kAnnounce ? sink.announces : sink.sent;
}

}  // namespace

bool RecordingSink::sendPacket(LineIndex line, const Endpoint& to, std::span<const std::byte> packet) {
  SentPacket recorded{line, to, Bytes(packet.begin(), packet.end())};
  recordOf(*this, recorded.header().type).push_back(std::move(recorded));
  return accept;
}

std::size_t RecordingSink::count(PacketType type, const Endpoint& to) const {
  const std::vector<SentPacket>& packets = recordOf(*this, type);
  return static_cast<std::size_t>(std::count_if(packets.begin(), packets.end(), [&](const SentPacket& p) {
    return p.to == to && p.header().type == type;
  }));
}

std::size_t RecordingSink::count(PacketType type) const {
  const std::vector<SentPacket>& packets = recordOf(*this, type);
  return static_cast<std::size_t>(std::count_if(packets.begin(), packets.end(),
                                                [&](const SentPacket& p) { return p.header().type == type; }));
}

std::size_t TestNetwork::Client::receivedCount(PacketType type) const {
  return static_cast<std::size_t>(std::count_if(received.begin(), received.end(),
                                                [&](const SentPacket& p) { return p.header().type == type; }));
}

TestNetwork::TestNetwork(const std::vector<NodeId>& nodes,
                         const std::vector<std::pair<NodeId, NodeId>>& links, const RelayCoreConfig& base,
                         std::uint64_t seed)
    : refresh_interval_us_(base.subscriptions.refresh_interval_us), random_(seed) {
  for (const NodeId node : nodes) {
    RelayCoreConfig config = withTestAuth(base);
    config.node_id = node;
    config.line_count = 2;
    config.neighbours.clear();
    for (const auto& [a, b] : links) {
      if (a != node && b != node) continue;
      const NodeId other = a == node ? b : a;
      config.neighbours.push_back(NeighbourConfig{other, {relayLine(other, 0), relayLine(other, 1)}});
    }
    Node& entry = relays_[node];
    entry.sink = std::make_unique<NodeSink>(*this, node);
    entry.core = std::make_unique<RelayCore>(std::move(config), *entry.sink);
  }
}

void TestNetwork::setRoutes(NodeId node, const std::map<NodeId, NodeId>& next_hop) {
  RouteTable table;
  for (const auto& [destination, hop] : next_hop) table.entries[destination] = RouteEntry{hop, kNoNode};
  relay(node).setRoutes(std::make_shared<const RouteTable>(std::move(table)));
}

void TestNetwork::setRouteEntries(NodeId node, std::map<NodeId, RouteEntry> entries) {
  relay(node).setRoutes(std::make_shared<const RouteTable>(RouteTable{std::move(entries)}));
}

TestNetwork::Client& TestNetwork::addClient(NodeId edge) {
  Client& client = clients_.emplace_back();
  client.endpoint = clientEndpoint(static_cast<std::uint32_t>(clients_.size()));
  client.edge = edge;
  client.next_refresh_us = now_us_ + refresh_interval_us_;
  clientSend(client, makeControl(PacketType::kHello, 0));
  return client;
}

void TestNetwork::setPath(NodeId a, LineIndex a_line, NodeId b, LineIndex b_line, const PathModel& model) {
  paths_[{relayLine(a, a_line), relayLine(b, b_line)}] = model;
  paths_[{relayLine(b, b_line), relayLine(a, a_line)}] = model;
}

void TestNetwork::setPaths(NodeId a, NodeId b, const PathModel& model) {
  for (LineIndex a_line = 0; a_line < 2; ++a_line) {
    for (LineIndex b_line = 0; b_line < 2; ++b_line) setPath(a, a_line, b, b_line, model);
  }
}

Bytes TestNetwork::asClient(const Client& client, const Bytes& packet) {
  return peers_.try_emplace(client.edge, client.edge).first->second.fromClient(client.endpoint, packet, now_us_);
}

void TestNetwork::clientSend(Client& client, const Bytes& packet, LineIndex line) {
  enqueue(now_us_, InFlight{client.endpoint, relayLine(client.edge, line), asClient(client, packet)});
  deliver();
}

void TestNetwork::subscribe(Client& client, StreamId stream) {
  client.refreshing.push_back(stream);
  client.next_refresh_us = now_us_ + refresh_interval_us_;
  clientSend(client, makeControl(PacketType::kSubscribe, stream));
}

void TestNetwork::stopRefreshing(Client& client) { client.refreshing.clear(); }

void TestNetwork::publish(Client& publisher, StreamId stream, std::uint32_t sequence, std::uint8_t hop_limit) {
  clientSend(publisher, makePacket(PacketSpec{PacketType::kData, stream, hop_limit, kNoNode, sequence, 200}));
}

void TestNetwork::advance(DurationUs duration_us) {
  DurationUs step_us = duration_us;
  for (const auto& [id, node] : relays_) step_us = std::min(step_us, node.core->tickInterval());
  const TimeUs end_us = now_us_ + duration_us;
  while (now_us_ < end_us) {
    const TimeUs tick_us = std::min(now_us_ + step_us, end_us);
    while (!in_flight_.empty() && in_flight_.begin()->first < tick_us) {
      now_us_ = std::max(now_us_, in_flight_.begin()->first);
      deliver();
    }
    now_us_ = tick_us;
    refreshClients();
    for (auto& [id, node] : relays_) node.core->onTick(now_us_);
    deliver();
  }
}

std::size_t TestNetwork::countSent(NodeId from, NodeId to, PacketType type) const {
  return static_cast<std::size_t>(std::count_if(log_.begin(), log_.end(), [&](const Transmission& t) {
    return t.from_node == from && t.header.type == type &&
           (t.to == relayLine(to, 0) || t.to == relayLine(to, 1));
  }));
}

bool TestNetwork::NodeSink::sendPacket(LineIndex line, const Endpoint& to, std::span<const std::byte> packet) {
  const Endpoint from = relayLine(node_, line);
  Transmission sent{node_, from, to, headerOf(packet), network_.now_us_, false};
  TimeUs due_us = network_.now_us_;
  if (const auto path = network_.paths_.find({from, to}); path != network_.paths_.end()) {
    const PathModel& model = path->second;
    sent.lost = model.down || std::bernoulli_distribution(model.loss)(network_.random_);
    due_us += model.delay_us;
    if (model.jitter_us > 0) {
      due_us += std::uniform_int_distribution<DurationUs>(0, model.jitter_us)(network_.random_);
    }
  }
  if (!sent.lost && network_.drop_if) sent.lost = network_.drop_if(sent, packet);
  network_.log_.push_back(sent);
  // A lost packet still left the relay: the sink accepted it.
  if (!sent.lost) network_.enqueue(due_us, InFlight{from, to, Bytes(packet.begin(), packet.end())});
  return true;
}

void TestNetwork::enqueue(TimeUs due_us, InFlight packet) { in_flight_.emplace(due_us, std::move(packet)); }

void TestNetwork::deliver() {
  // Generous bound: a forwarding or subscription loop shows up as a failure,
  // not as a hung test.
  constexpr std::size_t kMaxDeliveries = 100000;
  for (std::size_t delivered = 0; !in_flight_.empty() && in_flight_.begin()->first <= now_us_; ++delivered) {
    REQUIRE(delivered < kMaxDeliveries);
    InFlight packet = std::move(in_flight_.begin()->second);
    in_flight_.erase(in_flight_.begin());
    if (const auto target = findRelayLine(packet.to)) {
      relay(target->node).onDatagram(target->line, packet.from, packet.bytes, now_us_);
      continue;
    }
    const auto client = std::find_if(clients_.begin(), clients_.end(),
                                      [&](const Client& c) { return c.endpoint == packet.to; });
    if (client == clients_.end()) {
      ++undeliverable_;
      continue;
    }
    const auto source = findRelayLine(packet.from);
    REQUIRE(source);
    client->received.push_back(SentPacket{source->line, packet.to, std::move(packet.bytes)});
  }
}

void TestNetwork::refreshClients() {
  for (Client& client : clients_) {
    if (now_us_ < client.next_refresh_us) continue;
    client.next_refresh_us = now_us_ + refresh_interval_us_;
    if (client.keepalive) {
      enqueue(now_us_,
              InFlight{client.endpoint, relayLine(client.edge, 0), asClient(client, makeControl(PacketType::kHello, 0))});
    }
    for (const StreamId stream : client.refreshing) {
      enqueue(now_us_, InFlight{client.endpoint, relayLine(client.edge, 0),
                                asClient(client, makeControl(PacketType::kSubscribe, stream))});
    }
  }
}

std::optional<TestNetwork::RelayLine> TestNetwork::findRelayLine(const Endpoint& endpoint) const {
  for (const auto& [id, entry] : relays_) {
    for (LineIndex line = 0; line < 2; ++line) {
      if (relayLine(id, line) == endpoint) return RelayLine{id, line};
    }
  }
  return std::nullopt;
}

}  // namespace overline::relay::test
