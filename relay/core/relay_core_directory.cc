// RelayCore's stream directory (relay_core.h, "Stream directory"): which
// relays a stream is published at right now, the ANNOUNCE packets that tell
// the mesh, and the upstream plan they lead to. The rest of RelayCore is in
// relay_core.cc, relay_core_clients.cc and relay_core_recovery.cc; the split
// is by topic only, the class and its invariants are one.

#include <algorithm>
#include <array>

#include "common/check/invariant.h"
#include "common/wire/announce_payload.h"
#include "relay/core/relay_core.h"

namespace overline::relay {

using wire::PacketType;

bool RelayCore::publishedHere(StreamId id, TimeUs now) const {
  const auto it = owners_.find(id);
  return it != owners_.end() && now < it->second.last_data_us + config_.subscriptions.refresh_interval_us;
}

bool RelayCore::isUpstream(const Stream& stream, NodeId neighbour) {
  return neighbour != kNoNode &&
         (stream.upstream == neighbour ||
          std::find(stream.extra_upstreams.begin(), stream.extra_upstreams.end(), neighbour) !=
              stream.extra_upstreams.end());
}

RelayCore::UpstreamPlan RelayCore::planUpstreams(StreamId id, const Stream* stream, NodeId joining, NodeId avoid,
                                                 TimeUs now) const {
  UpstreamPlan plan;
  if (publishedHere(id, now)) {
    plan.origin = true;
    return plan;
  }
  // The origins to reach, the home first when it is announced (it is where
  // the stream started, and stays the upstream while it lives), then the
  // others oldest first; the home alone while none is announced.
  const NodeId home = streamOrigin(id);
  std::array<NodeId, StreamDirectory::kMaxOriginsPerStream> origins{};
  std::size_t count = 0;
  const std::span<const NodeId> announced = directory_.origins(id);
  if (std::find(announced.begin(), announced.end(), home) != announced.end()) origins[count++] = home;
  for (const NodeId origin : announced) {
    if (origin != home && origin != config_.node_id) origins[count++] = origin;
  }
  if (count == 0) {
    if (home == config_.node_id) {
      // The home with no publisher yet: subscribers wait here, as at any origin.
      plan.origin = true;
      return plan;
    }
    origins[count++] = home;
  }
  plan.origin_count = count;
  // Next hops that are down are planned only when no other is left (the
  // stream then waits on them, as a single-origin stream always did).
  bool any_up = false;
  std::array<NodeId, StreamDirectory::kMaxOriginsPerStream> next_hops{};
  const auto is_origin = [&](NodeId node) {
    return std::find(origins.begin(), origins.begin() + count, node) != origins.begin() + count;
  };
  // A next hop that is also a downstream of the stream (or the neighbour
  // subscribing now) would keep the pair's subscriptions alive forever with
  // one origin (routes still converging: neither has the stream): it is
  // skipped, and the stream waits for the next refresh if nothing is left.
  // With several origins, one downstream among others may be an upstream
  // too: two relays that each reach a different origin through the other
  // feed each other (dedup drops the second copies). Once it is a relay's
  // only downstream it is skipped as well, so the pair ends when their other
  // downstreams leave, and it lasts at most as long as the stream has two
  // origins.
  const auto is_downstream = [&](NodeId node) {
    if (node == joining) return true;
    if (stream == nullptr || !findDownstream(*stream, PeerId{node, {}})) return false;
    return count == 1 || stream->downstreams.size() == 1;
  };
  // Dual-homed clients' other edges: a branch through one dies with it.
  const auto is_avoided = [&](NodeId node) {
    if (node == kNoNode) return false;
    if (node == avoid) return true;
    return stream != nullptr && std::any_of(stream->downstreams.begin(), stream->downstreams.end(),
                                            [&](const Downstream& d) { return d.avoid == node; });
  };
  for (std::size_t i = 0; i < count; ++i) {
    next_hops[i] = resolveNextHop(origins[i]);
    // A branch toward one origin that runs through another origin (or
    // through a dual-homed client's other edge) dies with it, and
    // dual-homing would buy nothing: the route's other next hop (its backup)
    // is taken instead when it has a usable one, else the origin itself when
    // it is a neighbour.
    // The origin itself, as a direct neighbour, is a branch of its own.
    if (next_hops[i] != origins[i] && (is_origin(next_hops[i]) || is_avoided(next_hops[i]))) {
      const auto usable = [&](NodeId hop) {
        return hop != kNoNode && neighbours_.contains(hop) && (hop == origins[i] || !is_origin(hop)) &&
               !is_avoided(hop) && !neighbours_.isDown(hop) && !is_downstream(hop);
      };
      if (const NodeId other = failover_.alternativeHop(origins[i]); usable(other)) {
        next_hops[i] = other;
      } else if (usable(origins[i])) {
        next_hops[i] = origins[i];
      }
    }
    if (next_hops[i] != kNoNode && is_downstream(next_hops[i])) next_hops[i] = kNoNode;
    any_up = any_up || (next_hops[i] != kNoNode && !neighbours_.isDown(next_hops[i]));
  }
  for (std::size_t i = 0; i < count; ++i) {
    const NodeId next_hop = next_hops[i];
    if (next_hop == kNoNode || (any_up && neighbours_.isDown(next_hop))) continue;
    if (plan.upstream == kNoNode) {
      plan.upstream = next_hop;
    } else if (next_hop != plan.upstream &&
               std::find(plan.extras.begin(), plan.extras.begin() + plan.extra_count, next_hop) ==
                   plan.extras.begin() + plan.extra_count) {
      plan.extras[plan.extra_count++] = next_hop;
    }
  }
  return plan;
}

void RelayCore::onAnnounce(const Neighbour& neighbour, const wire::PacketView& packet, TimeUs now) {
  const wire::Header& header = packet.header;
  const auto parsed = wire::parseAnnouncePayload(packet.payload);
  if (!parsed) {
    ++counters_.drop(DropReason::kMalformedAnnounce);
    return;
  }
  if (parsed->origin() == config_.node_id) {
    // Its own announcement, back over another path.
    ++counters_.announces_seen;
    return;
  }
  announce_scratch_.clear();
  switch (directory_.onAnnounce(*parsed, header.sequence, header.timestamp_us, now, announce_scratch_)) {
    case StreamDirectory::Verdict::kNew: break;
    case StreamDirectory::Verdict::kSeen: ++counters_.announces_seen; return;
    case StreamDirectory::Verdict::kFull: ++counters_.drop(DropReason::kDirectoryFull); return;
  }
  for (const StreamId id : announce_scratch_) {
    if (streams_.contains(id)) replanLater(id);
  }
  // Recorded; flooded on while the hop limit lasts (a relay that is the
  // last hop it allows only records it).
  if (header.hop_limit <= 1) return;
  const std::span<const std::byte> untagged = packet.authenticated;
  std::copy(untagged.begin(), untagged.end(), forward_buffer_.begin());
  const std::span<std::byte> copy(forward_buffer_.data(), untagged.size());
  wire::rewriteHopFields(copy, config_.node_id, static_cast<std::uint8_t>(header.hop_limit - 1), 0);
  counters_.announces_forwarded += floodToNeighbours(copy, neighbour.id);
}

void RelayCore::tickDirectory(TimeUs now) {
  announce_scratch_.clear();
  directory_.expire(now, announce_scratch_);
  for (const StreamId id : announce_scratch_) {
    if (streams_.contains(id)) replanLater(id);
  }
  if (now < next_announce_us_) return;
  next_announce_us_ = now + config_.subscriptions.refresh_interval_us;
  announce_scratch_.clear();
  for (const auto& [id, publication] : owners_) {
    if (publishedHere(id, now)) announce_scratch_.push_back(id);
  }
  announce(announce_scratch_);
}

void RelayCore::announce(std::span<const StreamId> streams) {
  while (!streams.empty()) {
    const std::span<const StreamId> part = streams.first(std::min(streams.size(), wire::kMaxAnnouncedStreams));
    streams = streams.subspan(part.size());
    std::array<std::byte, wire::kMaxPayloadBytes> payload;
    const std::size_t payload_size = wire::encodeAnnouncePayload(config_.node_id, part, payload);
    wire::Header header;
    header.type = PacketType::kAnnounce;
    header.sender_node_id = config_.node_id;
    header.sequence = ++announce_sequence_;
    // Tells this run's numbers from a previous run's (StreamDirectory).
    header.timestamp_us = static_cast<std::uint64_t>(wall_now_us_.value_or(0));
    std::array<std::byte, wire::kHeaderBytes + wire::kMaxPayloadBytes> packet;
    const std::size_t size = wire::encodePacket(header, std::span(payload.data(), payload_size), packet);
    counters_.announces_sent += floodToNeighbours(std::span(packet.data(), size), kNoNode);
  }
}

std::size_t RelayCore::floodToNeighbours(std::span<const std::byte> packet, NodeId except) {
  std::size_t sent = 0;
  for (const Neighbour& neighbour : neighbours_.all()) {
    if (neighbour.id != except && neighbours_.sendSoftState(neighbour, packet)) ++sent;
  }
  return sent;
}

}  // namespace overline::relay
