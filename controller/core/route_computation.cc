#include "controller/core/route_computation.h"

#include <algorithm>

#include "controller/core/shortest_path_tree.h"

namespace overline::controller {

std::string_view toString(BackupKind kind) {
  switch (kind) {
    case BackupKind::kNone:
      return "none";
    case BackupKind::kNodeDisjoint:
      return "node_disjoint";
    case BackupKind::kLinkDisjoint:
      return "link_disjoint";
    case BackupKind::kOverlapping:
      return "overlapping";
  }
  return "unknown";
}

NodeIndex Routes::indexOf(NodeId id) const {
  const auto it = std::lower_bound(ids_.begin(), ids_.end(), id);
  if (it == ids_.end() || *it != id) return kNoIndex;
  return static_cast<NodeIndex>(it - ids_.begin());
}

RelayRoute Routes::toRelayRoute(NodeIndex destination, NodeIndex source) const {
  const Slot& s = slot(destination, source);
  RelayRoute route;
  route.destination = ids_[destination];
  route.primary = NextHop{ids_[s.primary], s.primary_lines, s.primary_cost_us};
  if (s.backup != kNoIndex) {
    route.backup = NextHop{ids_[s.backup], s.backup_lines, s.backup_cost_us};
  }
  route.backup_kind = s.backup_kind;
  return route;
}

std::optional<RelayRoute> Routes::route(NodeId source, NodeId destination) const {
  const NodeIndex s = indexOf(source);
  const NodeIndex d = indexOf(destination);
  if (s == kNoIndex || d == kNoIndex || slot(d, s).primary == kNoIndex) return std::nullopt;
  return toRelayRoute(d, s);
}

std::vector<RelayRoute> Routes::tableFor(NodeId source) const {
  std::vector<RelayRoute> table;
  const NodeIndex s = indexOf(source);
  if (s == kNoIndex) return table;
  for (NodeIndex d = 0; d < ids_.size(); ++d) {
    if (slot(d, s).primary != kNoIndex) table.push_back(toRelayRoute(d, s));
  }
  return table;
}

void Routes::appendPrimaryPath(NodeIndex from, NodeIndex destination,
                               std::vector<NodeId>& path) const {
  // Primary routes toward one destination form a tree, so this ends.
  for (NodeIndex v = from; v != destination; v = slot(destination, v).primary) {
    path.push_back(ids_[v]);
  }
  path.push_back(ids_[destination]);
}

std::vector<NodeId> Routes::primaryPath(NodeId source, NodeId destination) const {
  std::vector<NodeId> path;
  if (!route(source, destination)) return path;
  appendPrimaryPath(indexOf(source), indexOf(destination), path);
  return path;
}

std::vector<NodeId> Routes::backupPath(NodeId source, NodeId destination) const {
  std::vector<NodeId> path;
  if (!route(source, destination)) return path;
  const NodeIndex d = indexOf(destination);
  const Slot& s = slot(d, indexOf(source));
  if (s.backup == kNoIndex) return path;
  path.push_back(source);
  appendPrimaryPath(s.backup, d, path);
  return path;
}

// One computeRoutes() run. Lives only inside computeRoutes(); holds the
// per-destination scratch buffers so they are allocated once per run.
class RouteComputation {
 public:
  RouteComputation(const RouteGraph& graph, const RoutePolicy& policy, const Routes* previous,
                   std::vector<std::vector<std::uint8_t>> region_masks, Routes& out)
      : graph_(graph),
        policy_(policy),
        previous_(previous),
        region_masks_(std::move(region_masks)),
        out_(out),
        tree_(graph),
        n_(graph.nodeCount()),
        candidates_(graph.nodeCount()) {
    out_.ids_.assign(graph.nodeIds().begin(), graph.nodeIds().end());
    out_.slots_.assign(n_ * n_, Routes::Slot{});
    if (previous_ != nullptr) matchPreviousNodes();
  }

  void run() {
    for (NodeIndex d = 0; d < n_; ++d) computeDestination(d);
  }

 private:
  enum KeepState : std::uint8_t { kUndecided, kInChain, kKept, kNotKept };

