#include "simulations/topology.h"

#include <algorithm>
#include <cassert>

namespace overline::sim {
namespace {

const NodeSpec& nodeSpec(const Topology& topology, NodeId node) {
  const auto it = std::find_if(topology.nodes.begin(), topology.nodes.end(),
                               [node](const NodeSpec& spec) { return spec.id == node; });
  assert(it != topology.nodes.end() && "node not in the topology");
  return *it;
}

}  // namespace

relay::RouteTablePtr routeTableFor(const Topology& topology, NodeId node) {
  relay::RouteTable table;
  for (const RouteSpec& route : topology.routes) {
    if (route.at == node) table.entries[route.destination] = relay::RouteEntry{route.primary, route.backup};
  }
  return std::make_shared<const relay::RouteTable>(std::move(table));
}

relay::RelayCoreConfig relayConfigFor(const Topology& topology, NodeId node) {
  relay::RelayCoreConfig config = topology.base;
  config.node_id = node;
  config.line_count = nodeSpec(topology, node).line_count;
  config.neighbours.clear();
  for (const LinkSpec& link : topology.links) {
    if (link.a != node && link.b != node) continue;
    const NodeId other = link.a == node ? link.b : link.a;
    relay::NeighbourConfig neighbour{other, {}};
    for (std::size_t line = 0; line < nodeSpec(topology, other).line_count; ++line) {
      neighbour.lines.push_back(relayLineEndpoint(other, static_cast<LineIndex>(line)));
    }
    config.neighbours.push_back(std::move(neighbour));
  }
  config.routes = routeTableFor(topology, node);
  return config;
}

void addTopology(SimNetwork& network, const Topology& topology) {
  for (const LinkSpec& link : topology.links) {
    if (link.settings) network.editNodeLinks(link.a, link.b, setPathSettings(*link.settings));
  }
  for (const NodeSpec& node : topology.nodes) network.addRelay(relayConfigFor(topology, node.id));
}

}  // namespace overline::sim
