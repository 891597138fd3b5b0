#include "controller/core/shortest_path_tree.h"

#include <algorithm>

#include "common/check/invariant.h"

namespace overline::controller {

ShortestPathTree::ShortestPathTree(const RouteGraph& graph)
    : graph_(graph),
      cost_(graph.nodeCount()),
      next_(graph.nodeCount()),
      edge_(graph.nodeCount()),
      state_(graph.nodeCount()),
      heap_position_(graph.nodeCount(), kNotQueued),
      depth_(graph.nodeCount()),
      branch_(graph.nodeCount()),
      preorder_(graph.nodeCount()),
      size_(graph.nodeCount()),
      cursor_(graph.nodeCount()) {
  order_.reserve(graph.nodeCount());
  heap_.reserve(graph.nodeCount());
}

void ShortestPathTree::compute(NodeIndex destination, std::span<const std::uint8_t> allowed,
                               std::span<const Fixed> fixed) {
  const std::size_t n = graph_.nodeCount();
  destination_ = destination;
  std::fill(cost_.begin(), cost_.end(), kUnreachable);
  std::fill(next_.begin(), next_.end(), kNoIndex);
  std::fill(edge_.begin(), edge_.end(), RouteGraph::kNoEdge);
  if (!OVERLINE_INVARIANT(destination < n && (allowed.empty() || allowed[destination] != 0))) {
    order_.clear();  // release: an empty tree, every node unreachable
    return;
  }
  if (allowed.empty()) {
    std::fill(state_.begin(), state_.end(), kOpen);
  } else {
    for (std::size_t v = 0; v < n; ++v) state_[v] = allowed[v] != 0 ? kOpen : kExcluded;
  }
  heap_.clear();
  order_.clear();

  cost_[destination] = 0;
  queue(destination);
  for (const Fixed& f : fixed) {
    // Release: a fixed node that cannot be fixed takes its cheapest route instead.
    if (!OVERLINE_INVARIANT(f.node < n && state_[f.node] == kOpen && f.node != destination)) continue;
    state_[f.node] = kFixed;
    cost_[f.node] = f.cost_us;
    next_[f.node] = f.next;
    edge_[f.node] = f.edge;
    queue(f.node);
  }
  settleAll();
  computeShape();
}

void ShortestPathTree::settleAll() {
  while (!heap_.empty()) {
    const NodeIndex u = popMin();
    state_[u] = kSettled;
    order_.push_back(u);
    if (u != destination_ && graph_.drained(u)) continue;  // no transit through a drained node
    const CostUs base = cost_[u];
    for (const RouteGraph::InEdge& in : graph_.inEdges(u)) {
      const NodeIndex s = in.from;
      const CostUs candidate = base + in.cost_us;
      // Settled nodes cost at most `base` (< candidate): the cost test alone
      // skips them, so the state is read only for possible improvements.
      if (candidate > cost_[s] || state_[s] != kOpen) continue;
      if (candidate < cost_[s]) {
        cost_[s] = candidate;
        next_[s] = u;
        edge_[s] = in.edge;
        queue(s);
      } else if (u < next_[s]) {
        next_[s] = u;  // same cost, smaller next hop
        edge_[s] = in.edge;
      }
    }
  }
}

void ShortestPathTree::queue(NodeIndex node) {
  std::uint32_t position = heap_position_[node];
  if (position == kNotQueued) {
    position = static_cast<std::uint32_t>(heap_.size());
    heap_.push_back(HeapEntry{cost_[node], node});
  } else {
    heap_[position].cost_us = cost_[node];
  }
  siftUp(position);
}

NodeIndex ShortestPathTree::popMin() {
  const NodeIndex top = heap_.front().node;
  heap_position_[top] = kNotQueued;
  const HeapEntry last = heap_.back();
  heap_.pop_back();
  if (!heap_.empty()) {
    place(0, last);
    siftDown(0);
  }
  return top;
}

void ShortestPathTree::siftUp(std::uint32_t position) {
  const HeapEntry entry = heap_[position];
  while (position > 0) {
    const std::uint32_t parent = (position - 1) / 4;
    if (!before(entry, heap_[parent])) break;
    place(position, heap_[parent]);
    position = parent;
  }
  place(position, entry);
}

void ShortestPathTree::siftDown(std::uint32_t position) {
  const HeapEntry entry = heap_[position];
  const auto size = static_cast<std::uint32_t>(heap_.size());
  while (true) {
    const std::uint32_t first = 4 * position + 1;
    if (first >= size) break;
    std::uint32_t best = first;
    const std::uint32_t end = std::min(first + 4, size);
    for (std::uint32_t child = first + 1; child < end; ++child) {
      if (before(heap_[child], heap_[best])) best = child;
    }
    if (!before(heap_[best], entry)) break;
    place(position, heap_[best]);
    position = best;
  }
  place(position, entry);
}

void ShortestPathTree::computeShape() {
  // Subtree sizes, children before parents (reverse settle order).
  for (NodeIndex v : order_) size_[v] = 1;
  for (auto it = order_.rbegin(); it != order_.rend(); ++it) {
    if (*it != destination_) size_[next_[*it]] += size_[*it];
  }
  // Preorder numbers without a DFS: in settle order (parents first) each
  // node takes the next free slice of its parent's range; cursor_ is the
  // next free number inside a node's range.
  preorder_[destination_] = 0;
  cursor_[destination_] = 1;
  depth_[destination_] = 0;
  branch_[destination_] = kNoIndex;
  for (std::size_t i = 1; i < order_.size(); ++i) {
    const NodeIndex v = order_[i];
    const NodeIndex parent = next_[v];
    preorder_[v] = cursor_[parent];
    cursor_[parent] += size_[v];
    cursor_[v] = preorder_[v] + 1;
    depth_[v] = depth_[parent] + 1;
    branch_[v] = parent == destination_ ? v : branch_[parent];
  }
}

}  // namespace overline::controller
