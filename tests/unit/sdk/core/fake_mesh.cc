#include "tests/unit/sdk/core/fake_mesh.h"

#include <algorithm>
#include <array>
#include <limits>
#include <stdexcept>

#include "common/crypto/packet_auth.h"
#include "common/wire/byte_order.h"

namespace overline::sdk::testing {

std::vector<std::byte> bytesOf(std::initializer_list<int> values) {
  std::vector<std::byte> out;
  for (const int v : values) out.push_back(static_cast<std::byte>(v));
  return out;
}

// ---- RecordingSink --------------------------------------------------------------

bool RecordingSink::sendDatagram(const Endpoint& to, std::span<const std::byte> datagram) {
  if (refuse_sends) return false;
  outbox.push_back({to, {datagram.begin(), datagram.end()}});
  return true;
}

void RecordingSink::onArrival(const DataRelease& data) {
  arrivals.push_back({data.subscription, data.stream, data.header, {data.payload.begin(), data.payload.end()}});
}

void RecordingSink::onDelivery(const DataRelease& data) {
  deliveries.push_back({data.subscription, data.stream, data.header, {data.payload.begin(), data.payload.end()}});
}

// ---- FakeEdge ---------------------------------------------------------------------

FakeEdge::FakeEdge(NodeId node, const Endpoint& endpoint)
    : node_(node), endpoint_(endpoint), gate_(relay::CookieSecret{static_cast<std::uint8_t>(node), 7, 7}) {}

std::size_t FakeEdge::count(wire::PacketType type, std::optional<StreamId> stream) const {
  return static_cast<std::size_t>(std::count_if(received_.begin(), received_.end(), [&](const Received& r) {
    return r.header.type == type && (!stream || r.header.stream_id == *stream);
  }));
}

std::vector<std::uint32_t> FakeEdge::dataSequences(StreamId stream) const {
  std::vector<std::uint32_t> out;
  for (const Received& r : received_) {
    if (r.header.type == wire::PacketType::kData && r.header.stream_id == stream) out.push_back(r.header.sequence);
  }
  return out;
}

bool FakeEdge::subscribed(const Endpoint& client, StreamId stream) const {
  const auto it = subscribers_.find(stream);
  return it != subscribers_.end() && it->second.contains(client);
}

std::vector<std::byte> FakeEdge::tagged(const Endpoint& client, const wire::Header& header,
                                        std::span<const std::byte> payload) {
  const auto session = sessions_.find(client);
  if (session == sessions_.end()) return {};
  wire::PacketBuffer buffer;
  std::size_t size = wire::encodePacket(header, payload, buffer);
  size = crypto::sealPacket(session->second.key, 1, session->second.next_packet_number++, buffer, size);
  return {buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(size)};
}

std::optional<wire::Header> FakeEdge::receive(const Endpoint& from, std::span<const std::byte> datagram, TimeUs now,
                                              std::vector<Out>& out, std::vector<std::byte>& data_payload) {
  if (!up) return std::nullopt;
  const auto parsed = wire::parsePacket(datagram);
  if (!parsed) return std::nullopt;
  const wire::Header& header = parsed->header;
  if (!header.tagged()) {
    // Only a join HELLO may come untagged.
    if (header.type == wire::PacketType::kHello) {
      received_.push_back({from, header, {parsed->payload.begin(), parsed->payload.end()}});
      answerJoin(from, *parsed, now, out);
    }
    return std::nullopt;
  }
  const auto session = sessions_.find(from);
  if (session == sessions_.end() || !crypto::verifyPacket(session->second.key, *parsed)) {
    ++bad_tags_;
    return std::nullopt;
  }
  received_.push_back({from, header, {parsed->payload.begin(), parsed->payload.end()}});
  switch (header.type) {
    case wire::PacketType::kHello:
      if (answer_keepalives) {
        wire::Header answer;
        answer.type = wire::PacketType::kHello;
        answer.sender_node_id = node_;
        answer.sequence = header.sequence;
        out.push_back({from, tagged(from, answer)});
      }
      return std::nullopt;
    case wire::PacketType::kSubscribe: subscribers_[header.stream_id].insert(from); return std::nullopt;
    case wire::PacketType::kUnsubscribe: subscribers_[header.stream_id].erase(from); return std::nullopt;
    case wire::PacketType::kData: data_payload.assign(parsed->payload.begin(), parsed->payload.end()); return header;
    default: return std::nullopt;
  }
}

void FakeEdge::forward(const wire::Header& header, std::span<const std::byte> payload, std::vector<Out>& out) {
  if (!up || !forwarded_[header.stream_id].insert(header.sequence).second) return;
  wire::Header forwarded = header;
  forwarded.sender_node_id = node_;
  forwarded.hop_limit = static_cast<std::uint8_t>(header.hop_limit - 1);
  for (const Endpoint& subscriber : subscribers_[header.stream_id]) {
    out.push_back({subscriber, tagged(subscriber, forwarded, payload)});
  }
}

void FakeEdge::answerJoin(const Endpoint& from, const wire::PacketView& hello, TimeUs now, std::vector<Out>& out) {
  const auto fields = relay::splitHello(hello.payload);
  if (!fields) return;
  wire::Header answer;
  answer.sender_node_id = node_;
  answer.sequence = hello.header.sequence;
  wire::PacketBuffer buffer;
  if (!fields->hasCookie() || !gate_.cookieValid(from, fields->nonce, fields->cookie, now)) {
    answer.type = wire::PacketType::kChallenge;
    const relay::Cookie cookie = gate_.cookie(from, fields->nonce, now);
    const std::size_t size = wire::encodePacket(answer, cookie, buffer);
    out.push_back({from, {buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(size)}});
    return;
  }
  const crypto::Key128 key = gate_.sessionKey(from, fields->nonce, fields->cookie);
  sessions_.insert_or_assign(from, Session{crypto::Gmac(key), 1});
  std::array<std::byte, wire::kWelcomePayloadBytes> welcome{};
  std::transform(key.begin(), key.end(), welcome.begin(), [](std::uint8_t b) { return std::byte{b}; });
  const Endpoint seen = reports_reflexive.value_or(from);
  wire::writeBigEndian<std::uint32_t>(welcome, wire::kSessionKeyBytes, seen.address());
  wire::writeBigEndian<std::uint16_t>(welcome, wire::kSessionKeyBytes + 4, seen.port());
  answer.type = wire::PacketType::kWelcome;
  const std::size_t size = wire::encodePacket(answer, welcome, buffer);
  out.push_back({from, {buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(size)}});
}

// ---- FakeMesh ---------------------------------------------------------------------

FakeEdge& FakeMesh::addEdge(NodeId node) {
  edges_.push_back(std::make_unique<FakeEdge>(node, Endpoint(0x0A000000 | node, 7000)));
  return *edges_.back();
}

FakeClient& FakeMesh::addClient(SessionConfig config) {
  if (config.candidates.empty()) {
    for (const auto& edge : edges_) config.candidates.push_back({edge->endpoint(), ""});
  }
  const auto n = static_cast<std::uint32_t>(clients_.size() + 1);
  auto client = std::make_unique<FakeClient>();
  client->address = Endpoint(0xC0000200 | n, static_cast<std::uint16_t>(5000 + n));
  const std::uint8_t first = next_nonce_;
  next_nonce_ = static_cast<std::uint8_t>(next_nonce_ + 64);
  NonceSource nonces = [counter = first]() mutable {
    HelloNonce nonce{};
    nonce.fill(std::byte{counter++});
    return std::optional<HelloNonce>(nonce);
  };
  auto core = SessionCore::create(std::move(config), client->sink, std::move(nonces), now_);
  if (!core) throw std::invalid_argument(core.error());
  client->core = std::move(core.value());
  clients_.push_back(std::move(client));
  return *clients_.back();
}

FakeEdge* FakeMesh::edgeAt(const Endpoint& endpoint) {
  for (const auto& edge : edges_) {
    if (edge->endpoint() == endpoint) return edge.get();
  }
  return nullptr;
}

FakeClient* FakeMesh::clientAt(const Endpoint& endpoint) {
  for (const auto& client : clients_) {
    if (client->address == endpoint) return client.get();
  }
  return nullptr;
}

void FakeMesh::publishUntil(FakeClient& publisher, StreamId stream, TimeUs end, DurationUs interval,
                            const std::function<void(TimeUs)>& before) {
  for (TimeUs t = now_ + interval; t <= end; t += interval) {
    if (before) before(t);
    advanceTo(t);
    publisher.core->send(stream, bytesOf({1}), wallOf(t));
    deliver();
  }
}

void FakeMesh::inject(FakeClient& client, const Endpoint& from, std::span<const std::byte> datagram) {
  client.core->onDatagram(from, datagram, now_, wallOf(now_));
  deliver();
}

void FakeMesh::deliver() {
  const auto hand = [&](const FakeEdge& edge, const std::vector<FakeEdge::Out>& out) {
    for (const FakeEdge::Out& o : out) {
      FakeClient* client = clientAt(o.to);
      if (client != nullptr && !o.bytes.empty()) client->core->onDatagram(edge.endpoint(), o.bytes, now_, wallOf(now_));
    }
  };
  for (bool moved = true; moved;) {
    moved = false;
    for (const auto& client : clients_) {
      while (!client->sink.outbox.empty()) {
        moved = true;
        const RecordingSink::Sent sent = std::move(client->sink.outbox.front());
        client->sink.outbox.pop_front();
        FakeEdge* edge = edgeAt(sent.to);
        if (edge == nullptr) continue;  // nobody there
        std::vector<FakeEdge::Out> out;
        std::vector<std::byte> payload;
        const auto data = edge->receive(client->address, sent.bytes, now_, out, payload);
        hand(*edge, out);
        if (!data) continue;
        for (const auto& each : edges_) {  // the relay fabric: every edge gets the stream
          std::vector<FakeEdge::Out> forwarded;
          each->forward(*data, payload, forwarded);
          hand(*each, forwarded);
        }
      }
    }
  }
}

void FakeMesh::advanceTo(TimeUs t) {
  for (int guard = 0;; ++guard) {
    if (guard > 1'000'000) throw std::logic_error("a deadline that never moves");
    FakeClient* due = nullptr;
    TimeUs earliest = std::numeric_limits<TimeUs>::max();
    for (const auto& client : clients_) {
      const TimeUs deadline = client->core->nextDeadline();
      if (deadline < earliest) {
        earliest = deadline;
        due = client.get();
      }
    }
    if (due == nullptr || earliest > t) break;
    now_ = std::max(now_, earliest);
    due->core->onTick(now_);
    deliver();
  }
  now_ = std::max(now_, t);
}

}  // namespace overline::sdk::testing
