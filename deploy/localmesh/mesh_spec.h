#pragma once
// A mesh to run on one machine: relays, their regions, the links between
// them, and the timers they use. Routes are static shortest paths until the
// controller computes them.

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "common/endpoint.h"
#include "common/types.h"

namespace overline::localmesh {

struct MeshNode {
  NodeId id = kNoNode;  // 1..254 here: it is also an octet of the node's addresses
  std::string region;
};

struct MeshSpec {
  std::vector<MeshNode> nodes;
  std::vector<std::pair<NodeId, NodeId>> links;  // undirected
  int lines_per_node = 2;
  int refresh_interval_ms = 500;
  int expiry_ms = 1500;
  int client_expiry_ms = 5000;

  std::vector<NodeId> neighboursOf(NodeId node) const;
};

// Next hop from `from` toward every reachable destination: breadth-first
// shortest paths, ties broken toward the lowest neighbour id so the result is
// deterministic. Direct neighbours map to themselves.
std::map<NodeId, NodeId> shortestPathNextHops(const MeshSpec& spec, NodeId from);

// Line addresses of every node: node n, line l -> 127.<subnet>.<n>.<l+1> with
// a port that was free when picked. `subnet` separates concurrent meshes.
using LineAddresses = std::map<NodeId, std::vector<Endpoint>>;
LineAddresses assignLineAddresses(const MeshSpec& spec, std::uint8_t subnet);

// The relay YAML config of `node` (schema: deploy/relay.example.yaml).
std::string relayConfigYaml(const MeshSpec& spec, const LineAddresses& addresses, NodeId node);

// The demo's mesh: 6 relays in 3 regions (eu 1-2, us 3-4, ap 5-6), two lines
// each; each region's pair is linked and every region reaches the others over
// two disjoint links.
MeshSpec threeRegionMesh();

}  // namespace overline::localmesh

namespace overline::localmesh {

// How many downstreams each relay should hold once subscribers on `edges`
// (one per entry; repeats allowed) have joined a stream of `origin`, following
// shortestPathNextHops: local subscribers plus one per distinct child relay.
std::map<NodeId, int> expectedDownstreams(const MeshSpec& spec, const std::vector<NodeId>& edges,
                                          NodeId origin);

}  // namespace overline::localmesh
