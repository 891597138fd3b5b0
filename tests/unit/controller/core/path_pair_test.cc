// computePathPair and its node/region-restricted forms: explicit primary and
// backup paths for one pair.

#include "controller/core/path_pair.h"

#include <catch2/catch.hpp>

#include "topology_builder.h"

namespace overline::controller {
namespace {

using testing::LinkFigures;
using testing::rttMs;
using testing::TopologyBuilder;
using Nodes = std::vector<NodeId>;

RouteGraph graphOf(const TopologyBuilder& b) {
  auto graph = RouteGraph::build(b.topology(), CostWeights{});
  REQUIRE(graph.ok());
  return *graph;
}

TEST_CASE("a diamond has a node-disjoint pair") {
  TopologyBuilder b;
  b.nodes({1, 2, 3, 4})
      .link(1, 2, rttMs(10))
      .link(2, 4, rttMs(10))
      .link(1, 3, rttMs(12))
      .link(3, 4, rttMs(12));
  const auto pair = computePathPair(graphOf(b), 1, 4);
  REQUIRE(pair.has_value());
  CHECK(pair->primary.nodes == Nodes{1, 2, 4});
  CHECK(pair->primary.cost_us == 10'000);
  CHECK(pair->primary.lines.size() == 2);
  REQUIRE(pair->backup.has_value());
  CHECK(pair->backup->nodes == Nodes{1, 3, 4});
  CHECK(pair->backup->cost_us == 12'000);
  CHECK(pair->backup_kind == BackupKind::kNodeDisjoint);
}

TEST_CASE("a direct primary gets a backup that avoids the direct link") {
  TopologyBuilder b;
  b.nodes({1, 2, 4}).link(1, 4, rttMs(10)).link(1, 2, rttMs(10)).link(2, 4, rttMs(10));
  const auto pair = computePathPair(graphOf(b), 1, 4);
  REQUIRE(pair.has_value());
  CHECK(pair->primary.nodes == Nodes{1, 4});
  REQUIRE(pair->backup.has_value());
  CHECK(pair->backup->nodes == Nodes{1, 2, 4});
  CHECK(pair->backup_kind == BackupKind::kNodeDisjoint);
}

TEST_CASE("through a cut node the backup is link-disjoint") {
  // Every path crosses 5, but two can do so on different links.
  TopologyBuilder b;
  b.nodes({1, 2, 3, 4, 5, 6, 7})
      .link(1, 2, rttMs(10))
      .link(1, 3, rttMs(12))
      .link(2, 5, rttMs(10))
      .link(3, 5, rttMs(12))
      .link(5, 6, rttMs(10))
      .link(5, 7, rttMs(12))
      .link(6, 4, rttMs(10))
      .link(7, 4, rttMs(12));
  const auto pair = computePathPair(graphOf(b), 1, 4);
  REQUIRE(pair.has_value());
  CHECK(pair->primary.nodes == Nodes{1, 2, 5, 6, 4});
  REQUIRE(pair->backup.has_value());
  CHECK(pair->backup->nodes == Nodes{1, 3, 5, 7, 4});
  CHECK(pair->backup_kind == BackupKind::kLinkDisjoint);
}

TEST_CASE("through a bridge the backup shares as few links as possible") {
  // 1 - 2 is the only way out of 1; after 2 there are two ways.
  TopologyBuilder b;
  b.nodes({1, 2, 3, 4})
      .link(1, 2, rttMs(10))
      .link(2, 4, rttMs(10))
      .link(2, 3, rttMs(10))
      .link(3, 4, rttMs(10));
  const auto pair = computePathPair(graphOf(b), 1, 4);
  REQUIRE(pair.has_value());
  CHECK(pair->primary.nodes == Nodes{1, 2, 4});
  REQUIRE(pair->backup.has_value());
  CHECK(pair->backup->nodes == Nodes{1, 2, 3, 4});
  CHECK(pair->backup->cost_us == 15'000);  // real cost, not the search's penalty
  CHECK(pair->backup_kind == BackupKind::kOverlapping);
}

TEST_CASE("a line graph has a primary and no backup") {
  TopologyBuilder b;
  b.nodes({1, 2, 3}).link(1, 2, rttMs(10)).link(2, 3, rttMs(10));
  const auto pair = computePathPair(graphOf(b), 1, 3);
  REQUIRE(pair.has_value());
  CHECK(pair->primary.nodes == Nodes{1, 2, 3});
  CHECK_FALSE(pair->backup.has_value());
  CHECK(pair->backup_kind == BackupKind::kNone);
  CHECK_FALSE(computePathPair(graphOf(b), 1, 1).has_value());
  CHECK_FALSE(computePathPair(graphOf(b), 1, 9).has_value());
}

TEST_CASE("drained nodes are endpoints only") {
  TopologyBuilder b;
  b.nodes({1, 2, 3, 4})
      .link(1, 2, rttMs(10))
      .link(2, 4, rttMs(10))
      .link(1, 3, rttMs(30))
      .link(3, 4, rttMs(30));
  b.info(2).drained = true;
  const RouteGraph graph = graphOf(b);
  const auto pair = computePathPair(graph, 1, 4);
  REQUIRE(pair.has_value());
  CHECK(pair->primary.nodes == Nodes{1, 3, 4});
  CHECK_FALSE(pair->backup.has_value());
  CHECK(computePathPair(graph, 2, 4)->primary.nodes == Nodes{2, 4});
  CHECK(computePathPair(graph, 1, 2)->primary.nodes == Nodes{1, 2});
}

// Two EU nodes, with the cheap path through the US and a dearer one in the EU.
TopologyBuilder residency() {
  TopologyBuilder b;
  b.node(1, "eu-west")
      .node(2, "us-east")
      .node(3, "eu-central")
      .node(4, "eu-west")
      .node(5, "eu-central");
  b.link(1, 2, rttMs(10)).link(2, 4, rttMs(10));
  b.link(1, 3, rttMs(30)).link(3, 4, rttMs(30));
  b.link(1, 5, rttMs(40)).link(5, 4, rttMs(40));
  return b;
}

TEST_CASE("a region constraint keeps both paths inside the allowed regions") {
  const RouteGraph graph = graphOf(residency());
  const std::vector<std::string> eu{"eu-west", "eu-central"};
  const auto pair = computeConstrainedPath(graph, 1, 4, eu);
  REQUIRE(pair.has_value());
  CHECK(pair->primary.nodes == Nodes{1, 3, 4});
  REQUIRE(pair->backup.has_value());
  CHECK(pair->backup->nodes == Nodes{1, 5, 4});
  CHECK(pair->backup_kind == BackupKind::kNodeDisjoint);
  // Unconstrained, the US path wins.
  CHECK(computePathPair(graph, 1, 4)->primary.nodes == Nodes{1, 2, 4});
}

TEST_CASE("a region constraint that cannot be met reports no route") {
  const RouteGraph graph = graphOf(residency());
  const std::vector<std::string> west{"eu-west"};
  CHECK_FALSE(computeConstrainedPath(graph, 1, 4, west).has_value());
  const std::vector<std::string> us{"us-east"};
  CHECK_FALSE(computeConstrainedPath(graph, 1, 4, us).has_value());  // endpoints outside
}

TEST_CASE("a node subset restricts the paths to it") {
  const RouteGraph graph = graphOf(residency());
  const Nodes subset{1, 4, 5, 2};
  const auto pair = computePathPairWithin(graph, 1, 4, subset);
  REQUIRE(pair.has_value());
  CHECK(pair->primary.nodes == Nodes{1, 2, 4});
  CHECK(pair->backup->nodes == Nodes{1, 5, 4});
  CHECK_FALSE(computePathPairWithin(graph, 1, 4, Nodes{1, 3, 5}).has_value());
}

TEST_CASE("down links are not part of any path") {
  TopologyBuilder b = residency();
  b.update(2, 4, LinkFigures{10'000, 0, 0.0, LinkState::kDown});
  const auto pair = computePathPair(graphOf(b), 1, 4);
  REQUIRE(pair.has_value());
  CHECK(pair->primary.nodes == Nodes{1, 3, 4});
  CHECK(pair->backup->nodes == Nodes{1, 5, 4});
}

}  // namespace
}  // namespace overline::controller
