#pragma once
// RouteGraph: a Topology validated and compiled into compact adjacency arrays
// that route computation runs on. Nodes are indexed 0..N-1 in ascending
// NodeId order, so iterating indices is iterating ids, and every tie broken
// by index is broken by node id. Immutable once built.

#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/types.h"
#include "controller/core/link_cost.h"
#include "controller/core/topology.h"

namespace overline::controller {

using NodeIndex = std::uint32_t;
constexpr NodeIndex kNoIndex = std::numeric_limits<NodeIndex>::max();
constexpr CostUs kUnreachable = std::numeric_limits<CostUs>::max();

// Which lines carry a hop: the sender's local line and the receiver's line.
struct LinePair {
  LineIndex local_line = 0;
  LineIndex remote_line = 0;

  friend bool operator==(const LinePair&, const LinePair&) = default;
};

enum class InputErrorKind : std::uint8_t {
  kBadNode,        // id 0, negative or NaN load
  kDuplicateNode,  // two nodes with one id
  kBadLink,        // unknown node, self link, line out of range, bad figures
  kDuplicateLink,  // two measurements of one (from, from_line, to, to_line)
  kBadRegionRule,  // two rules for one region, or a rule not allowing its own region
};

struct InputError {
  InputErrorKind kind;
  std::string detail;  // names the offending node, link or rule
};

class RouteGraph {
 public:
  // A usable (not DOWN) line pair of an edge and its pair cost (link_cost.h,
  // without the load penalty).
  struct LinePairCost {
    LinePair lines;
    CostUs cost_us = 0;
  };
  // A directed edge: at least one usable line pair from its source to `to`.
  // 16 bytes: route computation scans edges in its inner loops.
  struct Edge {
    NodeIndex to = kNoIndex;
    std::uint32_t pairs_begin = 0;  // its pairs run to the next edge's pairs_begin
    CostUs cost_us = 0;  // edge_cost of link_cost.h: cheapest pair + load penalty at `to`
  };
  // The same edge seen from its receiving node.
  struct InEdge {
    NodeIndex from = kNoIndex;
    std::uint32_t edge = 0;  // index into edges()
    CostUs cost_us = 0;
  };

  static Result<RouteGraph, InputError> build(const Topology& topology, const CostWeights& weights);

  std::size_t nodeCount() const { return ids_.size(); }
  NodeId nodeId(NodeIndex node) const { return ids_[node]; }
  std::span<const NodeId> nodeIds() const { return ids_; }
  // kNoIndex when no node has this id.
  NodeIndex indexOf(NodeId id) const;

  bool drained(NodeIndex node) const { return drained_[node] != 0; }
  // Dense region ids, in ascending order of the region names.
  std::uint32_t regionOf(NodeIndex node) const { return region_of_[node]; }
  std::size_t regionCount() const { return region_names_.size(); }
  // The region id of `name`, or regionCount() when no node is in it.
  std::uint32_t regionId(std::string_view name) const;
  // One byte per node: 1 when its region is one of `regions`, else 0.
  std::vector<std::uint8_t> nodesInRegions(std::span<const std::string> regions) const;
  // Dense ISP id of a node's line (equal ids = equal ISP tags).
  std::uint32_t lineIsp(NodeIndex node, LineIndex line) const {
    return line_isps_[line_begin_[node] + line];
  }

  std::span<const Edge> edges() const { return edges_; }
  // Out-edges of `node`, ascending by `to`; edgeIndex() of the first is outBegin(node).
  std::span<const Edge> outEdges(NodeIndex node) const {
    return {edges_.data() + out_begin_[node], edges_.data() + out_begin_[node + 1]};
  }
  std::uint32_t outBegin(NodeIndex node) const { return out_begin_[node]; }
  // In-edges of `node`, ascending by `from`.
  std::span<const InEdge> inEdges(NodeIndex node) const {
    return {in_edges_.data() + in_begin_[node], in_edges_.data() + in_begin_[node + 1]};
  }
  // Usable line pairs of edges()[edge], cheapest first (never empty).
  std::span<const LinePairCost> linePairs(std::uint32_t edge) const {
    const std::uint32_t end = edge + 1 < edges_.size() ? edges_[edge + 1].pairs_begin
                                                       : static_cast<std::uint32_t>(pairs_.size());
    return {pairs_.data() + edges_[edge].pairs_begin, pairs_.data() + end};
  }
  // Index into edges() of from -> to, or kNoEdge when it has no usable pair.
  static constexpr std::uint32_t kNoEdge = std::numeric_limits<std::uint32_t>::max();
  std::uint32_t findEdge(NodeIndex from, NodeIndex to) const;

 private:
  RouteGraph() = default;

  std::vector<NodeId> ids_;
  std::vector<std::uint8_t> drained_;
  std::vector<std::uint32_t> region_of_;
  std::vector<std::string> region_names_;  // sorted
  std::vector<std::uint32_t> line_begin_;  // per node, into line_isps_
  std::vector<std::uint32_t> line_isps_;
  std::vector<std::uint32_t> out_begin_;  // N + 1 offsets into edges_
  std::vector<Edge> edges_;
  std::vector<std::uint32_t> in_begin_;  // N + 1 offsets into in_edges_
  std::vector<InEdge> in_edges_;
  std::vector<LinePairCost> pairs_;
};

}  // namespace overline::controller
