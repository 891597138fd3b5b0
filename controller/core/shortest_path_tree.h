#pragma once
// ShortestPathTree: every node's cheapest route toward ONE destination —
// Dijkstra from the destination over the reversed graph (in-edges) with an
// indexed 4-ary heap (decrease-key: at most one entry per node, no stale
// entries) — and the shape of the resulting tree. One instance is reused
// for every destination of a run: its buffers are allocated once.
//
// Rules: only `allowed` nodes take part; a drained node other than the
// destination is given a route but carries none (its in-edges are never
// relaxed). Equal costs go to the smaller next-hop index (= node id), so the
// tree is deterministic.

#include <cstdint>
#include <limits>
#include <span>
#include <vector>

#include "controller/core/route_graph.h"

namespace overline::controller {

class ShortestPathTree {
 public:
  // `graph` must outlive this object.
  explicit ShortestPathTree(const RouteGraph& graph);

  // A node whose route is decided beforehand (kept by hysteresis): it gets
  // next hop `next` over edge `edge` at total cost `cost_us`, whatever else
  // is cheaper. `next` must be the destination or itself fixed, and cost_us
  // must be the edge's cost plus next's cost.
  struct Fixed {
    NodeIndex node = kNoIndex;
    NodeIndex next = kNoIndex;
    std::uint32_t edge = RouteGraph::kNoEdge;
    CostUs cost_us = 0;
  };

  // `allowed`: one byte per node, nonzero = may take part; empty = all
  // nodes. The destination must be allowed.
  void compute(NodeIndex destination, std::span<const std::uint8_t> allowed,
               std::span<const Fixed> fixed);

  NodeIndex destination() const { return destination_; }
  // kUnreachable when the node has no route (or is not allowed).
  CostUs cost(NodeIndex node) const { return cost_[node]; }
  // Next hop; kNoIndex for the destination and for unreachable nodes.
  NodeIndex next(NodeIndex node) const { return next_[node]; }
  // Index in RouteGraph::edges() of node -> next(node).
  std::uint32_t edge(NodeIndex node) const { return edge_[node]; }
  // Reachable nodes in the order they were settled: the destination first,
  // every node after its next hop.
  std::span<const NodeIndex> order() const { return order_; }

  // Tree shape, for reachable nodes. depth: hops to the destination. branch:
  // the last node before the destination on the node's route (the node
  // itself when its next hop is the destination); two routes share a node
  // other than the destination iff they are in the same branch.
  std::uint32_t depth(NodeIndex node) const { return depth_[node]; }
  NodeIndex branch(NodeIndex node) const { return branch_[node]; }
  // Whether `node`'s route passes through `root` (true for node == root).
  bool routesThrough(NodeIndex node, NodeIndex root) const {
    return preorder_[root] <= preorder_[node] && preorder_[node] < preorder_[root] + size_[root];
  }

 private:
  enum State : std::uint8_t { kOpen, kFixed, kSettled, kExcluded };
  static constexpr std::uint32_t kNotQueued = std::numeric_limits<std::uint32_t>::max();

  void settleAll();
  void computeShape();

  struct HeapEntry {
    CostUs cost_us;
    NodeIndex node;
  };
  // Heap order: cheaper first, equal costs by node index.
  static bool before(const HeapEntry& a, const HeapEntry& b) {
    return a.cost_us != b.cost_us ? a.cost_us < b.cost_us : a.node < b.node;
  }
  // Queues `node` at cost_[node], or moves it up after its cost decreased.
  void queue(NodeIndex node);
  NodeIndex popMin();
  void siftUp(std::uint32_t position);
  void siftDown(std::uint32_t position);
  void place(std::uint32_t position, const HeapEntry& entry) {
    heap_[position] = entry;
    heap_position_[entry.node] = position;
  }

  const RouteGraph& graph_;
  NodeIndex destination_ = kNoIndex;
  std::vector<CostUs> cost_;
  std::vector<NodeIndex> next_;
  std::vector<std::uint32_t> edge_;
  std::vector<State> state_;
  std::vector<HeapEntry> heap_;
  std::vector<std::uint32_t> heap_position_;  // kNotQueued when not in heap_
  std::vector<NodeIndex> order_;
  std::vector<std::uint32_t> depth_;
  std::vector<NodeIndex> branch_;
  // Preorder numbering of the tree: node's subtree is [preorder, preorder + size).
  std::vector<std::uint32_t> preorder_;
  std::vector<std::uint32_t> size_;
  std::vector<std::uint32_t> cursor_;  // scratch of computeShape()
};

}  // namespace overline::controller
