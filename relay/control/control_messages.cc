#include "relay/control/control_messages.h"

#include <set>
#include <utility>

namespace overline::relay {
namespace {

// LineIndex is 8 bits wide.
constexpr int kMaxNeighbourLines = 256;

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

std::vector<NeighbourConfig> toNeighbours(const v1::PeerList& peers, NodeId self) {
  std::vector<NeighbourConfig> out;
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
    ids.insert(neighbour.node_id);
    addresses.insert(neighbour.lines.begin(), neighbour.lines.end());
    out.push_back(std::move(neighbour));
  }
  return out;
}

}  // namespace overline::relay
