#pragma once
// computePathPair: for ONE (source, destination), an explicit primary path
// and the explicit backup path that shares the least with it. For uses that
// pin a whole path (a stream's data-residency constraint, redundant mode
// sending on two paths at once) and as the reference the hop-by-hop backups
// of computeRoutes() are measured against (bench/route_computation_bench.cc).
//
//   primary: the cheapest path (link_cost.h), ties to smaller node ids.
//   backup, the first of these that exists:
//     kNodeDisjoint: the cheapest path avoiding the primary's intermediate
//                    nodes and its links;
//     kLinkDisjoint: the cheapest path avoiding the primary's links;
//     kOverlapping:  the cheapest path among those sharing the fewest links
//                    with the primary, if that is not the primary itself.
// A link is a node pair in both directions: the two directions share lines,
// so they fail together. Drained nodes carry no transit (they may be the
// source or the destination). Three Dijkstra runs at most; meant per pair,
// not for all pairs (computeRoutes() is).

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/types.h"
#include "controller/core/route_computation.h"
#include "controller/core/route_graph.h"

namespace overline::controller {

struct Path {
  std::vector<NodeId> nodes;    // source, ..., destination
  std::vector<LinePair> lines;  // cheapest pair of each hop: nodes.size() - 1 entries
  CostUs cost_us = 0;
};

struct PathPair {
  Path primary;
  std::optional<Path> backup;
  BackupKind backup_kind = BackupKind::kNone;
};

// nullopt when there is no path (or source == destination, or an unknown id).
std::optional<PathPair> computePathPair(const RouteGraph& graph, NodeId source, NodeId destination);

// The same, using only the nodes listed in `allowed_nodes` (source and
// destination included: nullopt when either is missing).
std::optional<PathPair> computePathPairWithin(const RouteGraph& graph, NodeId source,
                                              NodeId destination,
                                              std::span<const NodeId> allowed_nodes);

// The same, using only nodes in `allowed_regions`: both paths stay inside
// them, or there is no route.
std::optional<PathPair> computeConstrainedPath(const RouteGraph& graph, NodeId source,
                                               NodeId destination,
                                               std::span<const std::string> allowed_regions);

}  // namespace overline::controller