  // A backup candidate: source -> node, then node's primary route.
  struct Candidate {
    NodeIndex node = kNoIndex;
    std::uint32_t edge = RouteGraph::kNoEdge;  // source -> node, in RouteGraph::edges()
    CostUs cost_us = kUnreachable;
    std::uint32_t shared_nodes = 0;  // with the source's primary route
  };
  // Per node, packed for the backup loop: the cost of its route toward d
  // (kUnreachable when it cannot be a backup: no route, not allowed, or
  // drained) and its branch of the tree.
  struct CandidateInfo {
    CostUs cost_us = kUnreachable;
    NodeIndex branch = kNoIndex;
  };

  Routes::Slot& slot(NodeIndex d, NodeIndex s) { return out_.slots_[d * n_ + s]; }

  // Node ids of both runs are sorted: match them in one merge.
  void matchPreviousNodes() {
    const auto prev_ids = previous_->nodes();
    to_previous_.assign(n_, kNoIndex);
    from_previous_.assign(prev_ids.size(), kNoIndex);
    for (std::size_t i = 0, j = 0; i < n_ && j < prev_ids.size();) {
      const NodeId cur = graph_.nodeId(static_cast<NodeIndex>(i));
      if (cur < prev_ids[j]) {
        ++i;
      } else if (prev_ids[j] < cur) {
        ++j;
      } else {
        to_previous_[i] = static_cast<NodeIndex>(j);
        from_previous_[j] = static_cast<NodeIndex>(i);
        ++i;
        ++j;
      }
    }
    keep_state_.resize(n_);
    old_next_.resize(n_);
    old_backup_.resize(n_);
    old_cost_.resize(n_);
  }

  std::span<const std::uint8_t> allowedToward(NodeIndex d) const {
    return region_masks_[graph_.regionOf(d)];
  }

  void computeDestination(NodeIndex d) {
    const auto allowed = allowedToward(d);
    tree_.compute(d, allowed, {});
    const bool has_previous = previous_ != nullptr && to_previous_[d] != kNoIndex;
    if (has_previous) {
      loadPreviousTree(d);
      if (decideKeptRoutes(d)) tree_.compute(d, allowed, fixed_);
    }
    loadCandidates(d);
    // In index order: edges and output slots are then read and written in
    // memory order.
    for (NodeIndex s = 0; s < n_; ++s) {
      if (s == d || tree_.cost(s) == kUnreachable) continue;
      Routes::Slot& out = slot(d, s);
      out.primary = tree_.next(s);
      out.primary_cost_us = tree_.cost(s);
      out.primary_lines = cheapestPair(tree_.edge(s));
      chooseBackup(s, has_previous ? old_backup_[s] : kNoIndex, out);
    }
  }

  LinePair cheapestPair(std::uint32_t edge) const { return graph_.linePairs(edge).front().lines; }

  // Previous next hops (primary and backup) toward d, in current indices.
  void loadPreviousTree(NodeIndex d) {
    const NodeIndex pd = to_previous_[d];
    const auto translate = [this](NodeIndex prev) {
      return prev == kNoIndex ? kNoIndex : from_previous_[prev];
    };
    for (NodeIndex s = 0; s < n_; ++s) {
      const NodeIndex ps = to_previous_[s];
      if (ps == kNoIndex) {
        old_next_[s] = kNoIndex;
        old_backup_[s] = kNoIndex;
        continue;
      }
      const Routes::Slot& prev = previous_->slot(pd, ps);
      old_next_[s] = translate(prev.primary);
      old_backup_[s] = translate(prev.backup);
    }
  }

