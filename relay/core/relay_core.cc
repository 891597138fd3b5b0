#include "relay/core/relay_core.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <utility>

#include "common/check/invariant.h"

namespace overline::relay {

using wire::PacketType;

namespace {

// Probes and their ACKs are single-hop: never forwarded.
constexpr std::uint8_t kProbeHopLimit = 1;

}  // namespace

RelayCore::RelayCore(RelayCoreConfig config, PacketSink& sink)
    : config_(std::move(config)),
      sink_(sink),
      failover_(config_.failover),
      directory_(config_.subscriptions.expiry_us, config_.limits.max_streams),
      auth_(config_.node_id, !config_.auth.insecure_lab_mode, config_.auth.packet_number_base),
      gate_(config_.auth.cookie_secret) {
  auth_.setMeshKeys(config_.auth.mesh_keys);
  // relay/config validates these; release: a missing id is only reported, the rest clamped.
  OVERLINE_INVARIANT(config_.node_id != kNoNode);
  if (!OVERLINE_INVARIANT(config_.line_count >= 1)) config_.line_count = 1;
  if (!OVERLINE_INVARIANT(config_.probing.interval_us > 0)) config_.probing.interval_us = ProbingConfig{}.interval_us;
  failover_.setRoutes(config_.routes);
  if (config_.recovery.nack) {
    retransmit_.emplace(config_.recovery.retransmit_buffer_packets, config_.recovery.retransmit_buffer_bytes);
  }

  buildNeighbours({});
}

void RelayCore::buildNeighbours(std::vector<Neighbour> previous) {
  std::size_t total_links = 0;
  std::size_t most_links = 0;
  for (const NeighbourConfig& neighbour : config_.neighbours) {
    total_links += config_.line_count * neighbour.lines.size();
    most_links = std::max(most_links, config_.line_count * neighbour.lines.size());
  }
  link_quality_.resize(most_links);
  neighbours_.clear();
  neighbour_index_.clear();
  neighbour_by_endpoint_.clear();
  neighbours_.reserve(config_.neighbours.size());
  std::size_t ordinal = 0;  // of the link among all links, for the probe stagger
  std::vector<const NeighbourConfig*> accepted;  // the entries that made it in, for their keys
  accepted.reserve(config_.neighbours.size());
  for (std::size_t i = 0; i < config_.neighbours.size(); ++i) {
    const NeighbourConfig& neighbour = config_.neighbours[i];
    // relay/config and relay/control reject these; release: the entry is left out.
    // relay/control leaves out neighbours without a key (it knows whether
    // auth needs one); release: the entry is left out, never sent to.
    if (!OVERLINE_INVARIANT(neighbour.node_id != kNoNode && neighbour.node_id != config_.node_id) ||
        !OVERLINE_INVARIANT(!neighbour.lines.empty()) || !OVERLINE_INVARIANT(auth_.wouldHaveKey(neighbour.keys))) {
      continue;
    }
    const std::size_t index = neighbours_.size();  // == i unless an entry was left out
    const std::size_t link_count = config_.line_count * neighbour.lines.size();
    const auto kept = std::find_if(previous.begin(), previous.end(), [&](const Neighbour& n) {
      return n.id == neighbour.node_id && n.lines == neighbour.lines;
    });
    if (kept != previous.end()) {
      neighbours_.push_back(std::move(*kept));
      ordinal += link_count;
    } else {
      std::vector<LinkMonitor> links;
      links.reserve(link_count);
      for (std::size_t k = 0; k < link_count; ++k, ++ordinal) {
        const auto phase_us = static_cast<DurationUs>(ordinal) * config_.probing.interval_us /
                              static_cast<DurationUs>(total_links);
        links.emplace_back(config_.probing, phase_us);
      }
      neighbours_.push_back(Neighbour{neighbour.node_id, neighbour.lines, std::move(links),
                                      PathSelector(config_.path_choice, link_count, neighbour.lines.size())});
    }
    const bool inserted = neighbour_index_.emplace(neighbour.node_id, index).second;
    if (!OVERLINE_INVARIANT(inserted)) {  // a duplicate id: the first entry stands
      neighbours_.pop_back();
      continue;
    }
    for (std::size_t line = 0; line < neighbour.lines.size(); ++line) {
      neighbour_by_endpoint_.emplace(neighbour.lines[line], NeighbourLine{index, static_cast<LineIndex>(line)});
    }
    accepted.push_back(&neighbour);
  }
  std::vector<NodeId> ids;
  ids.reserve(neighbours_.size());
  for (const Neighbour& neighbour : neighbours_) ids.push_back(neighbour.id);
  auth_.setNeighbours(ids);
  // Pushed keys replace the mesh keys' pair keys; none returns a neighbour
  // to them (neighbour_auth.h).
  for (const NeighbourConfig* neighbour : accepted) auth_.setPairKeys(neighbour->node_id, neighbour->keys);
}

void RelayCore::setNeighbours(std::vector<NeighbourConfig> neighbours) {
  for (const Neighbour& old : neighbours_) {
    const bool kept = std::any_of(neighbours.begin(), neighbours.end(),
                                  [&](const NeighbourConfig& n) { return n.node_id == old.id; });
    if (!kept) forgetNeighbour(old.id);
  }
  config_.neighbours = std::move(neighbours);
  buildNeighbours(std::move(neighbours_));
  // Next hops may have appeared or vanished: re-run failover and move
  // upstreams at the next tick.
  failover_dirty_ = true;
  upstreams_dirty_ = true;
}

void RelayCore::setProbing(const ProbingConfig& probing) {
  // Reloads keep the window (link state is kept); release: the change is ignored.
  if (!OVERLINE_INVARIANT(probing.loss_window == config_.probing.loss_window)) return;
  config_.probing = probing;
  for (Neighbour& neighbour : neighbours_) {
    for (LinkMonitor& link : neighbour.links) link.setConfig(probing);
  }
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
      stream.upstream = kNoNode;
    }
    if (const auto extra = std::find(stream.extra_upstreams.begin(), stream.extra_upstreams.end(), id);
        extra != stream.extra_upstreams.end()) {
      sendControl(PacketType::kUnsubscribe, it->first, id, wire::kDefaultHopLimit);
      stream.extra_upstreams.erase(extra);
    }
    ++it;
  }
}

