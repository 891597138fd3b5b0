#include "controller/core/path_pair.h"

#include <algorithm>
#include <functional>
#include <utility>

namespace overline::controller {
namespace {

// Added per shared link when looking for the least-overlapping backup: more
// than any real path costs (a hop at 100% loss costs ~5 s), so the search
// minimises shared links first and cost second.
constexpr CostUs kSharedLinkPenaltyUs = CostUs{1'000'000'000'000};

enum class EdgeUse : std::uint8_t { kNormal, kBanned, kPenalised };

// Forward Dijkstra from one source to one destination under node and edge
// restrictions; buffers sized once per computePathPair() call.
class PathSearch {
 public:
  PathSearch(const RouteGraph& graph, std::vector<std::uint8_t> allowed)
      : graph_(graph),
        allowed_(std::move(allowed)),
        edge_use_(graph.edges().size(), EdgeUse::kNormal),
        cost_(graph.nodeCount()),
        prev_(graph.nodeCount()),
        prev_edge_(graph.nodeCount()),
        settled_(graph.nodeCount()) {}

  bool allowed(NodeIndex node) const { return allowed_[node] != 0; }
  std::vector<std::uint8_t>& allowedNodes() { return allowed_; }
  std::vector<EdgeUse>& edgeUse() { return edge_use_; }

  // Edge indices of the cheapest path, source first; nullopt when none.
  std::optional<std::vector<std::uint32_t>> find(NodeIndex source, NodeIndex destination) {
    std::fill(cost_.begin(), cost_.end(), kUnreachable);
    std::fill(prev_.begin(), prev_.end(), kNoIndex);
    std::fill(settled_.begin(), settled_.end(), 0);
    heap_.clear();
    cost_[source] = 0;
    heap_.push_back({0, source});
    while (!heap_.empty()) {
      std::pop_heap(heap_.begin(), heap_.end(), std::greater<>{});
      const auto [cost, u] = heap_.back();
      heap_.pop_back();
      if (settled_[u] != 0 || cost != cost_[u]) continue;
      settled_[u] = 1;
      if (u == destination) break;
      if (u != source && graph_.drained(u)) continue;  // no transit
      for (std::uint32_t e = graph_.outBegin(u); e < graph_.outBegin(u + 1); ++e) {
        const RouteGraph::Edge& edge = graph_.edges()[e];
        const NodeIndex v = edge.to;
        if (!allowed(v) || settled_[v] != 0 || edge_use_[e] == EdgeUse::kBanned) continue;
        const CostUs candidate =
            cost + edge.cost_us + (edge_use_[e] == EdgeUse::kPenalised ? kSharedLinkPenaltyUs : 0);
        if (candidate < cost_[v]) {
          cost_[v] = candidate;
          heap_.push_back({candidate, v});
          std::push_heap(heap_.begin(), heap_.end(), std::greater<>{});
        } else if (candidate != cost_[v] || u > prev_[v]) {
          continue;  // worse, or as good through a larger node id
        }
        prev_[v] = u;
        prev_edge_[v] = e;
      }
    }
    if (settled_[destination] == 0) return std::nullopt;
    std::vector<std::uint32_t> edges;
    for (NodeIndex v = destination; v != source; v = prev_[v]) edges.push_back(prev_edge_[v]);
    std::reverse(edges.begin(), edges.end());
    return edges;
  }

