#include "relay/core/neighbour_table.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

#include "common/check/invariant.h"

namespace overline::relay {

using wire::PacketType;

namespace {

// Probes and their ACKs are single-hop: never forwarded.
constexpr std::uint8_t kProbeHopLimit = 1;

}  // namespace

NeighbourTable::NeighbourTable(const RelayCoreConfig& config, NeighbourAuth& auth, Egress& egress,
                               RelayCounters& counters)
    : config_(config), auth_(auth), egress_(egress), counters_(counters) {}

void NeighbourTable::rebuild() {
  std::vector<Neighbour> previous = std::move(neighbours_);
  std::size_t total_links = 0;
  std::size_t most_links = 0;
  for (const NeighbourConfig& neighbour : config_.neighbours) {
    total_links += config_.line_count * neighbour.lines.size();
    most_links = std::max(most_links, config_.line_count * neighbour.lines.size());
  }
  link_quality_.resize(most_links);
  neighbours_.clear();
  index_.clear();
  by_endpoint_.clear();
  neighbours_.reserve(config_.neighbours.size());
  std::size_t ordinal = 0;  // of the link among all links, for the probe stagger
  std::vector<const NeighbourConfig*> accepted;  // the entries that made it in, for their keys
  accepted.reserve(config_.neighbours.size());
  for (const NeighbourConfig& neighbour : config_.neighbours) {
    // relay/config and relay/control reject these; release: the entry is left out.
    // relay/control leaves out neighbours without a key (it knows whether
    // auth needs one); release: the entry is left out, never sent to.
    if (!OVERLINE_INVARIANT(neighbour.node_id != kNoNode && neighbour.node_id != config_.node_id) ||
        !OVERLINE_INVARIANT(!neighbour.lines.empty()) || !OVERLINE_INVARIANT(auth_.wouldHaveKey(neighbour.keys))) {
      continue;
    }
    const std::size_t index = neighbours_.size();
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
    const bool inserted = index_.emplace(neighbour.node_id, index).second;
    if (!OVERLINE_INVARIANT(inserted)) {  // a duplicate id: the first entry stands
      neighbours_.pop_back();
      continue;
    }
    for (std::size_t line = 0; line < neighbour.lines.size(); ++line) {
      by_endpoint_.emplace(neighbour.lines[line], Line{index, static_cast<LineIndex>(line)});
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

void NeighbourTable::applyProbing() {
  for (Neighbour& neighbour : neighbours_) {
    for (LinkMonitor& link : neighbour.links) link.setConfig(config_.probing);
  }
}

bool NeighbourTable::tick(TimeUs now) {
  bool health_changed = false;
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
      health_changed = true;
    }
  }
  return health_changed;
}

void NeighbourTable::sendProbe(Neighbour& neighbour, std::size_t link, TimeUs now) {
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
  if (!sendOnLink(neighbour, link, std::span(packet.data(), size), SentKind::kProbe)) return;
  ++counters_.probes_sent;
}

void NeighbourTable::answerProbe(const Neighbour& neighbour, LineIndex line, const Endpoint& from,
                                 const wire::Header& probe) {
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
  if (!egress_.toNeighbour(neighbour.id, line, from, std::span(packet.data(), size), SentKind::kProbe)) return;
  ++counters_.probe_acks_sent;
}

void NeighbourTable::onProbeAck(Neighbour& neighbour, LineIndex line, LineIndex remote_line, const wire::Header& ack,
                                TimeUs now) {
  // Unmatched ACKs (stale, duplicated) are ignored: they are no drop.
  neighbour.links[line * neighbour.lines.size() + remote_line].onAck(ack.sequence, ack.timestamp_us, now);
}

std::optional<NeighbourTable::Source> NeighbourTable::findByEndpoint(const Endpoint& from) {
  const auto it = by_endpoint_.find(from);
  if (it == by_endpoint_.end()) return std::nullopt;
  return Source{&neighbours_[it->second.neighbour], it->second.line};
}

Neighbour* NeighbourTable::find(NodeId id) {
  const auto it = index_.find(id);
  return it == index_.end() ? nullptr : &neighbours_[it->second];
}

const Neighbour* NeighbourTable::find(NodeId id) const {
  const auto it = index_.find(id);
  return it == index_.end() ? nullptr : &neighbours_[it->second];
}

bool NeighbourTable::sendOnLink(const Neighbour& neighbour, std::size_t link, std::span<const std::byte> packet,
                                SentKind kind) {
  const auto local_line = static_cast<LineIndex>(neighbour.path.localLineOf(link));
  return egress_.toNeighbour(neighbour.id, local_line, neighbour.lines[neighbour.path.remoteLineOf(link)], packet,
                             kind);
}

bool NeighbourTable::sendSoftState(const Neighbour& neighbour, std::span<const std::byte> packet) {
  const std::size_t active = neighbour.path.active();
  bool sent = sendOnLink(neighbour, active, packet, SentKind::kControl);
  // Losing three refreshes in a row (30% loss: 2.7% of the time; with two
  // copies still ~0.07%, and a mesh sends thousands) would expire the
  // state; a few 32-byte copies per refresh interval are cheap insurance.
  if (activeLinkLossy(neighbour)) {
    for (std::size_t k = 0; k < neighbour.links.size(); ++k) {
      if (k != active) sent = sendOnLink(neighbour, k, packet, SentKind::kControl) || sent;
    }
  }
  return sent;
}

std::optional<std::size_t> NeighbourTable::duplicateLink(const Neighbour& neighbour) const {
  if (const std::optional<std::size_t> second = neighbour.path.second()) return second;
  const std::size_t remote_lines = neighbour.lines.size();
  if (config_.line_count * remote_lines == 1) return std::nullopt;
  const std::size_t active = neighbour.path.active();
  const std::size_t local = (neighbour.path.localLineOf(active) + 1) % config_.line_count;
  const std::size_t remote = (neighbour.path.remoteLineOf(active) + 1) % remote_lines;
  return local * remote_lines + remote;
}

bool NeighbourTable::activeLinkLossy(const Neighbour& neighbour) const {
  return neighbour.links[neighbour.path.active()].lossRatio() >= config_.recovery.dual_retransmit_loss;
}

DurationUs NeighbourTable::srttTo(const Neighbour& neighbour) const {
  const LinkMonitor& link = neighbour.links[neighbour.path.active()];
  if (!link.hasRttSample()) return kUnmeasuredSrttUs;
  return static_cast<DurationUs>(std::lround(link.srttUs()));
}

bool NeighbourTable::isDown(NodeId node) const {
  const Neighbour* neighbour = find(node);
  return neighbour == nullptr || neighbour->down;
}

TimeUs NeighbourTable::upSince(NodeId node) const {
  const Neighbour* neighbour = find(node);
  // FailoverTable asks only about nodes that are not down; release: "not up long", so no failback to it.
  if (!OVERLINE_INVARIANT(neighbour != nullptr)) return std::numeric_limits<TimeUs>::max();
  return neighbour->up_since_us;
}

std::vector<LinkSnapshot> NeighbourTable::links() const {
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

}  // namespace overline::relay