void RelayCore::onDatagram(LineIndex line, const Endpoint& from, std::span<const std::byte> datagram,
                           TimeUs now) {
  if (!OVERLINE_INVARIANT(line < config_.line_count)) return;  // dropped, counted as a violation
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
    case PacketType::kProbeAck: ++counters_.probe_acks_received; break;
    default: break;
  }
  if (const auto neighbour = neighbour_by_endpoint_.find(from); neighbour != neighbour_by_endpoint_.end()) {
    // Nothing from a neighbour's address is believed before its tag.
    switch (auth_.check(neighbours_[neighbour->second.neighbour].id, *parsed)) {
      case NeighbourAuth::Verdict::kOk: break;
      case NeighbourAuth::Verdict::kUntagged: ++counters_.drop(DropReason::kUnauthenticated); return;
      case NeighbourAuth::Verdict::kBadTag: ++counters_.drop(DropReason::kBadTag); return;
      case NeighbourAuth::Verdict::kReplayed: ++counters_.drop(DropReason::kReplayed); return;
    }
    onNeighbourPacket(neighbour->second, line, from, header, datagram, now);
  } else {
    onClientPacket(line, from, *parsed, datagram, now);
  }
}

void RelayCore::onNeighbourPacket(const NeighbourLine& source, LineIndex line, const Endpoint& from,
                                  const wire::Header& header, std::span<const std::byte> datagram, TimeUs now) {
  Neighbour& neighbour = neighbours_[source.neighbour];
  const PeerId peer{neighbour.id, {}};
  switch (header.type) {
    case PacketType::kData: {
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
      if (stream.upstream == neighbour.id) releasePreviousUpstream(header.stream_id, stream);
      forwardData(peer, header, datagram, stream, now);
      // The decoder keeps DATA only while its upstream sends FEC.
      if (stream.upstream == neighbour.id && stream.fec.active()) {
        stream.fec.setMaxAge(budgetOf(header));
        const FecDecoderCounters before = stream.fec.counters();
        fec_recovered_.clear();
        stream.fec.onData(*wire::parsePacket(datagram), now, fec_recovered_);
        deliverRecovered(peer, stream, before, now);
      }
      return;
    }
    case PacketType::kSubscribe: onSubscribe(peer, nullptr, header, now); return;
    case PacketType::kUnsubscribe: onUnsubscribe(peer, header); return;
    case PacketType::kProbe: answerProbe(neighbour.id, line, from, header); return;
    case PacketType::kProbeAck:
      // Unmatched ACKs (stale, duplicated) are ignored: they are no drop.
      neighbour.links[line * neighbour.lines.size() + source.line].onAck(header.sequence, header.timestamp_us,
                                                                         now);
      return;
    case PacketType::kHello:
    case PacketType::kChallenge:
    case PacketType::kWelcome: ++counters_.drop(DropReason::kUnexpectedType); return;
    case PacketType::kNack:
      if (!retransmit_) {
        ++counters_.drop(DropReason::kUnsupportedType);
        return;
      }
      ++counters_.nack_packets_received;
      onNack(neighbour, header, datagram.subspan(wire::kHeaderBytes, header.payload_length), now);
      return;
    case PacketType::kFec:
      ++counters_.fec_packets_received;
      onFec(neighbour, header, datagram, now);
      return;
    case PacketType::kAnnounce:
      ++counters_.announces_received;
      onAnnounce(neighbour, header, datagram, now);
      return;
  }
}