 private:
  const RouteGraph& graph_;
  std::vector<std::uint8_t> allowed_;
  std::vector<EdgeUse> edge_use_;
  std::vector<CostUs> cost_;
  std::vector<NodeIndex> prev_;
  std::vector<std::uint32_t> prev_edge_;
  std::vector<std::uint8_t> settled_;
  std::vector<std::pair<CostUs, NodeIndex>> heap_;
};

Path toPath(const RouteGraph& graph, NodeIndex source, const std::vector<std::uint32_t>& edges) {
  Path path;
  path.nodes.push_back(graph.nodeId(source));
  for (std::uint32_t e : edges) {
    const RouteGraph::Edge& edge = graph.edges()[e];
    path.nodes.push_back(graph.nodeId(edge.to));
    path.lines.push_back(graph.linePairs(e).front().lines);
    path.cost_us += edge.cost_us;
  }
  return path;
}

// Both directions of every link of the primary path.
std::vector<std::uint32_t> linksOf(const RouteGraph& graph, const Path& primary) {
  std::vector<std::uint32_t> links;
  for (std::size_t i = 0; i + 1 < primary.nodes.size(); ++i) {
    const NodeIndex a = graph.indexOf(primary.nodes[i]);
    const NodeIndex b = graph.indexOf(primary.nodes[i + 1]);
    for (const std::uint32_t e : {graph.findEdge(a, b), graph.findEdge(b, a)}) {
      if (e != RouteGraph::kNoEdge) links.push_back(e);
    }
  }
  return links;
}

std::optional<PathPair> computeMasked(const RouteGraph& graph, NodeId source, NodeId destination,
                                      std::vector<std::uint8_t> allowed) {
  const NodeIndex s = graph.indexOf(source);
  const NodeIndex d = graph.indexOf(destination);
  if (s == kNoIndex || d == kNoIndex || s == d || allowed[s] == 0 || allowed[d] == 0) {
    return std::nullopt;
  }
  PathSearch search(graph, std::move(allowed));
  const auto primary_edges = search.find(s, d);
  if (!primary_edges) return std::nullopt;
  PathPair pair;
  pair.primary = toPath(graph, s, *primary_edges);
  const std::vector<std::uint32_t> links = linksOf(graph, pair.primary);

  // Node-disjoint: no intermediate node and no link of the primary.
  auto& edge_use = search.edgeUse();
  for (std::uint32_t e : links) edge_use[e] = EdgeUse::kBanned;
  const std::vector<std::uint8_t> allowed_before = search.allowedNodes();
  for (std::size_t i = 1; i + 1 < pair.primary.nodes.size(); ++i) {
    search.allowedNodes()[graph.indexOf(pair.primary.nodes[i])] = 0;
  }
  if (auto edges = search.find(s, d)) {
    pair.backup = toPath(graph, s, *edges);
    pair.backup_kind = BackupKind::kNodeDisjoint;
    return pair;
  }
  search.allowedNodes() = allowed_before;
  // Link-disjoint: the primary's nodes allowed again, its links still banned.
  if (auto edges = search.find(s, d)) {
    pair.backup = toPath(graph, s, *edges);
    pair.backup_kind = BackupKind::kLinkDisjoint;
    return pair;
  }
  // Fewest shared links; none at all if that is the primary itself.
  for (std::uint32_t e : links) edge_use[e] = EdgeUse::kPenalised;
  if (auto edges = search.find(s, d); edges && *edges != *primary_edges) {
    pair.backup = toPath(graph, s, *edges);
    pair.backup_kind = BackupKind::kOverlapping;
  }
  return pair;
}

}  // namespace

std::optional<PathPair> computePathPair(const RouteGraph& graph, NodeId source,
                                        NodeId destination) {
  return computeMasked(graph, source, destination, std::vector<std::uint8_t>(graph.nodeCount(), 1));
}

std::optional<PathPair> computePathPairWithin(const RouteGraph& graph, NodeId source,
                                              NodeId destination,
                                              std::span<const NodeId> allowed_nodes) {
  std::vector<std::uint8_t> allowed(graph.nodeCount(), 0);
  for (NodeId id : allowed_nodes) {
    if (const NodeIndex v = graph.indexOf(id); v != kNoIndex) allowed[v] = 1;
  }
  return computeMasked(graph, source, destination, std::move(allowed));
}

std::optional<PathPair> computeConstrainedPath(const RouteGraph& graph, NodeId source,
                                               NodeId destination,
                                               std::span<const std::string> allowed_regions) {
  return computeMasked(graph, source, destination, graph.nodesInRegions(allowed_regions));
}

}  // namespace overline::controller
