// computeRoutes on seeded random topologies: invariants that must hold for
// every pair, checked against RouteGraph and computePathPair.

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <optional>
#include <random>
#include <set>

#include "controller/core/path_pair.h"
#include "controller/core/route_computation.h"

namespace overline::controller {
namespace {

using Nodes = std::vector<NodeId>;

// 40 nodes with two lines on a 100 x 100 ms plane: each links to its 4
// nearest and one random node; some line pairs down, lossy or degraded, and
// some nodes drained or loaded.
Topology randomTopology(std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  constexpr int kNodes = 40;
  Topology t;
  std::vector<std::pair<double, double>> at;
  for (int i = 0; i < kNodes; ++i) {
    NodeInfo node{static_cast<NodeId>(100 + 7 * i),
                  i % 2 == 0 ? "eu" : "us",
                  {"isp-a", i % 3 == 0 ? "isp-a" : "isp-b"},
                  0,
                  unit(rng),
                  unit(rng) < 0.08};
    t.nodes.push_back(node);
    at.emplace_back(100.0 * unit(rng), 100.0 * unit(rng));
  }
  std::set<std::pair<int, int>> links;
  for (int i = 0; i < kNodes; ++i) {
    std::vector<int> others;
    for (int j = 0; j < kNodes; ++j) {
      if (j != i) others.push_back(j);
    }
    const auto dist = [&](int j) {
      return std::hypot(at[i].first - at[j].first, at[i].second - at[j].second);
    };
    std::sort(others.begin(), others.end(), [&](int a, int b) { return dist(a) < dist(b); });
    for (int k = 0; k < 4; ++k) links.insert(std::minmax(i, others[k]));
    links.insert(std::minmax(i, others[rng() % others.size()]));
  }
  for (const auto& [a, b] : links) {
    const double base_ms = 1.0 + std::hypot(at[a].first - at[b].first, at[a].second - at[b].second);
    for (const auto& [from, to] : {std::pair{a, b}, std::pair{b, a}}) {
      for (LineIndex i = 0; i < 2; ++i) {
        for (LineIndex j = 0; j < 2; ++j) {
          const double draw = unit(rng);
          LinkMeasurement m{t.nodes[from].id,
                            i,
                            t.nodes[to].id,
                            j,
                            static_cast<DurationUs>(base_ms * (1.0 + 0.3 * unit(rng)) * 1000),
                            static_cast<DurationUs>(2000 * unit(rng)),
                            draw < 0.1 ? 0.2 * unit(rng) : 0.0,
                            draw > 0.95  ? LinkState::kDown
                            : draw > 0.9 ? LinkState::kDegraded
                                         : LinkState::kUp};
          t.links.push_back(m);
        }
      }
    }
  }
  return t;
}

// Multiplies every RTT by a factor in [1 - spread, 1 + spread].
void addNoise(Topology& t, std::mt19937& rng, double spread) {
  std::uniform_real_distribution<double> factor(1.0 - spread, 1.0 + spread);
  for (LinkMeasurement& m : t.links) {
    m.rtt_us = static_cast<DurationUs>(static_cast<double>(m.rtt_us) * factor(rng));
  }
}

// Follows primary next hops from source; nullopt if it does not reach the
// destination within node-count hops (a loop).
std::optional<Nodes> walk(const Routes& routes, NodeId source, NodeId destination) {
  Nodes path{source};
  for (std::size_t hop = 0; hop < routes.nodes().size(); ++hop) {
    if (path.back() == destination) return path;
    const auto r = routes.route(path.back(), destination);
    if (!r) return std::nullopt;
    path.push_back(r->primary.node);
  }
  return std::nullopt;
}

CostUs edgeCost(const RouteGraph& graph, NodeId from, NodeId to) {
  const std::uint32_t e = graph.findEdge(graph.indexOf(from), graph.indexOf(to));
  REQUIRE(e != RouteGraph::kNoEdge);
  return graph.edges()[e].cost_us;
}

CostUs routeCost(const Routes& routes, NodeId from, NodeId to) {
  return from == to ? 0 : routes.route(from, to)->primary.cost_us;
}

bool drained(const Topology& t, NodeId id) {
  return std::find_if(t.nodes.begin(), t.nodes.end(),
                      [id](const NodeInfo& n) { return n.id == id; })
      ->drained;
}

std::set<NodeId> intermediates(const Nodes& path) { return {path.begin() + 1, path.end() - 1}; }

// Everything a hop-by-hop route table must satisfy, for every pair.
void checkInvariants(const Topology& t, const Routes& routes) {
  const auto graph = RouteGraph::build(t, CostWeights{});
  REQUIRE(graph.ok());
  for (NodeId s : routes.nodes()) {
    for (NodeId d : routes.nodes()) {
      const auto r = routes.route(s, d);
      if (s == d) {
        CHECK_FALSE(r.has_value());
        continue;
      }
      const auto exact = computePathPair(*graph, s, d);
      REQUIRE(r.has_value() == exact.has_value());
      if (!r) continue;
      const auto primary = walk(routes, s, d);
      REQUIRE(primary.has_value());
      CHECK(*primary == routes.primaryPath(s, d));
      for (NodeId v : intermediates(*primary)) CHECK_FALSE(drained(t, v));
      CHECK(r->primary.cost_us ==
            edgeCost(*graph, s, r->primary.node) + routeCost(routes, r->primary.node, d));
      CHECK(r->primary.cost_us >= exact->primary.cost_us);
      if (r->backup.node == kNoNode) {
        CHECK(r->backup_kind == BackupKind::kNone);
        continue;
      }
      CHECK(r->backup.node != r->primary.node);
      CHECK(r->backup.cost_us ==
            edgeCost(*graph, s, r->backup.node) + routeCost(routes, r->backup.node, d));
      const Nodes backup = routes.backupPath(s, d);
      REQUIRE(backup.size() >= 2);
      CHECK(std::count(backup.begin(), backup.end(), s) == 1);  // never loops back through s
      for (NodeId v : intermediates(backup)) CHECK_FALSE(drained(t, v));
      std::vector<NodeId> shared;
      const auto a = intermediates(*primary);
      const auto b = intermediates(backup);
      std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(shared));
      CHECK(r->backup_kind ==
            (shared.empty() ? BackupKind::kNodeDisjoint : BackupKind::kOverlapping));
    }
  }
}

TEST_CASE("every route is optimal and loop-free and every backup is consistent") {
  for (std::uint32_t seed : {1u, 2u, 3u}) {
    const Topology t = randomTopology(seed);
    auto routes = computeRoutes(t, RoutePolicy{}, nullptr);
    REQUIRE(routes.ok());
    checkInvariants(t, *routes);
    // Without hysteresis every primary is a cheapest route.
    const auto graph = RouteGraph::build(t, CostWeights{});
    for (NodeId s : routes->nodes()) {
      for (NodeId d : routes->nodes()) {
        if (const auto r = routes->route(s, d)) {
          CHECK(r->primary.cost_us == computePathPair(*graph, s, d)->primary.cost_us);
        }
      }
    }
  }
}

TEST_CASE("under noise, hysteresis keeps every route within the margin and changes fewer") {
  const RoutePolicy policy;
  std::mt19937 rng(7);
  Topology t = randomTopology(4);
  auto previous = computeRoutes(t, policy, nullptr);
  REQUIRE(previous.ok());
  Routes sticky = *previous;
  Routes fresh = *previous;
  std::size_t sticky_changes = 0;
  std::size_t fresh_changes = 0;
  for (int round = 0; round < 15; ++round) {
    Topology noisy = t;
    addNoise(noisy, rng, 0.10);
    auto next_sticky = computeRoutes(noisy, policy, &sticky);
    auto next_fresh = computeRoutes(noisy, policy, nullptr);
    REQUIRE(next_sticky.ok());
    REQUIRE(next_fresh.ok());
    checkInvariants(noisy, *next_sticky);
    for (NodeId s : sticky.nodes()) {
      for (NodeId d : sticky.nodes()) {
        const auto kept = next_sticky->route(s, d);
        const auto best = next_fresh->route(s, d);
        REQUIRE(kept.has_value() == best.has_value());
        if (!kept) continue;
        CHECK(kept->primary.cost_us <=
              best->primary.cost_us + policy.hysteresis.marginUs(best->primary.cost_us));
        sticky_changes += kept->primary.node != sticky.route(s, d)->primary.node;
        fresh_changes += best->primary.node != fresh.route(s, d)->primary.node;
      }
    }
    sticky = *next_sticky;
    fresh = *next_fresh;
  }
  CHECK(fresh_changes > 0);
  CHECK(sticky_changes < fresh_changes);
}

TEST_CASE("the output does not depend on input order") {
  const Topology t = randomTopology(5);
  Topology shuffled = t;
  std::mt19937 rng(11);
  std::shuffle(shuffled.nodes.begin(), shuffled.nodes.end(), rng);
  std::shuffle(shuffled.links.begin(), shuffled.links.end(), rng);
  auto a = computeRoutes(t, RoutePolicy{}, nullptr);
  auto b = computeRoutes(shuffled, RoutePolicy{}, nullptr);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  const auto same_hop = [](const NextHop& x, const NextHop& y) {
    return x.node == y.node && x.lines == y.lines && x.cost_us == y.cost_us;
  };
  for (NodeId s : a->nodes()) {
    const auto ta = a->tableFor(s);
    const auto tb = b->tableFor(s);
    REQUIRE(ta.size() == tb.size());
    for (std::size_t i = 0; i < ta.size(); ++i) {
      CHECK(ta[i].destination == tb[i].destination);
      CHECK(same_hop(ta[i].primary, tb[i].primary));
      CHECK(same_hop(ta[i].backup, tb[i].backup));
      CHECK(ta[i].backup_kind == tb[i].backup_kind);
    }
  }
}

}  // namespace
}  // namespace overline::controller