void RelayCore::answerProbe(NodeId neighbour, LineIndex line, const Endpoint& from, const wire::Header& probe) {
  // Header-only like the probe (the parser guarantees it carried no payload):
  // the answer is exactly as large as the question.
  wire::Header ack;
  ack.type = PacketType::kProbeAck;
  ack.hop_limit = kProbeHopLimit;
  ack.sender_node_id = config_.node_id;
  ack.sequence = probe.sequence;
  ack.timestamp_us = probe.timestamp_us;
  std::array<std::byte, wire::kHeaderBytes> packet;
  const std::size_t size = wire::encodePacket(ack, {}, packet);
  if (!sendToNeighbourLine(neighbour, line, from, std::span(packet.data(), size))) return;
  ++counters_.probe_acks_sent;
}

void RelayCore::onSubscribe(const PeerId& from, Client* client, const wire::Header& header, TimeUs now) {
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
                     (client != nullptr && client_streams_ >= config_.limits.max_client_streams))) {
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
      upstreams_dirty_ = true;
    }
    return;
  }
  armDeadline(expires_at_us);
  if (new_stream) {
    it = streams_.emplace(id, Stream{}).first;
    if (client != nullptr) {
      it->second.client_created = true;
      ++client_streams_;
    }
  }
  Stream& stream = it->second;
  stream.downstreams.push_back(Downstream{from, expires_at_us, avoid});
  if (avoid != kNoNode && !new_stream) upstreams_dirty_ = true;  // re-planned around it at the next tick
  if (client != nullptr) client->streams.push_back(id);
  if (!new_stream) return;
  stream.next_refresh_us = now + config_.subscriptions.refresh_interval_us;
  armDeadline(stream.next_refresh_us);
  if (plan.origin) return;
  const auto hop_limit = static_cast<std::uint8_t>(header.hop_limit - 1);
  stream.upstream = plan.upstream;
  sendControl(PacketType::kSubscribe, id, plan.upstream, hop_limit);
  for (const NodeId extra : plan.extraView()) {
    stream.extra_upstreams.push_back(extra);
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

bool RelayCore::forwardData(const PeerId& from, const wire::Header& header,
                            std::span<const std::byte> datagram, Stream& stream, TimeUs now) {
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
  // The packet's age here: what the previous hop stamped plus that hop's
  // one-way delay (half the active link's srtt). Recovery spends only the
  // budget that is left, counted from the publisher's send.
  DurationUs age_us = header.age_us;
  if (from.isRelay()) {
    // Unmeasured, the hop counts as instant: ages are a lower bound.
    if (const auto index = neighbour_index_.find(from.node); index != neighbour_index_.end()) {
      const LinkMonitor& link = neighbours_[index->second].links[neighbours_[index->second].path.active()];
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
    if (stream.loss.hasMissing()) streams_with_missing_.insert(header.stream_id);
  }
  // parsePacket bounded the datagram by kMaxPacketBytes, the buffer's size.
  // The received tag stays behind: each hop tags its own copy.
  const std::span<const std::byte> untagged = datagram.first(wire::kHeaderBytes + header.payload_length);
  std::copy(untagged.begin(), untagged.end(), forward_buffer_.begin());
  const std::span<std::byte> copy(forward_buffer_.data(), untagged.size());
  const auto hop_limit = static_cast<std::uint8_t>(header.hop_limit - 1);
  wire::rewriteHopFields(copy, config_.node_id, hop_limit,
                         static_cast<std::uint32_t>(std::min<DurationUs>(age_us, UINT32_MAX)));
  // Retransmission is per hop: the next hop gets a plain packet.
  wire::setRetransmitFlag(copy, false);
  const bool redundant = (header.flags & wire::kFlagRedundant) != 0;
  bool to_neighbour = false;

  bool relay_skipped = false;
  for (Downstream& downstream : stream.downstreams) {
    if (downstream.peer == from) continue;
    // A relay would drop a hop limit 0 packet; a client is the last hop.
    if (downstream.peer.isRelay() && hop_limit == 0) {
      relay_skipped = true;
      continue;
    }
    if (!downstream.peer.isRelay()) {
      if (sendToPeer(downstream.peer, copy)) ++counters_.data_forwarded;
      continue;
    }
    const auto index = neighbour_index_.find(downstream.peer.node);
    // forgetNeighbour() detaches a removed neighbour's downstreams; release: no copy for it.
    if (!OVERLINE_INVARIANT(index != neighbour_index_.end())) continue;
    const Neighbour& neighbour = neighbours_[index->second];
    bool sent = sendOnLink(neighbour, neighbour.path.active(), copy);
    if (const auto second = neighbour.path.second(); redundant && second && sendOnLink(neighbour, *second, copy)) {
      ++counters_.redundant_copies_sent;
      sent = true;
    } else if (filled && !redundant &&
               neighbour.links[neighbour.path.active()].lossRatio() >= config_.recovery.dual_retransmit_loss) {
      // A late packet that filled a gap here: the downstream has been
      // missing it for a while, so over a lossy link it gets two chances.
      if (const auto other = duplicateLink(neighbour); other && sendOnLink(neighbour, *other, copy)) {
        ++counters_.filled_copies_sent;
        sent = true;
      }
    }
    if (sent) {
      ++counters_.data_forwarded;
      counters_.data_payload_bytes_sent += header.payload_length;
      // Retransmissions to this neighbour are paid from what it was sent.
      Neighbour& paying = neighbours_[index->second];
      paying.retransmit_credit =
          std::min(paying.retransmit_credit + config_.recovery.retransmit_budget_ratio * static_cast<double>(copy.size()),
                   static_cast<double>(config_.recovery.retransmit_burst_bytes));
      to_neighbour = true;
      if (from.isRelay()) ++counters_.transit_data_forwarded;
      // The first transmission on this hop (whatever it was upstream) joins
      // an FEC group once, not once per copy.
      fec_out_.clear();
      downstream.fec.onDataSent(copy, now, fec_out_);
      sendFec(neighbour);
    }
  }
  if (relay_skipped) ++counters_.drop(DropReason::kHopLimitExceeded);
  if (retransmit_ && to_neighbour) {
    retransmit_->store(header.stream_id, header.sequence, copy, now, now + remaining_us);
    counters_.retransmit_buffer_evictions = retransmit_->evictions();
  }
  return true;
}

void RelayCore::onTick(TimeUs now) {
  tickLinks(now);
  tickDirectory(now);
  tickFec(now);
  if (retransmit_) tickRecovery(now);
  if (failover_dirty_ || failover_.waitingForFailback()) {
    failover_dirty_ = false;
    const FailoverTable::Changes changes = failover_.update(*this, now);
    counters_.failovers += changes.failovers;
    counters_.failbacks += changes.failbacks;
    if (changes.any()) upstreams_dirty_ = true;
  }
  if (now < next_deadline_us_ && !upstreams_dirty_) return;
  TimeUs next_deadline_us = std::numeric_limits<TimeUs>::max();

  for (auto it = clients_.begin(); it != clients_.end();) {
    const TimeUs expires_at_us =
        std::min(it->second.last_seen_us + config_.limits.client_expiry_us, tokenDeadline(it->second, now));
    if (expires_at_us <= now) {
      if (tokenExpired(it->second)) {
        ++counters_.client_tokens_expired;
      } else {
        ++counters_.clients_expired;
      }
      // removeClient only erases this entry from clients_; `it` moves on first.
      removeClient(it++);
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
    if (upstreams_dirty_ || now >= stream.next_refresh_us) maintainUpstream(it->first, stream, now);
    next_deadline_us = std::min(next_deadline_us, stream.next_refresh_us);
    if (stream.previous_upstream != kNoNode) {
      if (now >= stream.previous_upstream_until_us) {
        releasePreviousUpstream(it->first, stream);
        stream.previous_upstream = kNoNode;
      } else {
        next_deadline_us = std::min(next_deadline_us, stream.previous_upstream_until_us);
      }
    }
    ++it;
  }

  upstreams_dirty_ = false;
  next_deadline_us_ = next_deadline_us;
}

void RelayCore::tickLinks(TimeUs now) {
  for (Neighbour& neighbour : neighbours_) {
    bool all_down = true;
    for (std::size_t k = 0; k < neighbour.links.size(); ++k) {
      LinkMonitor& link = neighbour.links[k];
      link.onTick(now);
      if (link.probeDue(now)) sendProbe(neighbour, k, now);
      link_quality_[k] = qualityOf(link);
      all_down = all_down && link.state() == LinkState::kDown;
    }
    if (neighbour.path.update(std::span(link_quality_.data(), neighbour.links.size()), now)) {
      ++counters_.path_switches;
    }
    if (all_down != neighbour.down) {
      neighbour.down = all_down;
      if (!all_down) neighbour.up_since_us = now;
      failover_dirty_ = true;
    }
  }
}

void RelayCore::sendProbe(Neighbour& neighbour, std::size_t link, TimeUs now) {
  wire::Header probe;
  probe.type = PacketType::kProbe;
  probe.hop_limit = kProbeHopLimit;
  probe.sender_node_id = config_.node_id;
  // Recorded even if the sink refuses it: a line that cannot send shows up
  // as a lossy (then DOWN) link rather than as one never probed.
  probe.sequence = neighbour.links[link].onProbeSent(now);
  probe.timestamp_us = static_cast<std::uint64_t>(now);
  std::array<std::byte, wire::kHeaderBytes> packet;
  const std::size_t size = wire::encodePacket(probe, {}, packet);
  if (!sendOnLink(neighbour, link, std::span(packet.data(), size))) return;
  ++counters_.probes_sent;
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

bool RelayCore::isDown(NodeId node) const {
  const auto it = neighbour_index_.find(node);
  return it == neighbour_index_.end() || neighbours_[it->second].down;
}

TimeUs RelayCore::upSince(NodeId node) const {
  const auto it = neighbour_index_.find(node);
  // FailoverTable asks only about nodes that are not down; release: "not up long", so no failback to it.
  if (!OVERLINE_INVARIANT(it != neighbour_index_.end())) return std::numeric_limits<TimeUs>::max();
  return neighbours_[it->second].up_since_us;
}

std::vector<LinkSnapshot> RelayCore::links() const {
  std::vector<LinkSnapshot> links;
  for (const Neighbour& neighbour : neighbours_) {
    for (std::size_t k = 0; k < neighbour.links.size(); ++k) {
      const LinkMonitor& link = neighbour.links[k];
      LinkSnapshot snapshot;
      snapshot.neighbour = neighbour.id;
      snapshot.local_line = static_cast<LineIndex>(neighbour.path.localLineOf(k));
      snapshot.remote_line = static_cast<LineIndex>(neighbour.path.remoteLineOf(k));
      snapshot.state = link.state();
      snapshot.srtt_us = static_cast<DurationUs>(std::lround(link.srttUs()));
      snapshot.jitter_us = static_cast<DurationUs>(std::lround(link.jitterUs()));
      snapshot.loss_ratio = link.lossRatio();
      snapshot.active = neighbour.path.active() == k;
      snapshot.probes_sent = link.probesSent();
      snapshot.acks_received = link.acksReceived();
      links.push_back(snapshot);
    }
  }
  return links;
}

RelayGauges RelayCore::gauges() const {
  RelayGauges gauges;
  gauges.streams = streams_.size();
  gauges.clients = clients_.size();
  for (const auto& [id, stream] : streams_) {
    gauges.downstreams += stream.downstreams.size();
    if (stream.upstream != kNoNode) ++gauges.upstream_subscriptions;
    gauges.extra_upstream_subscriptions += stream.extra_upstreams.size();
  }
  gauges.directory_streams = directory_.streamCount();
  gauges.local_publications = owners_.size();
  for (const Neighbour& neighbour : neighbours_) {
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
  return neighbour_index_.contains(next_hop) ? next_hop : kNoNode;
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
  stream.extra_upstreams.assign(extras.begin(), extras.end());
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
      stream.previous_subscribed = !isDown(stream.upstream);
      // One that is now an extra upstream stays subscribed as that.
      const bool now_extra = std::find(extras.begin(), extras.end(), stream.upstream) != extras.end();
      if (!stream.previous_subscribed && !now_extra) {
        sendControl(PacketType::kUnsubscribe, id, stream.upstream, wire::kDefaultHopLimit);
      }
    }
  }
  stream.upstream = next_hop;
  if (next_hop != kNoNode) sendControl(PacketType::kSubscribe, id, next_hop, wire::kDefaultHopLimit);
  stream.next_refresh_us = now + config_.subscriptions.refresh_interval_us;
}

void RelayCore::detachDownstream(StreamId id, Stream& stream, std::size_t index) {
  const PeerId peer = stream.downstreams[index].peer;
  if (index + 1 != stream.downstreams.size()) stream.downstreams[index] = std::move(stream.downstreams.back());
  stream.downstreams.pop_back();
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

RelayCore::StreamMap::iterator RelayCore::closeStream(StreamMap::iterator it) {
  if (it->second.client_created) --client_streams_;
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
  const Neighbour& target = neighbours_[neighbour_index_.at(neighbour)];
  const std::size_t active = target.path.active();
  bool sent = sendOnLink(target, active, bytes);
  // On a lossy active link a SUBSCRIBE goes on every link to the neighbour:
  // losing three refreshes in a row (30% loss: 2.7% of the time; with two
  // copies still ~0.07%, and a mesh sends thousands) would expire this
  // relay's subscription upstream and cut the stream until the next refresh.
  // Four 32-byte copies per refresh interval are cheap insurance.
  if (type == PacketType::kSubscribe &&
      target.links[active].lossRatio() >= config_.recovery.dual_retransmit_loss) {
    for (std::size_t k = 0; k < target.links.size(); ++k) {
      if (k != active) sent = sendOnLink(target, k, bytes) || sent;
    }
  }
  if (!sent) return;
  ++(type == PacketType::kSubscribe ? counters_.subscribes_sent : counters_.unsubscribes_sent);
}

bool RelayCore::sendToPeer(const PeerId& peer, std::span<const std::byte> packet) {
  if (peer.isRelay()) {
    const auto index = neighbour_index_.find(peer.node);
    if (!OVERLINE_INVARIANT(index != neighbour_index_.end())) return false;  // peers are neighbours or clients
    const Neighbour& neighbour = neighbours_[index->second];
    return sendOnLink(neighbour, neighbour.path.active(), packet);
  }
  const auto client = clients_.find(peer.client);
  if (!OVERLINE_INVARIANT(client != clients_.end())) return false;
  return sendToClient(peer.client, client->second, packet);
}

bool RelayCore::sendOnLink(const Neighbour& neighbour, std::size_t link, std::span<const std::byte> packet) {
  const auto local_line = static_cast<LineIndex>(neighbour.path.localLineOf(link));
  return sendToNeighbourLine(neighbour.id, local_line, neighbour.lines[neighbour.path.remoteLineOf(link)], packet);
}

std::optional<std::size_t> RelayCore::duplicateLink(const Neighbour& neighbour) const {
  if (const std::optional<std::size_t> second = neighbour.path.second()) return second;
  const std::size_t remote_lines = neighbour.lines.size();
  if (config_.line_count * remote_lines == 1) return std::nullopt;
  const std::size_t active = neighbour.path.active();
  const std::size_t local = (neighbour.path.localLineOf(active) + 1) % config_.line_count;
  const std::size_t remote = (neighbour.path.remoteLineOf(active) + 1) % remote_lines;
  return local * remote_lines + remote;
}

bool RelayCore::sendToNeighbourLine(NodeId neighbour, LineIndex line, const Endpoint& to,
                                    std::span<const std::byte> packet) {
  // Every packet the core builds fits a PacketBuffer with its tag; release: not sent.
  if (!OVERLINE_INVARIANT(packet.size() + wire::kTagBytes <= seal_buffer_.size())) return false;
  std::copy(packet.begin(), packet.end(), seal_buffer_.begin());
  const std::size_t size = auth_.seal(neighbour, seal_buffer_, packet.size(), wall_now_us_);
  if (size == 0) return false;
  const std::span<const std::byte> sealed(seal_buffer_.data(), size);
  if (!send(line, to, sealed)) return false;
  countNeighbourBytes(sealed);
  return true;
}

void RelayCore::countNeighbourBytes(std::span<const std::byte> packet) {
  // The core built or validated every packet it sends: the header is there.
  const wire::Header header = wire::parsePacket(packet)->header;
  SentKind kind = SentKind::kControl;
  switch (header.type) {
    case PacketType::kData:
      kind = (header.flags & wire::kFlagRetransmit) != 0 ? SentKind::kRetransmit : SentKind::kData;
      break;
    case PacketType::kFec: kind = SentKind::kFec; break;
    case PacketType::kNack: kind = SentKind::kNack; break;
    case PacketType::kProbe:
    case PacketType::kProbeAck:
      kind = SentKind::kProbe;
      counters_.probe_bytes_sent += packet.size();
      break;
    case PacketType::kSubscribe:
    case PacketType::kUnsubscribe:
    case PacketType::kHello:
    case PacketType::kChallenge:
    case PacketType::kWelcome:
    case PacketType::kAnnounce: kind = SentKind::kControl; break;
  }
  counters_.neighbour_bytes_sent[static_cast<std::size_t>(kind)] += packet.size();
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
