// RouteGraph: validation and the edges it compiles.

#include "controller/core/route_graph.h"

#include <catch2/catch.hpp>
#include <cmath>

#include "topology_builder.h"

namespace overline::controller {
namespace {

using testing::LinkFigures;
using testing::rttMs;
using testing::TopologyBuilder;

InputErrorKind errorOf(const Topology& topology) {
  const auto graph = RouteGraph::build(topology, CostWeights{});
  REQUIRE_FALSE(graph.ok());
  return graph.error().kind;
}

TEST_CASE("nodes are indexed in ascending id order") {
  TopologyBuilder b;
  b.nodes({30, 10, 20});
  const auto graph = RouteGraph::build(b.topology(), CostWeights{});
  REQUIRE(graph.ok());
  CHECK(graph->nodeId(0) == 10);
  CHECK(graph->nodeId(2) == 30);
  CHECK(graph->indexOf(20) == 1);
  CHECK(graph->indexOf(40) == kNoIndex);
}

TEST_CASE("an edge costs its cheapest usable line pair plus the receiver's load penalty") {
  TopologyBuilder b;
  b.node(1, "eu", {"isp-a", "isp-b"}).node(2, "eu", {"isp-a", "isp-b"});
  b.info(2).load = 0.85;  // 12.5 ms
  Topology t = b.topology();
  t.links = {
      {1, 0, 2, 0, 30'000, 0, 0.0, LinkState::kUp},    // 15 ms
      {1, 0, 2, 1, 10'000, 0, 0.0, LinkState::kDown},  // cheapest, but down
      {1, 1, 2, 0, 24'000, 0, 0.0, LinkState::kUp},    // 12 ms: the best usable
      {1, 1, 2, 1, 24'000, 0, 0.0, LinkState::kDegraded},
  };
  const auto graph = RouteGraph::build(t, CostWeights{});
  REQUIRE(graph.ok());
  const auto out = graph->outEdges(0);
  REQUIRE(out.size() == 1);
  CHECK(out[0].cost_us == 12'000 + 12'500);
  const auto pairs = graph->linePairs(graph->outBegin(0));
  REQUIRE(pairs.size() == 3);  // the down pair is not usable
  CHECK(pairs[0].lines == LinePair{1, 0});
  CHECK(pairs[1].lines == LinePair{0, 0});
  CHECK(pairs[2].lines == LinePair{1, 1});  // degraded: 12 + 10 ms
  CHECK(graph->outEdges(1).empty());        // nothing measured 2 -> 1
  CHECK(graph->inEdges(1).size() == 1);
  CHECK(graph->findEdge(0, 1) == 0);
  CHECK(graph->findEdge(1, 0) == RouteGraph::kNoEdge);
}

TEST_CASE("a node pair whose line pairs are all down has no edge") {
  TopologyBuilder b;
  b.nodes({1, 2}).link(1, 2, LinkFigures{10'000, 0, 0.0, LinkState::kDown});
  const auto graph = RouteGraph::build(b.topology(), CostWeights{});
  REQUIRE(graph.ok());
  CHECK(graph->edges().empty());
}

TEST_CASE("every edge costs at least 1 us") {
  TopologyBuilder b;
  b.nodes({1, 2}).link(1, 2, rttMs(0));
  const auto graph = RouteGraph::build(b.topology(), CostWeights{});
  REQUIRE(graph.ok());
  CHECK(graph->edges()[0].cost_us == 1);
}

TEST_CASE("invalid topologies are rejected with the offending item") {
  SECTION("node id 0") {
    TopologyBuilder b;
    b.node(kNoNode);
    CHECK(errorOf(b.topology()) == InputErrorKind::kBadNode);
  }
  SECTION("duplicate node") {
    TopologyBuilder b;
    b.nodes({1, 1});
    CHECK(errorOf(b.topology()) == InputErrorKind::kDuplicateNode);
  }
  SECTION("negative or NaN load") {
    TopologyBuilder b;
    b.nodes({1});
    b.info(1).load = std::nan("");
    CHECK(errorOf(b.topology()) == InputErrorKind::kBadNode);
  }
  SECTION("unknown node") {
    TopologyBuilder b;
    b.nodes({1});
    Topology t = b.topology();
    t.links.push_back({1, 0, 9, 0, 1000, 0, 0.0, LinkState::kUp});
    const auto graph = RouteGraph::build(t, CostWeights{});
    REQUIRE_FALSE(graph.ok());
    CHECK(graph.error().kind == InputErrorKind::kBadLink);
    CHECK(graph.error().detail == "link 1:0 -> 9:0: unknown node");
  }
  SECTION("self link, missing line, bad figures") {
    TopologyBuilder b;
    b.nodes({1, 2});
    const Topology base = b.topology();
    for (const LinkMeasurement& bad :
         {LinkMeasurement{1, 0, 1, 0, 1000, 0, 0.0, LinkState::kUp},
          LinkMeasurement{1, 1, 2, 0, 1000, 0, 0.0, LinkState::kUp},
          LinkMeasurement{1, 0, 2, 0, -1, 0, 0.0, LinkState::kUp},
          LinkMeasurement{1, 0, 2, 0, 61 * kSecond, 0, 0.0, LinkState::kUp},
          LinkMeasurement{1, 0, 2, 0, 1000, -1, 0.0, LinkState::kUp},
          LinkMeasurement{1, 0, 2, 0, 1000, 0, 1.5, LinkState::kUp},
          LinkMeasurement{1, 0, 2, 0, 1000, 0, std::nan(""), LinkState::kUp}}) {
      Topology t = base;
      t.links.push_back(bad);
      CHECK(errorOf(t) == InputErrorKind::kBadLink);
    }
  }
  SECTION("one line pair measured twice") {
    TopologyBuilder b;
    b.nodes({1, 2}).oneWay(1, 2, rttMs(10)).oneWay(1, 2, rttMs(12));
    CHECK(errorOf(b.topology()) == InputErrorKind::kDuplicateLink);
  }
}

}  // namespace
}  // namespace overline::controller
