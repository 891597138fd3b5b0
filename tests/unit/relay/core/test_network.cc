#include "tests/unit/relay/core/test_network.h"

#include <algorithm>
#include <catch2/catch.hpp>

namespace overline::relay::test {

using wire::PacketType;

Endpoint relayLine(NodeId node, LineIndex line) {
  return Endpoint((10u << 24) | ((node & 0xffu) << 8) | (line + 1u), 7000);
}

Endpoint clientEndpoint(std::uint32_t index) {
  return Endpoint((192u << 24) | (168u << 16) | (index & 0xffu), static_cast<std::uint16_t>(5000 + index));
}

Bytes makePacket(const PacketSpec& spec) {
  wire::Header header;
  header.type = spec.type;
  header.hop_limit = spec.hop_limit;
  header.sender_node_id = spec.sender;
  header.stream_id = spec.stream;
  header.sequence = spec.sequence;
  header.timestamp_us = 42;
  Bytes payload(spec.payload_bytes);
  for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<std::byte>(i * 7 + 3);
  Bytes out(wire::kHeaderBytes + payload.size());
  out.resize(wire::encodePacket(header, payload, out));
  return out;
}

Bytes makeControl(PacketType type, StreamId stream, std::uint8_t hop_limit, NodeId sender) {
  return makePacket(PacketSpec{type, stream, hop_limit, sender, 0, 0});
}

wire::Header headerOf(std::span<const std::byte> packet) {
  const auto parsed = wire::parsePacket(packet);
  if (!parsed) FAIL("relay emitted a malformed packet: " << wire::toString(parsed.error()));
  return parsed->header;
}

bool RecordingSink::sendPacket(LineIndex line, const Endpoint& to, std::span<const std::byte> packet) {
  sent.push_back(SentPacket{line, to, Bytes(packet.begin(), packet.end())});
  return accept;
}

std::size_t RecordingSink::count(PacketType type, const Endpoint& to) const {
  return static_cast<std::size_t>(std::count_if(sent.begin(), sent.end(), [&](const SentPacket& p) {
    return p.to == to && p.header().type == type;
  }));
}

std::size_t RecordingSink::count(PacketType type) const {
  return static_cast<std::size_t>(
      std::count_if(sent.begin(), sent.end(), [&](const SentPacket& p) { return p.header().type == type; }));
}

std::size_t TestNetwork::Client::receivedCount(PacketType type) const {
  return static_cast<std::size_t>(std::count_if(received.begin(), received.end(),
                                                [&](const SentPacket& p) { return p.header().type == type; }));
}

TestNetwork::TestNetwork(const std::vector<NodeId>& nodes,
                         const std::vector<std::pair<NodeId, NodeId>>& links, const RelayCoreConfig& base)
    : refresh_interval_us_(base.subscriptions.refresh_interval_us) {
  for (const NodeId node : nodes) {
    RelayCoreConfig config = base;
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

void TestNetwork::setRoutes(NodeId node, std::map<NodeId, NodeId> next_hop) {
  relay(node).setRoutes(std::make_shared<const RouteTable>(RouteTable{std::move(next_hop)}));
}

TestNetwork::Client& TestNetwork::addClient(NodeId edge) {
  Client& client = clients_.emplace_back();
  client.endpoint = clientEndpoint(static_cast<std::uint32_t>(clients_.size()));
  client.edge = edge;
  client.next_refresh_us = now_us_ + refresh_interval_us_;
  clientSend(client, makeControl(PacketType::kHello, 0));
  return client;
}

void TestNetwork::clientSend(Client& client, const Bytes& packet, LineIndex line) {
  in_flight_.push_back(InFlight{client.endpoint, relayLine(client.edge, line), packet});
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
    now_us_ = std::min(now_us_ + step_us, end_us);
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
  network_.log_.push_back(Transmission{node_, from, to, headerOf(packet)});
  network_.in_flight_.push_back(InFlight{from, to, Bytes(packet.begin(), packet.end())});
  return true;
}

void TestNetwork::deliver() {
  // Generous bound: a forwarding or subscription loop shows up as a failure,
  // not as a hung test.
  constexpr std::size_t kMaxDeliveries = 100000;
  for (std::size_t delivered = 0; !in_flight_.empty(); ++delivered) {
    REQUIRE(delivered < kMaxDeliveries);
    InFlight packet = std::move(in_flight_.front());
    in_flight_.pop_front();
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
      in_flight_.push_back(
          InFlight{client.endpoint, relayLine(client.edge, 0), makeControl(PacketType::kHello, 0)});
    }
    for (const StreamId stream : client.refreshing) {
      in_flight_.push_back(InFlight{client.endpoint, relayLine(client.edge, 0),
                                    makeControl(PacketType::kSubscribe, stream)});
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
