#include "deploy/localmesh/mesh_spec.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <deque>
#include <set>
#include <sstream>

namespace overline::localmesh {

std::vector<NodeId> MeshSpec::neighboursOf(NodeId node) const {
  std::set<NodeId> result;
  for (const auto& [a, b] : links) {
    if (a == node) result.insert(b);
    if (b == node) result.insert(a);
  }
  return {result.begin(), result.end()};
}

std::map<NodeId, NodeId> shortestPathNextHops(const MeshSpec& spec, NodeId from) {
  std::map<NodeId, NodeId> next_hop;
  std::deque<NodeId> queue;
  for (NodeId n : spec.neighboursOf(from)) {  // sorted: lowest id first
    next_hop[n] = n;
    queue.push_back(n);
  }
  while (!queue.empty()) {
    const NodeId at = queue.front();
    queue.pop_front();
    for (NodeId n : spec.neighboursOf(at)) {
      if (n == from || next_hop.count(n)) continue;
      next_hop[n] = next_hop[at];
      queue.push_back(n);
    }
  }
  return next_hop;
}

namespace {

// Asks the kernel for a currently free UDP port on `address`. A port can in
// principle be taken between this probe and the relay's bind; the per-mesh
// subnet makes that practically impossible, and the relay reports a failed
// bind clearly if it happens.
std::uint16_t pickFreeUdpPort(std::uint32_t address) {
  const int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) return 0;
  sockaddr_in addr = Endpoint(address, 0).toSockaddr();
  std::uint16_t port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    socklen_t len = sizeof addr;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
      port = Endpoint::fromSockaddr(addr).port();
    }
  }
  close(fd);
  return port;
}

}  // namespace

LineAddresses assignLineAddresses(const MeshSpec& spec, std::uint8_t subnet) {
  LineAddresses result;
  for (const auto& node : spec.nodes) {
    for (int line = 0; line < spec.lines_per_node; ++line) {
      const std::uint32_t address = (127u << 24) | (static_cast<std::uint32_t>(subnet) << 16) |
                                    ((node.id & 0xffu) << 8) | static_cast<std::uint32_t>(line + 1);
      result[node.id].push_back(Endpoint(address, pickFreeUdpPort(address)));
    }
  }
  return result;
}

std::string relayConfigYaml(const MeshSpec& spec, const LineAddresses& addresses, NodeId node) {
  return relayConfigYaml(spec, addresses, node, addresses);
}

std::string ispTag(int line) {
  return "isp-" + std::string(1, static_cast<char>('a' + line % 26)) + (line >= 26 ? std::to_string(line / 26) : "");
}

std::string relayConfigYaml(const MeshSpec& spec, const LineAddresses& addresses, NodeId node,
                            const LineAddresses& neighbour_addresses, const Endpoint& controller,
                            const std::string& controller_tls_yaml) {
  const auto node_it = std::find_if(spec.nodes.begin(), spec.nodes.end(),
                                    [&](const MeshNode& n) { return n.id == node; });
  std::ostringstream y;
  y << "node_id: " << node << "\n";
  y << "region: " << node_it->region << "\n";
  y << "lines:\n";
  const auto& own = addresses.at(node);
  for (std::size_t l = 0; l < own.size(); ++l) {
    y << "  - name: line" << l << "\n    bind: \"" << own[l].toString() << "\"\n";
    if (spec.with_controller) {
      y << "    public: \"" << neighbour_addresses.at(node).at(l).toString() << "\"\n"
        << "    isp: \"" << ispTag(static_cast<int>(l)) << "\"\n";
    }
  }
  if (spec.with_controller) {
    // Neighbours and routes come from the controller's first PeerList and
    // route table; nothing flows before them (LocalMesh::start waits).
    y << "controller:\n  addresses: [\"" << controller.toString() << "\"]\n"
      << "  report_interval_ms: " << spec.controller_report_interval_ms << "\n"
      << "  backoff_initial_ms: 100\n  backoff_max_ms: 1000\n"
      << controller_tls_yaml;
  }
  const auto neighbours = spec.with_controller ? std::vector<NodeId>{} : spec.neighboursOf(node);
  if (!neighbours.empty()) {
    y << "neighbours:\n";
    for (NodeId n : neighbours) {
      y << "  - node_id: " << n << "\n    lines: [";
      const auto& theirs = neighbour_addresses.at(n);
      for (std::size_t l = 0; l < theirs.size(); ++l) {
        y << (l ? ", " : "") << "\"" << theirs[l].toString() << "\"";
      }
      y << "]\n";
    }
  }
  std::ostringstream routes;
  const auto backups = spec.backup_next_hops.find(node);
  const auto computed_backups = spec.backup_routes ? backupNextHops(spec, node) : std::map<NodeId, NodeId>{};
  const auto static_routes = spec.with_controller ? std::map<NodeId, NodeId>{} : shortestPathNextHops(spec, node);
  for (const auto& [destination, hop] : static_routes) {
    NodeId backup = kNoNode;
    if (const auto it = computed_backups.find(destination); it != computed_backups.end()) backup = it->second;
    if (backups != spec.backup_next_hops.end()) {
      if (const auto it = backups->second.find(destination); it != backups->second.end()) backup = it->second;
    }
    // Direct neighbours are implicit routes, unless they have a backup.
    if (destination == hop && backup == kNoNode) continue;
    routes << "  - destination: " << destination << "\n    next_hop: " << hop << "\n";
    if (backup != kNoNode) routes << "    backup: " << backup << "\n";
  }
  if (!routes.str().empty()) y << "routes:\n" << routes.str();
  y << "subscriptions:\n  refresh_interval_ms: " << spec.refresh_interval_ms
    << "\n  expiry_ms: " << spec.expiry_ms << "\n";
  y << "limits:\n  client_expiry_ms: " << spec.client_expiry_ms << "\n";
  if (spec.probe_interval_ms > 0 || spec.probe_down_after_ms > 0) {
    y << "probing:\n";
    if (spec.probe_interval_ms > 0) y << "  interval_ms: " << spec.probe_interval_ms << "\n";
    if (spec.probe_down_after_ms > 0) y << "  down_after_ms: " << spec.probe_down_after_ms << "\n";
  }
  y << "metrics:\n  listen: \"" << spec.metrics_listen << "\"\n";
  if (spec.with_controller) {
    // Keys come from the controller, with its peer lists.
  } else if (spec.mesh_secret_hex.empty()) {
    y << "insecure_lab_mode: true\n";
  } else {
    y << "auth:\n  mesh_keys:\n    - {epoch: 1, secret_hex: \"" << spec.mesh_secret_hex << "\"}\n";
  }
  return y.str();
}

