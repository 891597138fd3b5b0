#pragma once
// computeRoutes: every relay's route table — for each ordered pair of nodes
// (source, destination), a primary and a backup next hop with their
// preferred line pairs. Pure: the topology and the previous result in, the
// new result out; no I/O, no clock.
//
// Primary. For each destination, Dijkstra on the reversed graph gives every
// source its cheapest route (costs: link_cost.h). Ties go to the smaller
// next-hop id, so equal inputs give equal output. Relays forward hop by hop,
// so the primary routes toward one destination form a tree.
//
// Backup. A relay fails over locally (relay/core/failover_table.h): traffic
// then goes to the backup neighbour, which forwards it along ITS OWN primary
// route. So the backup route of (s, d) is s -> b -> primary route of (b, d),
// and choosing it means choosing b among s's neighbours other than the
// primary next hop. Candidates whose primary route comes back through s are
// skipped (the failover would loop). Among the rest, preferred in order:
//   1. node-disjoint: b's route shares no node with s's primary route but d
//      (in the tree: b is d itself or in another branch than s);
//   2. overlapping: fewest shared nodes. Once b's route meets the primary at
//      a node it follows it to d, so sharing a node always means sharing a
//      link too: this scheme never yields kLinkDisjoint.
// then by route cost, then by node id. With the tree's branches and preorder
// ranges precomputed, each candidate is checked in O(1), so the backups of
// all sources cost one pass over the edges per destination: the same order
// as the primaries' Dijkstra.
// Trade-off: a node-disjoint path that would need some relay on it to leave
// its own primary route is not found; path_pair.h computes such paths per
// pair, at one to three Dijkstra runs per pair, i.e. O(N^2) runs for all
// pairs. A relay table cannot steer the hops after b anyway. The bench
// measures both: on ~30-neighbour meshes the scheme finds a node-disjoint
// backup wherever one exists; on sparse (~6-neighbour) ones for about
// 70% of pairs.
//
// Line pairs. The primary's is its edge's cheapest usable pair. The backup's
// is the cheapest pair leaving on a line of another ISP than the primary's
// local line, if that pair is within the hysteresis margin of the cheapest,
// else the cheapest: one ISP failing should not take both hops down. Route
// costs are computed with cheapest pairs.
//
// Policies, applied before computing:
//  * a drained node carries no transit; it still gets routes and is still a
//    destination;
//  * region rules (route_policy.h): toward a destination in a ruled region,
//    only nodes of the allowed regions take part; others get no route.
//
// Hysteresis (with `previous`, the last result). Toward each destination:
//  * a source keeps its previous primary route in full when every link on
//    it is still usable, every node on it is still allowed (and not drained
//    for transit), the routes of the nodes after it are kept too, and its
//    current cost is within Hysteresis::marginUs of the best route now. A
//    DOWN link or a drained node on the route therefore always reroutes;
//    noise below the margin never does;
//  * every other source takes its cheapest route given the kept ones (a
//    second Dijkstra run toward that destination, with the kept routes
//    fixed; only when some kept route differs from the best tree).
//    Every route is then within the margin of the best: a kept route by the
//    rule, and by induction along the best route's hops for the others.
//  * a source keeps its previous backup while it is still a candidate of
//    the chosen class (same number of shared nodes) and within the margin of
//    the best candidate.

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/types.h"
#include "controller/core/route_graph.h"
#include "controller/core/route_policy.h"
#include "controller/core/topology.h"

namespace overline::controller {

enum class BackupKind : std::uint8_t {
  kNone,          // no backup
  kNodeDisjoint,  // shares no node with the primary but the two ends
  kLinkDisjoint,  // shares nodes but no link (path_pair.h only, see above)
  kOverlapping,   // shares nodes and links with the primary, as few as the graph allows
};
std::string_view toString(BackupKind kind);

// One next hop toward a destination.
struct NextHop {
  NodeId node = kNoNode;  // kNoNode: none
  LinePair lines;         // preferred line pair toward `node`
  CostUs cost_us = 0;     // cost of the whole route from the source through `node`
};

// One entry of a relay's route table. Converts field by field into
// relay::RouteEntry{primary.node, backup.node}.
struct RelayRoute {
  NodeId destination = kNoNode;
  NextHop primary;
  NextHop backup;  // backup.node == kNoNode: none; never equal to primary.node
  BackupKind backup_kind = BackupKind::kNone;
};

// The result of one computeRoutes() run: an immutable snapshot, safe to
// share between threads once built.
class Routes {
 public:
  std::span<const NodeId> nodes() const { return ids_; }  // ascending
  // The route from src to dst; nullopt when there is none (no path, a
  // policy forbids it, src == dst, or an unknown id).
  std::optional<RelayRoute> route(NodeId source, NodeId destination) const;
  // `source`'s route table: every destination it has a route to, ascending.
  std::vector<RelayRoute> tableFor(NodeId source) const;
  // The nodes traffic crosses hop by hop: source, ..., destination. Empty
  // when there is no route.
  std::vector<NodeId> primaryPath(NodeId source, NodeId destination) const;
  // Where traffic goes after source fails over: source, its backup, then
  // the backup's primary path. Empty when there is no backup.
  std::vector<NodeId> backupPath(NodeId source, NodeId destination) const;

 private:
  friend class RouteComputation;

  struct Slot {
    NodeIndex primary = kNoIndex;
    NodeIndex backup = kNoIndex;
    CostUs primary_cost_us = 0;
    CostUs backup_cost_us = 0;
    LinePair primary_lines;
    LinePair backup_lines;
    BackupKind backup_kind = BackupKind::kNone;
  };

  const Slot& slot(NodeIndex destination, NodeIndex source) const {
    return slots_[static_cast<std::size_t>(destination) * ids_.size() + source];
  }
  NodeIndex indexOf(NodeId id) const;
  RelayRoute toRelayRoute(NodeIndex destination, NodeIndex source) const;
  void appendPrimaryPath(NodeIndex from, NodeIndex destination, std::vector<NodeId>& path) const;

  std::vector<NodeId> ids_;
  std::vector<Slot> slots_;  // [destination * node count + source]
};

// Fails only on invalid input (see InputErrorKind). `previous` may be null
// (no hysteresis); it may come from a topology with other nodes: routes are
// matched by node id.
Result<Routes, InputError> computeRoutes(const Topology& topology, const RoutePolicy& policy,
                                         const Routes* previous);

}  // namespace overline::controller