  // Applies the keep rule of route_computation.h to every source, given the
  // best costs now (tree_ as computed without hysteresis). Fills fixed_ with
  // the kept routes; returns whether any differs from the best tree, i.e.
  // whether the tree must be recomputed around them.
  bool decideKeptRoutes(NodeIndex d) {
    std::fill(keep_state_.begin(), keep_state_.end(), kUndecided);
    keep_state_[d] = kKept;
    old_cost_[d] = 0;
    fixed_.clear();
    bool differs = false;
    for (NodeIndex start = 0; start < n_; ++start) {
      // A route is kept only if the rest of it is: walk to the first decided
      // node, then decide back toward `start`.
      chain_.clear();
      for (NodeIndex v = start; v != kNoIndex && keep_state_[v] == kUndecided; v = old_next_[v]) {
        keep_state_[v] = kInChain;
        chain_.push_back(v);
      }
      for (auto it = chain_.rbegin(); it != chain_.rend(); ++it) {
        const NodeIndex v = *it;
        const NodeIndex next = old_next_[v];
        keep_state_[v] = kNotKept;
        // A next hop still in the chain would be a loop: never kept.
        if (next == kNoIndex || keep_state_[next] != kKept || tree_.cost(v) == kUnreachable) {
          continue;
        }
        if (next != d && graph_.drained(next)) continue;
        const std::uint32_t edge = graph_.findEdge(v, next);
        if (edge == RouteGraph::kNoEdge) continue;
        const CostUs cost = graph_.edges()[edge].cost_us + old_cost_[next];
        const CostUs best = tree_.cost(v);
        if (cost > best + policy_.hysteresis.marginUs(best)) continue;
        keep_state_[v] = kKept;
        old_cost_[v] = cost;
        fixed_.push_back(ShortestPathTree::Fixed{v, next, edge, cost});
        differs = differs || next != tree_.next(v);
      }
    }
    return differs;
  }

  // Packs what backup candidates need about every node toward d.
  void loadCandidates(NodeIndex d) {
    std::fill(candidates_.begin(), candidates_.end(), CandidateInfo{kUnreachable, kNoIndex});
    for (NodeIndex v : tree_.order()) {
      if (v != d && graph_.drained(v)) continue;  // may not carry the failed-over traffic
      candidates_[v] = CandidateInfo{tree_.cost(v), tree_.branch(v)};
    }
  }

  // Nodes other than d that s's primary route shares with node's route:
  // the routes meet at their lowest common ancestor and coincide after it.
  std::uint32_t sharedNodes(NodeIndex s, NodeIndex node) const {
    NodeIndex a = s;
    NodeIndex b = node;
    while (tree_.depth(a) > tree_.depth(b)) a = tree_.next(a);
    while (tree_.depth(b) > tree_.depth(a)) b = tree_.next(b);
    while (a != b) {
      a = tree_.next(a);
      b = tree_.next(b);
    }
    return tree_.depth(a);
  }

  // Candidates are visited in ascending id and replace the best only when
  // strictly better, so equal candidates go to the smaller id.
  void chooseBackup(NodeIndex s, NodeIndex old_backup, Routes::Slot& out) const {
    const NodeIndex primary = tree_.next(s);
    const NodeIndex own_branch = tree_.branch(s);
    const std::uint32_t first_edge = graph_.outBegin(s);
    const auto out_edges = graph_.outEdges(s);
    Candidate best;
    Candidate previous;
    // Node-disjoint: another branch (or d itself, whose branch is kNoIndex).
    // Such a route cannot pass through s, which is in its own branch.
    bool any_same_branch = false;
    for (std::uint32_t i = 0; i < out_edges.size(); ++i) {
      const NodeIndex node = out_edges[i].to;
      const CandidateInfo& info = candidates_[node];
      if (info.cost_us == kUnreachable || node == primary) continue;
      if (info.branch == own_branch) {
        any_same_branch = true;
        continue;
      }
      const CostUs cost = out_edges[i].cost_us + info.cost_us;
      if (cost < best.cost_us) best = Candidate{node, first_edge + i, cost, 0};
      if (node == old_backup) previous = Candidate{node, first_edge + i, cost, 0};
    }
    BackupKind kind = BackupKind::kNodeDisjoint;
    if (best.node == kNoIndex && any_same_branch) {
      // Overlapping: same branch, but not routing back through s.
      kind = BackupKind::kOverlapping;
      for (std::uint32_t i = 0; i < out_edges.size(); ++i) {
        const NodeIndex node = out_edges[i].to;
        const CandidateInfo& info = candidates_[node];
        if (info.cost_us == kUnreachable || node == primary || tree_.routesThrough(node, s)) {
          continue;
        }
        const Candidate c{node, first_edge + i, out_edges[i].cost_us + info.cost_us,
                          sharedNodes(s, node)};
        if (best.node == kNoIndex || c.shared_nodes < best.shared_nodes ||
            (c.shared_nodes == best.shared_nodes && c.cost_us < best.cost_us)) {
          best = c;
        }
        if (node == old_backup) previous = c;
      }
    }
    if (best.node == kNoIndex) return;  // no backup
    if (previous.node != kNoIndex && previous.shared_nodes == best.shared_nodes &&
        previous.cost_us <= best.cost_us + policy_.hysteresis.marginUs(best.cost_us)) {
      best = previous;
    }
    out.backup = best.node;
    out.backup_cost_us = best.cost_us;
    out.backup_kind = kind;
    out.backup_lines = diversePair(s, out.primary_lines, best.edge);
  }