std::map<NodeId, NodeId> backupNextHops(const MeshSpec& spec, NodeId from) {
  std::map<NodeId, std::map<NodeId, NodeId>> next_hops_of;  // computed on first use
  auto nextHop = [&](NodeId at, NodeId destination) -> NodeId {
    auto it = next_hops_of.find(at);
    if (it == next_hops_of.end()) it = next_hops_of.emplace(at, shortestPathNextHops(spec, at)).first;
    const auto hop = it->second.find(destination);
    return hop == it->second.end() ? kNoNode : hop->second;
  };
  std::map<NodeId, NodeId> backups;
  for (const auto& [destination, primary] : shortestPathNextHops(spec, from)) {
    NodeId best = kNoNode;
    std::size_t best_hops = 0;
    for (NodeId candidate : spec.neighboursOf(from)) {  // sorted: ties go to the lowest id
      if (candidate == primary) continue;
      // Follow the candidate's own primary path; every step gets one hop
      // closer to the destination, so this ends. It must reach the
      // destination before `from` (a loop) or the primary (which may be what
      // failed), if the primary is not the destination itself.
      std::size_t hops = 1;
      NodeId at = candidate;
      while (at != destination && at != kNoNode && at != from && at != primary) {
        at = nextHop(at, destination);
        ++hops;
      }
      if (at != destination) continue;
      if (best == kNoNode || hops < best_hops) {
        best = candidate;
        best_hops = hops;
      }
    }
    if (best != kNoNode) backups[destination] = best;
  }
  return backups;
}

std::string lineName(NodeId node, int line) { return "r" + std::to_string(node) + ".l" + std::to_string(line); }

LineAddresses standInAddresses(const MeshSpec& spec, std::uint8_t subnet) {
  LineAddresses result;
  for (const auto& node : spec.nodes) {
    for (int line = 0; line < spec.lines_per_node; ++line) {
      const std::uint32_t address = (127u << 24) | (static_cast<std::uint32_t>(subnet) << 16) |
                                    ((200u + node.id) << 8) | static_cast<std::uint32_t>(line + 1);
      result[node.id].push_back(Endpoint(address, 0));
    }
  }
  return result;
}

std::optional<int> regionDelayMs(std::string_view a, std::string_view b) {
  for (const RegionDelay& entry : kRegionDelays) {
    if ((entry.a == a && entry.b == b) || (entry.a == b && entry.b == a)) return entry.one_way_ms;
  }
  return std::nullopt;
}

MeshSpec threeRegionMesh() {
  MeshSpec spec;
  spec.nodes = {{1, "eu"}, {2, "eu"}, {3, "us"}, {4, "us"}, {5, "ap"}, {6, "ap"}};
  spec.links = {{1, 2}, {3, 4}, {5, 6}, {1, 3}, {2, 4}, {1, 5}, {2, 6}, {3, 5}, {4, 6}};
  return spec;
}

}  // namespace overline::localmesh

namespace overline::localmesh {

std::map<NodeId, int> expectedDownstreams(const MeshSpec& spec, const std::vector<NodeId>& edges,
                                          NodeId origin) {
  std::map<NodeId, int> count;
  std::set<std::pair<NodeId, NodeId>> tree_edges;  // (parent, child)
  for (NodeId edge : edges) {
    ++count[edge];
    for (NodeId at = edge; at != origin;) {
      const auto hops = shortestPathNextHops(spec, at);
      const auto it = hops.find(origin);
      if (it == hops.end()) break;  // unreachable: that subscriber never joins
      if (tree_edges.insert({it->second, at}).second) ++count[it->second];
      at = it->second;
    }
  }
  return count;
}

}  // namespace overline::localmesh
