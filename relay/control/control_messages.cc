#include "relay/control/control_messages.h"

#include <algorithm>
#include <set>
#include <utility>

namespace overline::relay {
namespace {

// LineIndex is 8 bits wide.
constexpr int kMaxNeighbourLines = 256;
constexpr std::int64_t kMaxUnixSeconds = 253402300799;  // 9999-12-31, as auth.mesh_keys

// Validates `peer`'s pushed keys into `out` (ascending epoch), counting and
// describing the refused ones in `update`.
void readKeys(const v1::Peer& peer, std::vector<PairKey>& out, PeerListUpdate& update) {
  const auto refuse = [&](const std::string& what) {
    ++update.keys_ignored;
    if (update.problems.size() < kMaxListedProblems) {
      update.problems.push_back("peer " + std::to_string(peer.node_id()) + ": " + what + "; ignored");
    }
  };
  std::set<std::uint32_t> epochs;
  for (const v1::PairKey& key : peer.keys()) {
    const std::string epoch = "key epoch " + std::to_string(key.epoch());
    if (key.epoch() == 0) {
      refuse("key epoch 0 (epochs start at 1)");
    } else if (key.key().size() != crypto::kKeyBytes) {
      refuse(epoch + " has " + std::to_string(key.key().size()) + " bytes, not " +
             std::to_string(crypto::kKeyBytes));
    } else if (key.activate_at_unix_s() < 0 || key.activate_at_unix_s() > kMaxUnixSeconds) {
      refuse(epoch + " activates at " + std::to_string(key.activate_at_unix_s()) + ", not a unix time");
    } else if (!epochs.insert(key.epoch()).second) {
      refuse(epoch + " appears twice (the first stands)");
    } else {
      PairKey pair;
      pair.epoch = key.epoch();
      std::copy_n(reinterpret_cast<const std::uint8_t*>(key.key().data()), crypto::kKeyBytes, pair.key.begin());
      pair.activate_at_unix_us = static_cast<TimeUs>(key.activate_at_unix_s()) * kSecond;
      out.push_back(pair);
    }
  }
  std::sort(out.begin(), out.end(), [](const PairKey& a, const PairKey& b) { return a.epoch < b.epoch; });
  if (out.size() > kMaxKeyEpochs) {
    const std::size_t extra = out.size() - kMaxKeyEpochs;
    for (std::size_t i = 0; i < extra; ++i) {
      refuse("key epoch " + std::to_string(out[i].epoch) + " is beyond the newest " +
             std::to_string(kMaxKeyEpochs) + " epochs");
    }
    out.erase(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(extra));
  }
}

v1::LinkState toProto(LinkState state) {
  switch (state) {
    case LinkState::kUp: return v1::LINK_STATE_UP;
    case LinkState::kDegraded: return v1::LINK_STATE_DEGRADED;
    case LinkState::kDown: return v1::LINK_STATE_DOWN;
    case LinkState::kUnknown: break;
  }
  return v1::LINK_STATE_UNSPECIFIED;
}

}  // namespace

v1::RelayMessage makeHello(const HelloInfo& info) {
  v1::RelayMessage message;
  v1::RelayHello& hello = *message.mutable_hello();
  hello.set_node_id(info.node_id);
  hello.set_region(info.region);
  for (const HelloLine& line : info.lines) {
    v1::Line& out = *hello.add_lines();
    out.set_name(line.name);
    out.set_address(line.public_address.toString());
    out.set_isp(line.isp);
  }
  hello.set_capacity_bps(info.capacity_bps);
  hello.set_software_version(info.software_version);
  return message;
}

v1::RelayMessage makeReport(const RelayStateSnapshot& state, std::uint64_t sequence) {
  v1::RelayMessage message;
  v1::RelayReport& report = *message.mutable_report();
  report.set_sequence(sequence);
  for (const LinkSnapshot& link : state.links) {
    if (link.state == LinkState::kUnknown) continue;
    v1::LinkReport& out = *report.add_links();
    out.set_neighbour(link.neighbour);
    out.set_local_line(link.local_line);
    out.set_remote_line(link.remote_line);
    out.set_rtt_us(static_cast<std::uint64_t>(link.srtt_us));
    out.set_jitter_us(static_cast<std::uint64_t>(link.jitter_us));
    out.set_loss(link.loss_ratio);
    out.set_state(toProto(link.state));
  }
  report.set_load(state.load);
  report.set_streams(static_cast<std::uint32_t>(state.gauges.streams));
  report.set_applied_route_version(state.applied_route_version);
  return message;
}

RouteTablePtr toRouteTable(const v1::RouteTable& table, NodeId self) {
  RouteTable out;
  for (const v1::Route& route : table.routes()) {
    if (route.destination() == kNoNode || route.destination() == self) continue;
    if (!route.has_primary() || route.primary().node_id() == kNoNode) continue;
    const NodeId backup = route.has_backup() ? route.backup().node_id() : kNoNode;
    out.entries[route.destination()] =
        RouteEntry{route.primary().node_id(), backup == route.primary().node_id() ? kNoNode : backup};
  }
  return std::make_shared<const RouteTable>(std::move(out));
}

PeerListUpdate toNeighbours(const v1::PeerList& peers, NodeId self) {
  PeerListUpdate update;
  std::set<NodeId> ids;
  std::set<Endpoint> addresses;  // the core tells neighbours apart by source address
  for (const v1::Peer& peer : peers.peers()) {
    if (peer.node_id() == kNoNode || peer.node_id() == self || peer.lines().empty()) continue;
    if (peer.lines().size() > kMaxNeighbourLines || ids.contains(peer.node_id())) continue;
    NeighbourConfig neighbour;
    neighbour.node_id = peer.node_id();
    for (const v1::Line& line : peer.lines()) {
      const auto address = Endpoint::parse(line.address());
      if (!address || address->port() == 0 || addresses.contains(*address)) break;
      neighbour.lines.push_back(*address);
    }
    if (neighbour.lines.size() != static_cast<std::size_t>(peer.lines().size())) continue;
    readKeys(peer, neighbour.keys, update);
    ids.insert(neighbour.node_id);
    addresses.insert(neighbour.lines.begin(), neighbour.lines.end());
    update.neighbours.push_back(std::move(neighbour));
  }
  return update;
}

}  // namespace overline::relay