  // The backup's line pair: see "Line pairs" in route_computation.h.
  LinePair diversePair(NodeIndex s, LinePair primary, std::uint32_t edge) const {
    const auto pairs = graph_.linePairs(edge);
    const std::uint32_t primary_isp = graph_.lineIsp(s, primary.local_line);
    const CostUs limit = pairs.front().cost_us + policy_.hysteresis.marginUs(pairs.front().cost_us);
    for (const RouteGraph::LinePairCost& pair : pairs) {
      if (pair.cost_us > limit) break;
      if (graph_.lineIsp(s, pair.lines.local_line) != primary_isp) return pair.lines;
    }
    return pairs.front().lines;
  }

  const RouteGraph& graph_;
  const RoutePolicy& policy_;
  const Routes* previous_;
  // Per region id: the allowed-node mask of its rule; empty = no rule.
  const std::vector<std::vector<std::uint8_t>> region_masks_;
  Routes& out_;
  ShortestPathTree tree_;
  const std::size_t n_;
  std::vector<CandidateInfo> candidates_;  // toward the current destination

  // Hysteresis state, sized only when there is a previous result.
  std::vector<NodeIndex> to_previous_;    // current index -> previous index
  std::vector<NodeIndex> from_previous_;  // previous index -> current index
  std::vector<NodeIndex> old_next_;       // previous primary toward the current destination
  std::vector<NodeIndex> old_backup_;
  std::vector<KeepState> keep_state_;
  std::vector<CostUs> old_cost_;  // current cost of a kept route
  std::vector<NodeIndex> chain_;
  std::vector<ShortestPathTree::Fixed> fixed_;
};

namespace {

// Per region id, the allowed-node mask of the rule for destinations there.
Result<std::vector<std::vector<std::uint8_t>>, InputError> regionMasks(
    const RouteGraph& graph, const std::vector<RegionRule>& rules) {
  std::vector<std::vector<std::uint8_t>> masks(graph.regionCount());
  for (std::size_t i = 0; i < rules.size(); ++i) {
    const RegionRule& rule = rules[i];
    const std::string name = "region rule for " + rule.destination_region;
    for (std::size_t j = 0; j < i; ++j) {
      if (rules[j].destination_region == rule.destination_region) {
        return Err(InputError{InputErrorKind::kBadRegionRule, name + " appears twice"});
      }
    }
    if (std::find(rule.allowed_regions.begin(), rule.allowed_regions.end(),
                  rule.destination_region) == rule.allowed_regions.end()) {
      return Err(
          InputError{InputErrorKind::kBadRegionRule, name + " does not allow its own region"});
    }
    const std::uint32_t region = graph.regionId(rule.destination_region);
    if (region < masks.size()) masks[region] = graph.nodesInRegions(rule.allowed_regions);
  }
  return masks;
}

}  // namespace

Result<Routes, InputError> computeRoutes(const Topology& topology, const RoutePolicy& policy,
                                         const Routes* previous) {
  auto graph = RouteGraph::build(topology, policy.weights);
  if (!graph) return Err(graph.error());
  auto masks = regionMasks(*graph, policy.region_rules);
  if (!masks) return Err(masks.error());
  Routes routes;
  RouteComputation(*graph, policy, previous, std::move(masks.value()), routes).run();
  return routes;
}

}  // namespace overline::controller
