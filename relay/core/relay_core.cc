#include "relay/core/relay_core.h"

#include <algorithm>
#include <array>
#include <cassert>
#include <utility>

#include "relay/core/line_choice.h"

namespace overline::relay {

using wire::PacketType;

RelayCore::RelayCore(RelayCoreConfig config, PacketSink& sink)
    : config_(std::move(config)), sink_(sink), routes_(config_.routes) {
  assert(config_.node_id != kNoNode);
  assert(config_.line_count >= 1);
  for (std::size_t i = 0; i < config_.neighbours.size(); ++i) {
    const NeighbourConfig& neighbour = config_.neighbours[i];
    assert(neighbour.node_id != kNoNode && neighbour.node_id != config_.node_id);
    assert(!neighbour.lines.empty());
    neighbour_index_.emplace(neighbour.node_id, i);
    for (const Endpoint& line : neighbour.lines) neighbour_by_endpoint_.emplace(line, neighbour.node_id);
  }
}

void RelayCore::onDatagram(LineIndex line, const Endpoint& from, std::span<const std::byte> datagram,
                           TimeUs now) {
  assert(line < config_.line_count);
  ++counters_.packets_received;
  counters_.bytes_received += datagram.size();
  const auto parsed = wire::parsePacket(datagram);
  if (!parsed) {
    ++counters_.malformed[static_cast<std::size_t>(parsed.error())];
    return;
  }
  const wire::Header& header = parsed->header;
  switch (header.type) {
    case PacketType::kData: ++counters_.data_received; break;
    case PacketType::kSubscribe: ++counters_.subscribes_received; break;
    case PacketType::kUnsubscribe: ++counters_.unsubscribes_received; break;
    default: break;
  }
  if (const auto neighbour = neighbour_by_endpoint_.find(from); neighbour != neighbour_by_endpoint_.end()) {
    onNeighbourPacket(neighbour->second, header, datagram, now);
  } else {
    onClientPacket(line, from, header, datagram, now);
  }
}

void RelayCore::onNeighbourPacket(NodeId neighbour, const wire::Header& header,
                                  std::span<const std::byte> datagram, TimeUs now) {
  const PeerId peer{neighbour, {}};
  switch (header.type) {
    case PacketType::kData: {
      const auto stream = streams_.find(header.stream_id);
      if (stream == streams_.end()) {
        ++counters_.drop(DropReason::kNoSubscribers);
      } else if (stream->second.upstream != neighbour) {
        ++counters_.drop(DropReason::kNotUpstream);
      } else {
        forwardData(peer, header, datagram, stream->second);
      }
      return;
    }
    case PacketType::kSubscribe: onSubscribe(peer, nullptr, header, now); return;
    case PacketType::kUnsubscribe: onUnsubscribe(peer, header); return;
    case PacketType::kHello: ++counters_.drop(DropReason::kUnexpectedType); return;
    case PacketType::kProbe:
    case PacketType::kProbeAck:
    case PacketType::kNack:
    case PacketType::kFec: ++counters_.drop(DropReason::kUnsupportedType); return;
  }
}

void RelayCore::onClientPacket(LineIndex line, const Endpoint& from, const wire::Header& header,
                               std::span<const std::byte> datagram, TimeUs now) {
  auto it = clients_.find(from);
  if (it == clients_.end()) {
    if (header.type != PacketType::kHello) {
      ++counters_.drop(DropReason::kUnknownSource);
      return;
    }
    if (clients_.size() >= config_.limits.max_clients) {
      ++counters_.drop(DropReason::kClientLimit);
      return;
    }
    it = clients_.emplace(from, Client{}).first;
    armDeadline(now + config_.limits.client_expiry_us);
  }
  Client& client = it->second;
  client.line = line;
  client.last_seen_us = now;

  const PeerId peer{kNoNode, from};
  switch (header.type) {
    case PacketType::kHello: {
      // Header-only, so never larger than the HELLO it answers (which carries
      // no payload either): the relay cannot be used as an amplifier.
      wire::Header reply;
      reply.type = PacketType::kHello;
      reply.sender_node_id = config_.node_id;
      std::array<std::byte, wire::kHeaderBytes> packet;
      const std::size_t size = wire::encodePacket(reply, {}, packet);
      sendToPeer(peer, std::span(packet.data(), size));
      return;
    }
    case PacketType::kData: {
      if (streamOrigin(header.stream_id) != config_.node_id) {
        ++counters_.drop(DropReason::kForeignStream);
        return;
      }
      const auto stream = streams_.find(header.stream_id);
      if (stream == streams_.end()) {
        ++counters_.drop(DropReason::kNoSubscribers);
        return;
      }
      forwardData(peer, header, datagram, stream->second);
      return;
    }
    case PacketType::kSubscribe: onSubscribe(peer, &client, header, now); return;
    case PacketType::kUnsubscribe: onUnsubscribe(peer, header); return;
    case PacketType::kProbe:
    case PacketType::kProbeAck:
    case PacketType::kNack:
    case PacketType::kFec: ++counters_.drop(DropReason::kUnsupportedType); return;
  }
}

void RelayCore::onSubscribe(const PeerId& from, Client* client, const wire::Header& header, TimeUs now) {
  if (header.hop_limit == 0) {
    ++counters_.drop(DropReason::kHopLimitExceeded);
    return;
  }
  const StreamId id = header.stream_id;
  const NodeId origin = streamOrigin(id);
  auto it = streams_.find(id);
  const bool new_stream = it == streams_.end();
  const std::optional<std::size_t> existing = new_stream ? std::nullopt : findDownstream(it->second, from);

  if (new_stream && streams_.size() >= config_.limits.max_streams) {
    ++counters_.drop(DropReason::kStreamLimit);
    return;
  }
  if (!existing && client != nullptr &&
      client->streams.size() >= config_.limits.max_subscriptions_per_client) {
    ++counters_.drop(DropReason::kSubscriptionLimit);
    return;
  }
  NodeId next_hop = kNoNode;
  if (origin != config_.node_id) {
    next_hop = resolveNextHop(origin);
    // Accepting a neighbour we would subscribe to ourselves (now or after the
    // pending route change) would let the two keep each other's state alive.
    const bool loop = from.isRelay() &&
                      (next_hop == from.node || (!new_stream && it->second.upstream == from.node));
    if (next_hop == kNoNode || loop) {
      ++counters_.drop(DropReason::kNoRoute);
      return;
    }
    // A new stream needs a SUBSCRIBE upstream, which would leave with hop limit 0.
    if (new_stream && header.hop_limit == 1) {
      ++counters_.drop(DropReason::kHopLimitExceeded);
      return;
    }
  }

  const TimeUs expires_at_us = now + config_.subscriptions.expiry_us;
  if (existing) {
    it->second.downstreams[*existing].expires_at_us = expires_at_us;
    return;
  }
  armDeadline(expires_at_us);
  if (new_stream) it = streams_.emplace(id, Stream{}).first;
  Stream& stream = it->second;
  stream.downstreams.push_back(Downstream{from, expires_at_us});
  if (client != nullptr) client->streams.push_back(id);
  if (new_stream && next_hop != kNoNode) {
    stream.upstream = next_hop;
    stream.next_refresh_us = now + config_.subscriptions.refresh_interval_us;
    armDeadline(stream.next_refresh_us);
    sendControl(PacketType::kSubscribe, id, next_hop, static_cast<std::uint8_t>(header.hop_limit - 1));
  }
}

void RelayCore::onUnsubscribe(const PeerId& from, const wire::Header& header) {
  const auto it = streams_.find(header.stream_id);
  if (it == streams_.end()) return;
  const std::optional<std::size_t> index = findDownstream(it->second, from);
  if (!index) return;
  detachDownstream(it->first, it->second, *index);
  if (it->second.downstreams.empty()) closeStream(it);
}

void RelayCore::forwardData(const PeerId& from, const wire::Header& header,
                            std::span<const std::byte> datagram, const Stream& stream) {
  if (header.hop_limit == 0) {
    ++counters_.drop(DropReason::kHopLimitExceeded);
    return;
  }
  const bool anyone_else = std::any_of(stream.downstreams.begin(), stream.downstreams.end(),
                                       [&](const Downstream& d) { return !(d.peer == from); });
  if (!anyone_else) {
    ++counters_.drop(DropReason::kNoSubscribers);
    return;
  }
  // parsePacket bounded the datagram by kMaxPacketBytes, the buffer's size.
  std::copy(datagram.begin(), datagram.end(), forward_buffer_.begin());
  const std::span<std::byte> copy(forward_buffer_.data(), datagram.size());
  const auto hop_limit = static_cast<std::uint8_t>(header.hop_limit - 1);
  wire::rewriteHopFields(copy, config_.node_id, hop_limit);

  bool relay_skipped = false;
  for (const Downstream& downstream : stream.downstreams) {
    if (downstream.peer == from) continue;
    // A relay would drop a hop limit 0 packet; a client is the last hop.
    if (downstream.peer.isRelay() && hop_limit == 0) {
      relay_skipped = true;
      continue;
    }
    if (sendToPeer(downstream.peer, copy)) ++counters_.data_forwarded;
  }
  if (relay_skipped) ++counters_.drop(DropReason::kHopLimitExceeded);
}

void RelayCore::onTick(TimeUs now) {
  if (now < next_deadline_us_ && !routes_changed_) return;
  TimeUs next_deadline_us = std::numeric_limits<TimeUs>::max();

  for (auto it = clients_.begin(); it != clients_.end();) {
    const TimeUs expires_at_us = it->second.last_seen_us + config_.limits.client_expiry_us;
    if (expires_at_us <= now) {
      // removeClient only erases this entry from clients_; `it` moves on first.
      removeClient(it++);
      ++counters_.clients_expired;
    } else {
      next_deadline_us = std::min(next_deadline_us, expires_at_us);
      ++it;
    }
  }

  for (auto it = streams_.begin(); it != streams_.end();) {
    Stream& stream = it->second;
    for (std::size_t i = 0; i < stream.downstreams.size();) {
      const TimeUs expires_at_us = stream.downstreams[i].expires_at_us;
      if (expires_at_us <= now) {
        detachDownstream(it->first, stream, i);
        ++counters_.downstreams_expired;
      } else {
        next_deadline_us = std::min(next_deadline_us, expires_at_us);
        ++i;
      }
    }
    if (stream.downstreams.empty()) {
      it = closeStream(it);
      continue;
    }
    if (streamOrigin(it->first) != config_.node_id) {
      if (routes_changed_ || now >= stream.next_refresh_us) maintainUpstream(it->first, stream, now);
      next_deadline_us = std::min(next_deadline_us, stream.next_refresh_us);
    }
    ++it;
  }

  routes_changed_ = false;
  next_deadline_us_ = next_deadline_us;
}

DurationUs RelayCore::tickInterval() const {
  const DurationUs interval_us = std::min({config_.subscriptions.refresh_interval_us / 4,
                                           config_.subscriptions.expiry_us / 4, 50 * kMillisecond});
  return std::max(interval_us, kMillisecond);
}

void RelayCore::setRoutes(RouteTablePtr routes) {
  routes_ = std::move(routes);
  routes_changed_ = true;
}

RelayGauges RelayCore::gauges() const {
  RelayGauges gauges;
  gauges.streams = streams_.size();
  gauges.clients = clients_.size();
  for (const auto& [id, stream] : streams_) {
    gauges.downstreams += stream.downstreams.size();
    if (stream.upstream != kNoNode) ++gauges.upstream_subscriptions;
  }
  return gauges;
}

std::optional<std::size_t> RelayCore::findDownstream(const Stream& stream, const PeerId& peer) {
  for (std::size_t i = 0; i < stream.downstreams.size(); ++i) {
    if (stream.downstreams[i].peer == peer) return i;
  }
  return std::nullopt;
}

NodeId RelayCore::resolveNextHop(NodeId origin) const {
  NodeId next_hop = origin;
  if (routes_) {
    if (const auto route = routes_->next_hop.find(origin); route != routes_->next_hop.end()) {
      next_hop = route->second;
    }
  }
  return neighbour_index_.contains(next_hop) ? next_hop : kNoNode;
}

void RelayCore::maintainUpstream(StreamId id, Stream& stream, TimeUs now) {
  NodeId next_hop = resolveNextHop(streamOrigin(id));
  // A next hop that is also a downstream of the stream (routes still
  // converging) would keep the pair's subscriptions alive forever; wait
  // without upstream and retry at the next refresh.
  if (next_hop != kNoNode && findDownstream(stream, PeerId{next_hop, {}})) next_hop = kNoNode;
  if (next_hop == stream.upstream && now < stream.next_refresh_us) return;

  if (next_hop != stream.upstream && stream.upstream != kNoNode) {
    sendControl(PacketType::kUnsubscribe, id, stream.upstream, wire::kDefaultHopLimit);
  }
  stream.upstream = next_hop;
  if (next_hop != kNoNode) sendControl(PacketType::kSubscribe, id, next_hop, wire::kDefaultHopLimit);
  stream.next_refresh_us = now + config_.subscriptions.refresh_interval_us;
}

void RelayCore::detachDownstream(StreamId id, Stream& stream, std::size_t index) {
  const PeerId peer = stream.downstreams[index].peer;
  stream.downstreams[index] = stream.downstreams.back();
  stream.downstreams.pop_back();
  if (peer.isRelay()) return;
  const auto client = clients_.find(peer.client);
  assert(client != clients_.end());
  std::vector<StreamId>& streams = client->second.streams;
  const auto entry = std::find(streams.begin(), streams.end(), id);
  assert(entry != streams.end());
  *entry = streams.back();
  streams.pop_back();
}

RelayCore::StreamMap::iterator RelayCore::closeStream(StreamMap::iterator it) {
  if (it->second.upstream != kNoNode) {
    sendControl(PacketType::kUnsubscribe, it->first, it->second.upstream, wire::kDefaultHopLimit);
  }
  return streams_.erase(it);
}

void RelayCore::removeClient(std::unordered_map<Endpoint, Client>::iterator it) {
  const PeerId peer{kNoNode, it->first};
  for (const StreamId id : it->second.streams) {
    const auto stream = streams_.find(id);
    assert(stream != streams_.end());
    std::vector<Downstream>& downstreams = stream->second.downstreams;
    const std::optional<std::size_t> index = findDownstream(stream->second, peer);
    assert(index);
    // Not detachDownstream: it would edit the list being walked, which goes anyway.
    downstreams[*index] = downstreams.back();
    downstreams.pop_back();
    ++counters_.downstreams_expired;
    if (downstreams.empty()) closeStream(stream);
  }
  clients_.erase(it);
}

void RelayCore::sendControl(PacketType type, StreamId stream, NodeId neighbour, std::uint8_t hop_limit) {
  wire::Header header;
  header.type = type;
  header.hop_limit = hop_limit;
  header.sender_node_id = config_.node_id;
  header.stream_id = stream;
  std::array<std::byte, wire::kHeaderBytes> packet;
  const std::size_t size = wire::encodePacket(header, {}, packet);
  if (!sendToPeer(PeerId{neighbour, {}}, std::span(packet.data(), size))) return;
  ++(type == PacketType::kSubscribe ? counters_.subscribes_sent : counters_.unsubscribes_sent);
}

bool RelayCore::sendToPeer(const PeerId& peer, std::span<const std::byte> packet) {
  if (peer.isRelay()) {
    const auto neighbour = neighbour_index_.find(peer.node);
    assert(neighbour != neighbour_index_.end());
    const LinePair pair = chooseLinePair(config_.neighbours[neighbour->second]);
    return send(pair.local_line, pair.remote, packet);
  }
  const auto client = clients_.find(peer.client);
  assert(client != clients_.end());
  return send(client->second.line, peer.client, packet);
}

bool RelayCore::send(LineIndex line, const Endpoint& to, std::span<const std::byte> packet) {
  if (!sink_.sendPacket(line, to, packet)) {
    ++counters_.drop(DropReason::kSendFailed);
    return false;
  }
  ++counters_.packets_sent;
  counters_.bytes_sent += packet.size();
  return true;
}

void RelayCore::armDeadline(TimeUs deadline_us) {
  next_deadline_us_ = std::min(next_deadline_us_, deadline_us);
}

}  // namespace overline::relay
