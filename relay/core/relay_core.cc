#include "relay/core/relay_core.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <utility>

#include "common/check/invariant.h"

namespace overline::relay {

using wire::PacketType;

RelayCore::RelayCore(RelayCoreConfig config, PacketSink& sink)
    : config_(std::move(config)),
      auth_(config_.node_id, !config_.auth.insecure_lab_mode, config_.auth.packet_number_base),
      egress_(sink, auth_, counters_, wall_now_us_),
      neighbours_(config_, auth_, egress_, counters_),
      gate_(config_.auth.cookie_secret),
      failover_(config_.failover),
      directory_(config_.subscriptions.expiry_us, config_.limits.max_streams) {
  auth_.setMeshKeys(config_.auth.mesh_keys);
  // relay/config validates these; release: a missing id is only reported, the rest clamped.
  OVERLINE_INVARIANT(config_.node_id != kNoNode);
  if (!OVERLINE_INVARIANT(config_.line_count >= 1)) config_.line_count = 1;
  if (!OVERLINE_INVARIANT(config_.probing.interval_us > 0)) config_.probing.interval_us = ProbingConfig{}.interval_us;
  failover_.setRoutes(config_.routes);
  if (config_.recovery.nack) {
    retransmit_.emplace(config_.recovery.retransmit_buffer_packets, config_.recovery.retransmit_buffer_bytes);
  }
  neighbours_.rebuild();
}

void RelayCore::setNeighbours(std::vector<NeighbourConfig> neighbours) {
  for (const Neighbour& old : neighbours_.all()) {
    const bool kept = std::any_of(neighbours.begin(), neighbours.end(),
                                  [&](const NeighbourConfig& n) { return n.node_id == old.id; });
    if (!kept) forgetNeighbour(old.id);
  }
  config_.neighbours = std::move(neighbours);
  neighbours_.rebuild();
  // Next hops may have appeared or vanished: re-run failover and move
  // upstreams at the next tick.
  failover_dirty_ = true;
  upstreams_dirty_ = true;
}

void RelayCore::setProbing(const ProbingConfig& probing) {
  // Reloads keep the window (link state is kept); release: the change is ignored.
  if (!OVERLINE_INVARIANT(probing.loss_window == config_.probing.loss_window)) return;
  config_.probing = probing;
  neighbours_.applyProbing();
}

void RelayCore::forgetNeighbour(NodeId id) {
  const PeerId peer{id, {}};
  for (auto it = streams_.begin(); it != streams_.end();) {
    Stream& stream = it->second;
    if (const auto index = findDownstream(stream, peer)) {
      detachDownstream(it->first, stream, *index);
      if (stream.downstreams.empty()) {
        it = closeStream(it);
        continue;
      }
    }
    if (stream.previous_upstream == id) {
      releasePreviousUpstream(it->first, stream);
      stream.previous_upstream = kNoNode;
    }
    if (stream.upstream == id) {
      sendControl(PacketType::kUnsubscribe, it->first, id, wire::kDefaultHopLimit);
      streams_.setUpstream(stream, kNoNode);
    }
    if (streams_.removeExtraUpstream(stream, id)) {
      sendControl(PacketType::kUnsubscribe, it->first, id, wire::kDefaultHopLimit);
    }
    ++it;
  }
}

void RelayCore::onDatagram(LineIndex line, const Endpoint& from, std::span<const std::byte> datagram,
                           TimeUs now) {
  if (!OVERLINE_INVARIANT(line < config_.line_count)) return;  // dropped, counted as a violation
  ++counters_.packets_received;
  counters_.bytes_received += datagram.size();
  // The one parse of this datagram: everything below reads this view.
  const auto parsed = wire::parsePacket(datagram);
  if (!parsed) {
    ++counters_.malformed[static_cast<std::size_t>(parsed.error())];
    return;
  }
  const wire::PacketView& packet = *parsed;
  switch (packet.header.type) {
    case PacketType::kData: ++counters_.data_received; break;
    case PacketType::kSubscribe: ++counters_.subscribes_received; break;
    case PacketType::kUnsubscribe: ++counters_.unsubscribes_received; break;
    case PacketType::kProbeAck: ++counters_.probe_acks_received; break;
    default: break;
  }
  const std::optional<NeighbourTable::Source> source = neighbours_.findByEndpoint(from);
  if (!source) {
    onClientPacket(line, from, packet, now);
    return;
  }
  // Nothing from a neighbour's address is believed before its tag.
  switch (auth_.check(source->neighbour->id, packet)) {
    case NeighbourAuth::Verdict::kOk: break;
    case NeighbourAuth::Verdict::kUntagged: ++counters_.drop(DropReason::kUnauthenticated); return;
    case NeighbourAuth::Verdict::kBadTag: ++counters_.drop(DropReason::kBadTag); return;
    case NeighbourAuth::Verdict::kReplayed: ++counters_.drop(DropReason::kReplayed); return;
  }
  onNeighbourPacket(*source->neighbour, source->line, line, from, packet, now);
}

void RelayCore::onNeighbourPacket(Neighbour& neighbour, LineIndex remote_line, LineIndex line, const Endpoint& from,
                                  const wire::PacketView& packet, TimeUs now) {
  const wire::Header& header = packet.header;
  const PeerId peer{neighbour.id, {}};
  switch (header.type) {
    case PacketType::kData: onNeighbourData(neighbour, packet, now); return;
    case PacketType::kSubscribe: onSubscribe(peer, nullptr, header, now); return;
    case PacketType::kUnsubscribe: onUnsubscribe(peer, header); return;
    case PacketType::kProbe: neighbours_.answerProbe(neighbour, line, from, header); return;
    case PacketType::kProbeAck: neighbours_.onProbeAck(neighbour, line, remote_line, header, now); return;
    case PacketType::kHello:
    case PacketType::kChallenge:
    case PacketType::kWelcome: ++counters_.drop(DropReason::kUnexpectedType); return;
    case PacketType::kNack:
      if (!retransmit_) {
        ++counters_.drop(DropReason::kUnsupportedType);
        return;
      }
      ++counters_.nack_packets_received;
      onNack(neighbour, header, packet.payload, now);
      return;
    case PacketType::kFec:
      ++counters_.fec_packets_received;
      onFec(neighbour, packet, now);
      return;
    case PacketType::kAnnounce:
      ++counters_.announces_received;
      onAnnounce(neighbour, packet, now);
      return;
  }
}

void RelayCore::onNeighbourData(Neighbour& neighbour, const wire::PacketView& packet, TimeUs now) {
  const wire::Header& header = packet.header;
  if ((header.flags & wire::kFlagRetransmit) != 0) ++counters_.retransmissions_received;
  const auto it = streams_.find(header.stream_id);
  if (it == streams_.end()) {
    ++counters_.drop(DropReason::kNoSubscribers);
    return;
  }
  Stream& stream = it->second;
  const bool from_upstream =
      isUpstream(stream, neighbour.id) ||
      (stream.previous_upstream == neighbour.id && now < stream.previous_upstream_until_us) ||
      (now < stream.released_until_us &&
       std::find(stream.released_extras.begin(), stream.released_extras.end(), neighbour.id) !=
           stream.released_extras.end());
  if (!from_upstream) {
    ++counters_.drop(DropReason::kNotUpstream);
    return;
  }
  // The new branch works: the old one may go.
  if (stream.upstream == neighbour.id) releasePreviousUpstream(it->first, stream);
  const PeerId peer{neighbour.id, {}};
  forwardData(peer, packet, it->first, stream, now);
  // The decoder keeps DATA only while its upstream sends FEC.
  if (stream.upstream == neighbour.id && stream.fec.active()) {
    stream.fec.setMaxAge(budgetOf(header));
    const FecDecoderCounters before = stream.fec.counters();
    fec_recovered_.clear();
    stream.fec.onData(packet, now, fec_recovered_);
    deliverRecovered(peer, it->first, stream, before, now);
  }
}

void RelayCore::onSubscribe(const PeerId& from, ClientSession* client, const wire::Header& header, TimeUs now) {
  if (header.hop_limit == 0) {
    ++counters_.drop(DropReason::kHopLimitExceeded);
    return;
  }
  const StreamId id = header.stream_id;
  auto it = streams_.find(id);
  const bool new_stream = it == streams_.end();
  const std::optional<std::size_t> existing = new_stream ? std::nullopt : findDownstream(it->second, from);

  // Clients may create at most max_client_streams of the max_streams, so
  // they can never take the room transit needs.
  if (new_stream && (streams_.size() >= config_.limits.max_streams ||
                     (client != nullptr && streams_.clientCreated() >= config_.limits.max_client_streams))) {
    ++counters_.drop(DropReason::kStreamLimit);
    return;
  }
  if (!existing && client != nullptr &&
      client->streams.size() >= config_.limits.max_subscriptions_per_client) {
    ++counters_.drop(DropReason::kSubscriptionLimit);
    return;
  }
  // A plan without `from`: accepting a neighbour we would subscribe to
  // ourselves would let the two keep each other's state alive.
  // A client's SUBSCRIBE names its other edge when it is dual-homed (a hint).
  const NodeId avoid =
      client != nullptr && header.sequence != config_.node_id ? static_cast<NodeId>(header.sequence) : kNoNode;
  const UpstreamPlan plan = planUpstreams(id, new_stream ? nullptr : &it->second, from.node, avoid, now);
  if (!plan.origin) {
    // Nor while the stream still has it as upstream (a pending route change),
    // unless the stream has several origins (see planUpstreams).
    const bool loop =
        from.isRelay() && !new_stream && plan.origin_count == 1 && it->second.upstream == from.node;
    if (plan.upstream == kNoNode || loop) {
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
    Downstream& downstream = it->second.downstreams[*existing];
    downstream.expires_at_us = expires_at_us;
    if (downstream.avoid != avoid) {
      downstream.avoid = avoid;
      replanLater(id);
    }
    return;
  }
  if (new_stream) it = streams_.create(id, client != nullptr);
  Stream& stream = it->second;
  streams_.addDownstream(stream, Downstream{from, expires_at_us, avoid});
  if (avoid != kNoNode && !new_stream) replanLater(id);  // re-planned around it at the next tick
  if (client != nullptr) client->streams.push_back(id);
  if (!new_stream) return;  // its queued deadline is no later than this downstream's expiry
  stream.next_refresh_us = now + config_.subscriptions.refresh_interval_us;
  streams_.schedule(it);
  if (plan.origin) return;
  const auto hop_limit = static_cast<std::uint8_t>(header.hop_limit - 1);
  streams_.setUpstream(stream, plan.upstream);
  sendControl(PacketType::kSubscribe, id, plan.upstream, hop_limit);
  for (const NodeId extra : plan.extraView()) {
    streams_.addExtraUpstream(stream, extra);
    sendControl(PacketType::kSubscribe, id, extra, hop_limit);
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

bool RelayCore::forwardData(const PeerId& from, const wire::PacketView& packet, StreamId id, Stream& stream,
                            TimeUs now) {
  const wire::Header& header = packet.header;
  if (header.hop_limit == 0) {
    ++counters_.drop(DropReason::kHopLimitExceeded);
    return false;
  }
  const bool anyone_else = std::any_of(stream.downstreams.begin(), stream.downstreams.end(),
                                       [&](const Downstream& d) { return !(d.peer == from); });
  if (!anyone_else) {
    ++counters_.drop(DropReason::kNoSubscribers);
    return false;
  }
  // Only packets that pass the checks above are recorded, so a copy dropped
  // for them does not shadow a good copy arriving later.
  if (!stream.dedup.accept(header.sequence, header.timestamp_us)) {
    ++counters_.drop(DropReason::kDuplicate);
    return false;
  }
  const DurationUs budget_us = budgetOf(header);
  stream.budget_us = budget_us;
  stream.last_data_us = now;
  if (!stream.fec_ticked) {
    stream.fec_ticked = true;
    streams_with_data_.insert(id);
  }
  // The packet's age here: what the previous hop stamped plus that hop's
  // one-way delay (half the active link's srtt). Recovery spends only the
  // budget that is left, counted from the publisher's send.
  DurationUs age_us = header.age_us;
  if (from.isRelay()) {
    // Unmeasured, the hop counts as instant: ages are a lower bound.
    if (const Neighbour* previous = neighbours_.find(from.node)) {
      const LinkMonitor& link = previous->links[previous->path.active()];
      if (link.hasRttSample()) age_us += static_cast<DurationUs>(std::lround(link.srttUs() / 2));
    }
  }
  const DurationUs remaining_us = std::max<DurationUs>(budget_us - age_us, 0);
  bool filled = false;  // this packet was missing here, so downstream relays miss it too
  if (retransmit_ && from.isRelay()) {
    const NackTracker::Arrival arrival = stream.loss.onData(header.sequence, now, remaining_us, config_.recovery);
    filled = arrival == NackTracker::Arrival::kFilled;
    if (filled && (header.flags & wire::kFlagRetransmit) != 0) ++counters_.recovered_nack;
    counters_.unrecovered += stream.loss.takeUnrecovered();
    if (stream.loss.hasMissing()) streams_with_missing_.insert(id);
  }

  // The one copy every downstream gets, rewritten for this hop: the
  // received tag stays behind (each hop tags its own copy), and
  // retransmission is per hop (the next hop gets a plain packet).
  // parsePacket bounded the packet by kMaxPacketBytes, the buffer's size.
  const std::span<const std::byte> untagged = packet.authenticated;
  std::copy(untagged.begin(), untagged.end(), forward_buffer_.begin());
  const std::span<std::byte> bytes(forward_buffer_.data(), untagged.size());
  const auto hop_limit = static_cast<std::uint8_t>(header.hop_limit - 1);
  const auto age_field = static_cast<std::uint32_t>(std::min<DurationUs>(age_us, UINT32_MAX));
  wire::rewriteHopFields(bytes, config_.node_id, hop_limit, age_field);
  wire::setRetransmitFlag(bytes, false);
  wire::PacketView copy;  // the same view of the copy, without parsing it again
  copy.header = header;
  copy.header.sender_node_id = config_.node_id;
  copy.header.hop_limit = hop_limit;
  copy.header.age_us = age_field;
  copy.header.flags = static_cast<std::uint8_t>(header.flags & ~wire::kFlagRetransmit);
  copy.header.key_epoch = 0;
  copy.header.packet_number = 0;
  copy.authenticated = bytes;
  copy.payload = bytes.subspan(wire::kHeaderBytes);

  bool to_neighbour = false;
  bool relay_skipped = false;
  for (Downstream& downstream : stream.downstreams) {
    if (downstream.peer == from) continue;
    if (!downstream.peer.isRelay()) {  // a client is the last hop, whatever the hop limit
      const auto client = clients_.find(downstream.peer.client);
      // A client downstream is a joined client (removeClient detaches it); release: no copy.
      if (OVERLINE_INVARIANT(client != clients_.end()) && sendToClient(client->first, client->second, bytes)) {
        ++counters_.data_forwarded;
      }
      continue;
    }
    if (hop_limit == 0) {  // a relay would drop it
      relay_skipped = true;
      continue;
    }
    if (sendDataToNeighbour(downstream, copy, filled, now)) {
      to_neighbour = true;
      if (from.isRelay()) ++counters_.transit_data_forwarded;
    }
  }
  if (relay_skipped) ++counters_.drop(DropReason::kHopLimitExceeded);
  if (retransmit_ && to_neighbour) {
    retransmit_->store(id, header.sequence, bytes, now, now + remaining_us);
    counters_.retransmit_buffer_evictions = retransmit_->evictions();
  }
  return true;
}

bool RelayCore::sendDataToNeighbour(Downstream& downstream, const wire::PacketView& copy, bool filled, TimeUs now) {
  Neighbour* neighbour = neighbours_.find(downstream.peer.node);
  // forgetNeighbour() detaches a removed neighbour's downstreams; release: no copy for it.
  if (!OVERLINE_INVARIANT(neighbour != nullptr)) return false;
  const std::span<const std::byte> bytes = copy.authenticated;
  const bool redundant = (copy.header.flags & wire::kFlagRedundant) != 0;
  bool sent = neighbours_.sendOnLink(*neighbour, neighbour->path.active(), bytes, SentKind::kData);
  if (const auto second = neighbour->path.second();
      redundant && second && neighbours_.sendOnLink(*neighbour, *second, bytes, SentKind::kData)) {
    ++counters_.redundant_copies_sent;
    sent = true;
  } else if (filled && !redundant && neighbours_.activeLinkLossy(*neighbour)) {
    // A late packet that filled a gap here: the downstream has been
    // missing it for a while, so over a lossy link it gets two chances.
    if (const auto other = neighbours_.duplicateLink(*neighbour);
        other && neighbours_.sendOnLink(*neighbour, *other, bytes, SentKind::kData)) {
      ++counters_.filled_copies_sent;
      sent = true;
    }
  }
  if (!sent) return false;
  ++counters_.data_forwarded;
  counters_.data_payload_bytes_sent += copy.header.payload_length;
  // Retransmissions to this neighbour are paid from what it was sent.
  neighbour->retransmit_credit =
      std::min(neighbour->retransmit_credit + config_.recovery.retransmit_budget_ratio * static_cast<double>(bytes.size()),
               static_cast<double>(config_.recovery.retransmit_burst_bytes));
  // The first transmission on this hop (whatever it was upstream) joins an
  // FEC group once, not once per copy.
  fec_out_.clear();
  downstream.fec.onDataSent(copy, now, fec_out_);
  sendFec(*neighbour);
  return true;
}

void RelayCore::onTick(TimeUs now) {
  last_tick_us_ = now;
  if (now >= next_link_tick_us_) {
    next_link_tick_us_ = now + tickInterval();
    if (neighbours_.tick(now)) failover_dirty_ = true;
  }
  tickDirectory(now);
  tickFec(now);
  if (retransmit_) tickRecovery(now);
  if (failover_dirty_ || failover_.waitingForFailback()) {
    failover_dirty_ = false;
    const FailoverTable::Changes changes = failover_.update(neighbours_, now);
    counters_.failovers += changes.failovers;
    counters_.failbacks += changes.failbacks;
    if (changes.any()) upstreams_dirty_ = true;
  }
  serviceClients(now);
  if (upstreams_dirty_) {
    // Next hops changed (routes, neighbours, failover): every stream is
    // planned again. Rare, and the one scan of all streams left.
    upstreams_dirty_ = false;
    replan_.clear();
    for (auto it = streams_.begin(); it != streams_.end();) it = serviceStream(it, now, /*replan=*/true);
  } else if (!replan_.empty()) {
    // Taken out first: closing a stream erases it from replan_.
    due_streams_.assign(replan_.begin(), replan_.end());
    replan_.clear();
    for (const StreamId id : due_streams_) {
      if (const auto it = streams_.find(id); it != streams_.end()) serviceStream(it, now, /*replan=*/true);
    }
  }
  serviceStreams(now);
}

void RelayCore::serviceClients(TimeUs now) {
  due_clients_.clear();
  client_deadlines_.popDue(now, due_clients_);
  for (const Endpoint& endpoint : due_clients_) {
    const auto it = clients_.find(endpoint);
    if (it == clients_.end()) continue;
    const TimeUs expires_at_us =
        std::min(it->second.last_seen_us + config_.limits.client_expiry_us, tokenDeadline(it->second, now));
    if (expires_at_us > now) {  // it was heard from (or renewed) since: not due yet
      client_deadlines_.schedule(endpoint, expires_at_us);
      continue;
    }
    if (tokenExpired(it->second)) {
      ++counters_.client_tokens_expired;
    } else {
      ++counters_.clients_expired;
    }
    removeClient(it);
  }
}

void RelayCore::serviceStreams(TimeUs now) {
  due_streams_.clear();
  streams_.popDue(now, due_streams_);
  for (const StreamId id : due_streams_) {
    if (const auto it = streams_.find(id); it != streams_.end()) serviceStream(it, now, /*replan=*/false);
  }
}

SubscriptionTable::iterator RelayCore::serviceStream(SubscriptionTable::iterator it, TimeUs now, bool replan) {
  Stream& stream = it->second;
  for (std::size_t i = 0; i < stream.downstreams.size();) {
    if (stream.downstreams[i].expires_at_us <= now) {
      detachDownstream(it->first, stream, i);
      ++counters_.downstreams_expired;
    } else {
      ++i;
    }
  }
  if (stream.downstreams.empty()) return closeStream(it);
  if (replan || now >= stream.next_refresh_us) maintainUpstream(it->first, stream, now);
  if (stream.previous_upstream != kNoNode && now >= stream.previous_upstream_until_us) {
    releasePreviousUpstream(it->first, stream);
    stream.previous_upstream = kNoNode;
  }
  streams_.schedule(it);
  return std::next(it);
}

TimeUs RelayCore::nextDeadline() const {
  TimeUs next = std::min({streams_.nextDeadline(), client_deadlines_.next(), next_announce_us_,
                          directory_.nextExpiry()});
  if (!neighbours_.all().empty()) next = std::min(next, next_link_tick_us_);
  // FEC groups, policies and NACK rounds of streams carrying DATA (or
  // missing some) run at the link cadence; idle streams never.
  if (!streams_with_data_.empty() || !streams_with_missing_.empty() || failover_.waitingForFailback() ||
      upstreams_dirty_ || !replan_.empty() || failover_dirty_) {
    next = std::min(next, last_tick_us_ + tickInterval());
  }
  return next;
}

DurationUs RelayCore::tickInterval() const {
  const DurationUs interval_us =
      std::min({config_.subscriptions.refresh_interval_us / 4, config_.subscriptions.expiry_us / 4,
                config_.probing.interval_us / 4, 50 * kMillisecond});
  return std::max(interval_us, kMillisecond);
}

void RelayCore::setRoutes(RouteTablePtr routes) {
  failover_.setRoutes(routes);
  failover_dirty_ = true;
  upstreams_dirty_ = true;
}

RelayGauges RelayCore::gauges() const {
  RelayGauges gauges;
  gauges.streams = streams_.size();
  gauges.clients = clients_.size();
  // Kept as the tables change: a scrape never walks the streams.
  gauges.downstreams = streams_.sizes().downstreams;
  gauges.upstream_subscriptions = streams_.sizes().upstream_subscriptions;
  gauges.extra_upstream_subscriptions = streams_.sizes().extra_upstream_subscriptions;
  gauges.directory_streams = directory_.streamCount();
  gauges.local_publications = owners_.size();
  for (const Neighbour& neighbour : neighbours_.all()) {
    gauges.auth_sending_epoch = std::max(gauges.auth_sending_epoch, auth_.sendingEpoch(neighbour.id, wall_now_us_));
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
  NodeId next_hop = failover_.nextHop(origin);
  if (next_hop == kNoNode) next_hop = origin;  // no entry: a neighbour is its own route
  return neighbours_.contains(next_hop) ? next_hop : kNoNode;
}

void RelayCore::maintainUpstream(StreamId id, Stream& stream, TimeUs now) {
  const UpstreamPlan plan = planUpstreams(id, &stream, kNoNode, kNoNode, now);
  const NodeId next_hop = plan.upstream;
  const std::span<const NodeId> extras = plan.extraView();
  const bool extras_same = std::equal(extras.begin(), extras.end(), stream.extra_upstreams.begin(),
                                      stream.extra_upstreams.end());
  if (next_hop == stream.upstream && extras_same && now < stream.next_refresh_us) return;
  if (!extras_same) ++counters_.origin_moves;
  // Branches toward origins no longer planned go first (one that became the
  // upstream stays subscribed); what they have in flight is still taken.
  if (now >= stream.released_until_us) stream.released_extras.clear();
  for (const NodeId old : stream.extra_upstreams) {
    if (old != next_hop && std::find(extras.begin(), extras.end(), old) == extras.end()) {
      sendControl(PacketType::kUnsubscribe, id, old, wire::kDefaultHopLimit);
      stream.released_extras.push_back(old);
      stream.released_until_us = now + config_.subscriptions.refresh_interval_us;
    }
  }
  streams_.setExtraUpstreams(stream, extras);
  for (const NodeId extra : extras) sendControl(PacketType::kSubscribe, id, extra, wire::kDefaultHopLimit);

  if (next_hop != stream.upstream) {
    // The new upstream numbers its FEC groups afresh.
    stream.fec = FecDecoder(FecDecoderConfig{});
    // A move during the previous one's grace ends that one first; moving back
    // to that upstream must not unsubscribe it.
    if (stream.previous_upstream == next_hop) stream.previous_subscribed = false;
    releasePreviousUpstream(id, stream);
    stream.previous_upstream = stream.upstream;
    if (stream.upstream != kNoNode) {
      stream.previous_upstream_until_us = now + config_.subscriptions.refresh_interval_us;
      stream.previous_subscribed = !neighbours_.isDown(stream.upstream);
      // One that is now an extra upstream stays subscribed as that.
      const bool now_extra = std::find(extras.begin(), extras.end(), stream.upstream) != extras.end();
      if (!stream.previous_subscribed && !now_extra) {
        sendControl(PacketType::kUnsubscribe, id, stream.upstream, wire::kDefaultHopLimit);
      }
    }
  }
  streams_.setUpstream(stream, next_hop);
  if (next_hop != kNoNode) sendControl(PacketType::kSubscribe, id, next_hop, wire::kDefaultHopLimit);
  stream.next_refresh_us = now + config_.subscriptions.refresh_interval_us;
}

void RelayCore::detachDownstream(StreamId id, Stream& stream, std::size_t index) {
  const PeerId peer = streams_.removeDownstream(stream, index);
  if (peer.isRelay()) return;
  // A client downstream is listed in its client's streams; release: nothing more to unlink.
  const auto client = clients_.find(peer.client);
  if (!OVERLINE_INVARIANT(client != clients_.end())) return;
  std::vector<StreamId>& streams = client->second.streams;
  const auto entry = std::find(streams.begin(), streams.end(), id);
  if (!OVERLINE_INVARIANT(entry != streams.end())) return;
  *entry = streams.back();
  streams.pop_back();
}

void RelayCore::releasePreviousUpstream(StreamId id, Stream& stream) {
  if (!stream.previous_subscribed) return;
  stream.previous_subscribed = false;
  // Still subscribed as the upstream or an extra one: nothing to release.
  if (isUpstream(stream, stream.previous_upstream)) return;
  sendControl(PacketType::kUnsubscribe, id, stream.previous_upstream, wire::kDefaultHopLimit);
}

SubscriptionTable::iterator RelayCore::closeStream(SubscriptionTable::iterator it) {
  streams_with_data_.erase(it->first);
  replan_.erase(it->first);
  releasePreviousUpstream(it->first, it->second);
  if (retransmit_) retransmit_->forgetStream(it->first);
  streams_with_missing_.erase(it->first);
  if (it->second.upstream != kNoNode) {
    sendControl(PacketType::kUnsubscribe, it->first, it->second.upstream, wire::kDefaultHopLimit);
  }
  for (const NodeId extra : it->second.extra_upstreams) {
    sendControl(PacketType::kUnsubscribe, it->first, extra, wire::kDefaultHopLimit);
  }
  return streams_.erase(it);
}

void RelayCore::sendControl(PacketType type, StreamId stream, NodeId neighbour, std::uint8_t hop_limit) {
  wire::Header header;
  header.type = type;
  header.hop_limit = hop_limit;
  header.sender_node_id = config_.node_id;
  header.stream_id = stream;
  std::array<std::byte, wire::kHeaderBytes> packet;
  const std::size_t size = wire::encodePacket(header, {}, packet);
  const std::span<const std::byte> bytes(packet.data(), size);
  // Callers name neighbours only; release: nothing sent.
  const Neighbour* target = neighbours_.find(neighbour);
  if (!OVERLINE_INVARIANT(target != nullptr)) return;
  // A SUBSCRIBE is soft state: over a lossy link, on every link.
  const bool sent = type == PacketType::kSubscribe
                        ? neighbours_.sendSoftState(*target, bytes)
                        : neighbours_.sendOnLink(*target, target->path.active(), bytes, SentKind::kControl);
  if (!sent) return;
  ++(type == PacketType::kSubscribe ? counters_.subscribes_sent : counters_.unsubscribes_sent);
}

}  // namespace overline::relay
