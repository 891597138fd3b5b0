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
  const auto node_it = std::find_if(spec.nodes.begin(), spec.nodes.end(),
                                    [&](const MeshNode& n) { return n.id == node; });
  std::ostringstream y;
  y << "node_id: " << node << "\n";
  y << "region: " << node_it->region << "\n";
  y << "lines:\n";
  const auto& own = addresses.at(node);
  for (std::size_t l = 0; l < own.size(); ++l) {
    y << "  - name: line" << l << "\n    bind: \"" << own[l].toString() << "\"\n";
  }
  const auto neighbours = spec.neighboursOf(node);
  if (!neighbours.empty()) {
    y << "neighbours:\n";
    for (NodeId n : neighbours) {
      y << "  - node_id: " << n << "\n    lines: [";
      const auto& theirs = addresses.at(n);
      for (std::size_t l = 0; l < theirs.size(); ++l) {
        y << (l ? ", " : "") << "\"" << theirs[l].toString() << "\"";
      }
      y << "]\n";
    }
  }
  std::ostringstream routes;
  for (const auto& [destination, hop] : shortestPathNextHops(spec, node)) {
    if (destination == hop) continue;  // direct neighbours are implicit
    routes << "  - destination: " << destination << "\n    next_hop: " << hop << "\n";
  }
  if (!routes.str().empty()) y << "routes:\n" << routes.str();
  y << "subscriptions:\n  refresh_interval_ms: " << spec.refresh_interval_ms
    << "\n  expiry_ms: " << spec.expiry_ms << "\n";
  y << "limits:\n  client_expiry_ms: " << spec.client_expiry_ms << "\n";
  y << "metrics:\n  listen: \"127.0.0.1:0\"\n";
  return y.str();
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
