#include "controller/core/route_graph.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <tuple>

namespace overline::controller {
namespace {

// Bounds measured figures so that no sum of costs can overflow: a path of
// 100,000 hops at the worst figures stays far below CostUs's range.
constexpr DurationUs kMaxMeasuredUs = 60 * kSecond;

std::string linkName(const LinkMeasurement& link) {
  return "link " + std::to_string(link.from) + ":" + std::to_string(link.from_line) + " -> " +
         std::to_string(link.to) + ":" + std::to_string(link.to_line);
}

// Sorted, de-duplicated copy of `names`.
std::vector<std::string> dictionary(std::vector<std::string> names) {
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

std::uint32_t lookup(const std::vector<std::string>& dict, std::string_view name) {
  return static_cast<std::uint32_t>(std::lower_bound(dict.begin(), dict.end(), name) -
                                    dict.begin());
}

// One measurement mapped onto node indices, before grouping into edges.
struct RawPair {
  NodeIndex from;
  NodeIndex to;
  LinePair lines;
  CostUs cost_us;  // unset for a DOWN pair
  bool down;
};

}  // namespace

Result<RouteGraph, InputError> RouteGraph::build(const Topology& topology,
                                                 const CostWeights& weights) {
  RouteGraph g;
  const auto& nodes = topology.nodes;
  const std::size_t n = nodes.size();

  std::vector<std::uint32_t> by_id(n);
  std::iota(by_id.begin(), by_id.end(), 0u);
  std::sort(by_id.begin(), by_id.end(),
            [&](std::uint32_t a, std::uint32_t b) { return nodes[a].id < nodes[b].id; });

  std::vector<std::string> region_names;
  std::vector<std::string> isp_names;
  for (const NodeInfo& node : nodes) {
    region_names.push_back(node.region);
    isp_names.insert(isp_names.end(), node.line_isps.begin(), node.line_isps.end());
  }
  g.region_names_ = dictionary(std::move(region_names));
  const std::vector<std::string> isps = dictionary(std::move(isp_names));

  std::vector<double> load(n);
  g.ids_.reserve(n);
  g.line_begin_.reserve(n + 1);
  for (std::uint32_t i = 0; i < n; ++i) {
    const NodeInfo& node = nodes[by_id[i]];
    const std::string name = "node " + std::to_string(node.id);
    if (node.id == kNoNode) {
      return Err(InputError{InputErrorKind::kBadNode, "node id 0 is reserved"});
    }
    if (i > 0 && g.ids_.back() == node.id) {
      return Err(InputError{InputErrorKind::kDuplicateNode, name + " appears twice"});
    }
    if (!(node.load >= 0.0)) {  // also rejects NaN
      return Err(InputError{InputErrorKind::kBadNode, name + ": load must be >= 0"});
    }
    if (node.line_isps.size() > std::size_t{std::numeric_limits<LineIndex>::max()} + 1) {
      return Err(InputError{InputErrorKind::kBadNode, name + ": too many lines"});
    }
    g.ids_.push_back(node.id);
    g.drained_.push_back(node.drained ? 1 : 0);
    g.region_of_.push_back(lookup(g.region_names_, node.region));
    load[i] = node.load;
    g.line_begin_.push_back(static_cast<std::uint32_t>(g.line_isps_.size()));
    for (const std::string& isp : node.line_isps) g.line_isps_.push_back(lookup(isps, isp));
  }
  g.line_begin_.push_back(static_cast<std::uint32_t>(g.line_isps_.size()));
  const auto line_count = [&](NodeIndex node) {
    return g.line_begin_[node + 1] - g.line_begin_[node];
  };

  std::vector<RawPair> raw;
  raw.reserve(topology.links.size());
  for (const LinkMeasurement& link : topology.links) {
    const NodeIndex from = g.indexOf(link.from);
    const NodeIndex to = g.indexOf(link.to);
    const auto bad = [&](const char* why) {
      return Err(InputError{InputErrorKind::kBadLink, linkName(link) + ": " + why});
    };
    if (from == kNoIndex || to == kNoIndex) return bad("unknown node");
    if (from == to) return bad("a node cannot link to itself");
    if (link.from_line >= line_count(from) || link.to_line >= line_count(to)) {
      return bad("no such line");
    }
    if (link.rtt_us < 0 || link.jitter_us < 0 || link.rtt_us > kMaxMeasuredUs ||
        link.jitter_us > kMaxMeasuredUs) {
      return bad("rtt or jitter outside 0..60 s");
    }
    if (!(link.loss >= 0.0 && link.loss <= 1.0)) return bad("loss outside 0..1");
    const bool down = link.state == LinkState::kDown;
    raw.push_back(RawPair{from, to, LinePair{link.from_line, link.to_line},
                          down ? 0 : linePairCostUs(link, weights), down});
  }
  const auto pair_key = [](const RawPair& p) {
    return std::tuple(p.from, p.to, p.lines.local_line, p.lines.remote_line);
  };
  std::sort(raw.begin(), raw.end(),
            [&](const RawPair& a, const RawPair& b) { return pair_key(a) < pair_key(b); });
  for (std::size_t i = 1; i < raw.size(); ++i) {
    if (pair_key(raw[i]) == pair_key(raw[i - 1])) {
      const RawPair& p = raw[i];
      return Err(InputError{InputErrorKind::kDuplicateLink,
                            linkName(LinkMeasurement{g.ids_[p.from], p.lines.local_line,
                                                     g.ids_[p.to], p.lines.remote_line}) +
                                " measured twice"});
    }
  }

  // Group the pairs of each (from, to) into one edge; raw is sorted by from, to.
  g.out_begin_.assign(n + 1, 0);
  for (std::size_t i = 0; i < raw.size();) {
    std::size_t end = i;
    while (end < raw.size() && raw[end].from == raw[i].from && raw[end].to == raw[i].to) ++end;
    const auto pairs_begin = static_cast<std::uint32_t>(g.pairs_.size());
    for (std::size_t k = i; k < end; ++k) {
      if (!raw[k].down) g.pairs_.push_back(LinePairCost{raw[k].lines, raw[k].cost_us});
    }
    const auto pairs_end = static_cast<std::uint32_t>(g.pairs_.size());
    if (pairs_end > pairs_begin) {
      // Cheapest first; equal costs by line indices, so the choice is deterministic.
      std::sort(g.pairs_.begin() + pairs_begin, g.pairs_.end(),
                [](const LinePairCost& a, const LinePairCost& b) {
                  return std::tuple(a.cost_us, a.lines.local_line, a.lines.remote_line) <
                         std::tuple(b.cost_us, b.lines.local_line, b.lines.remote_line);
                });
      const NodeIndex to = raw[i].to;
      const CostUs cost = g.pairs_[pairs_begin].cost_us + loadPenaltyUs(load[to], weights);
      g.edges_.push_back(Edge{to, pairs_begin, std::max<CostUs>(cost, 1)});
      ++g.out_begin_[raw[i].from + 1];
    }
    i = end;
  }
  std::partial_sum(g.out_begin_.begin(), g.out_begin_.end(), g.out_begin_.begin());

  // In-edges: bucket by receiver; edges are visited in ascending `from`, so
  // each bucket comes out sorted by `from`.
  g.in_begin_.assign(n + 1, 0);
  for (const Edge& e : g.edges_) ++g.in_begin_[e.to + 1];
  std::partial_sum(g.in_begin_.begin(), g.in_begin_.end(), g.in_begin_.begin());
  g.in_edges_.resize(g.edges_.size());
  std::vector<std::uint32_t> fill(g.in_begin_.begin(), g.in_begin_.end() - 1);
  for (NodeIndex from = 0; from < n; ++from) {
    for (std::uint32_t e = g.out_begin_[from]; e < g.out_begin_[from + 1]; ++e) {
      g.in_edges_[fill[g.edges_[e].to]++] = InEdge{from, e, g.edges_[e].cost_us};
    }
  }
  return g;
}

NodeIndex RouteGraph::indexOf(NodeId id) const {
  const auto it = std::lower_bound(ids_.begin(), ids_.end(), id);
  if (it == ids_.end() || *it != id) return kNoIndex;
  return static_cast<NodeIndex>(it - ids_.begin());
}

std::uint32_t RouteGraph::regionId(std::string_view name) const {
  const auto it = std::lower_bound(region_names_.begin(), region_names_.end(), name);
  if (it == region_names_.end() || *it != name) {
    return static_cast<std::uint32_t>(region_names_.size());
  }
  return static_cast<std::uint32_t>(it - region_names_.begin());
}

std::vector<std::uint8_t> RouteGraph::nodesInRegions(std::span<const std::string> regions) const {
  std::vector<std::uint8_t> region_allowed(region_names_.size(), 0);
  for (const std::string& name : regions) {
    const std::uint32_t id = regionId(name);
    if (id < region_allowed.size()) region_allowed[id] = 1;
  }
  std::vector<std::uint8_t> mask(ids_.size());
  for (std::size_t v = 0; v < ids_.size(); ++v) mask[v] = region_allowed[region_of_[v]];
  return mask;
}

std::uint32_t RouteGraph::findEdge(NodeIndex from, NodeIndex to) const {
  const auto out = outEdges(from);
  const auto it = std::lower_bound(out.begin(), out.end(), to,
                                   [](const Edge& e, NodeIndex target) { return e.to < target; });
  if (it == out.end() || it->to != to) return kNoEdge;
  return out_begin_[from] + static_cast<std::uint32_t>(it - out.begin());
}

}  // namespace overline::controller
