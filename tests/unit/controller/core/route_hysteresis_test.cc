// Hysteresis in computeRoutes: previous routes survive noise within the
// margin, and move past it or when a link on them goes down.

#include <catch2/catch.hpp>

#include "controller/core/route_computation.h"
#include "topology_builder.h"

namespace overline::controller {
namespace {

using testing::LinkFigures;
using testing::rttMs;
using testing::TopologyBuilder;
using Nodes = std::vector<NodeId>;

Routes compute(const Topology& topology, const Routes* previous, const RoutePolicy& policy = {}) {
  auto routes = computeRoutes(topology, policy, previous);
  REQUIRE(routes.ok());
  return *routes;
}

// 1 -> 2 -> 4 costs 10 + 10 ms, 1 -> 3 -> 4 costs 11 + 11 ms.
TopologyBuilder twoPaths() {
  TopologyBuilder b;
  b.nodes({1, 2, 3, 4})
      .link(1, 2, rttMs(20))
      .link(2, 4, rttMs(20))
      .link(1, 3, rttMs(22))
      .link(3, 4, rttMs(22));
  return b;
}

TEST_CASE("noise within the margin keeps the previous route") {
  TopologyBuilder b = twoPaths();
  const Routes first = compute(b.topology(), nullptr);
  REQUIRE(first.primaryPath(1, 4) == Nodes{1, 2, 4});

  b.update(1, 2, rttMs(26));  // via 2: 13 + 10 = 23 ms > via 3: 22 ms, within 22 + 5
  CHECK(compute(b.topology(), nullptr).primaryPath(1, 4) == Nodes{1, 3, 4});  // no hysteresis
  const Routes kept = compute(b.topology(), &first);
  CHECK(kept.primaryPath(1, 4) == Nodes{1, 2, 4});
  CHECK(kept.route(1, 4)->primary.cost_us == 23'000);  // its cost now

  b.update(1, 2, rttMs(34));  // 27 ms: exactly best + 5 ms, still kept
  CHECK(compute(b.topology(), &kept).primaryPath(1, 4) == Nodes{1, 2, 4});
}

TEST_CASE("a route worse than the margin moves") {
  TopologyBuilder b = twoPaths();
  const Routes first = compute(b.topology(), nullptr);
  b.update(1, 2, rttMs(36));  // 28 ms > 22 + 5
  const Routes moved = compute(b.topology(), &first);
  CHECK(moved.primaryPath(1, 4) == Nodes{1, 3, 4});
  CHECK(moved.route(1, 4)->primary.cost_us == 22'000);
  // And it stays there when the old route comes back within the margin only.
  b.update(1, 2, rttMs(20));  // 20 ms vs 22 ms now
  CHECK(compute(b.topology(), &moved).primaryPath(1, 4) == Nodes{1, 3, 4});
}

TEST_CASE("on long routes the relative margin applies") {
  TopologyBuilder b;
  b.nodes({1, 2, 3, 4})
      .link(1, 2, rttMs(180))
      .link(2, 4, rttMs(180))
      .link(1, 3, rttMs(190))
      .link(3, 4, rttMs(190));
  const Routes first = compute(b.topology(), nullptr);
  REQUIRE(first.primaryPath(1, 4) == Nodes{1, 2, 4});  // 180 vs 190 ms
  b.update(1, 2, rttMs(240));                          // 210 ms: within 190 + 15% = 218.5 ms
  const Routes kept = compute(b.topology(), &first);
  CHECK(kept.primaryPath(1, 4) == Nodes{1, 2, 4});
  b.update(1, 2, rttMs(260));  // 220 ms
  CHECK(compute(b.topology(), &kept).primaryPath(1, 4) == Nodes{1, 3, 4});
}

TEST_CASE("a down link on the previous route always reroutes") {
  TopologyBuilder b = twoPaths();
  const Routes first = compute(b.topology(), nullptr);
  b.update(2, 4, LinkFigures{20'000, 0, 0.0, LinkState::kDown});
  const Routes moved = compute(b.topology(), &first);
  CHECK(moved.primaryPath(1, 4) == Nodes{1, 3, 4});
  CHECK(moved.primaryPath(2, 4) == Nodes{2, 1, 3, 4});
}

TEST_CASE("draining a node on the previous route reroutes around it") {
  TopologyBuilder b = twoPaths();
  const Routes first = compute(b.topology(), nullptr);
  b.info(2).drained = true;
  CHECK(compute(b.topology(), &first).primaryPath(1, 4) == Nodes{1, 3, 4});
}

TEST_CASE("previous routes through a node that left are dropped") {
  TopologyBuilder b = twoPaths();
  const Routes first = compute(b.topology(), nullptr);
  TopologyBuilder without_2;
  without_2.nodes({1, 3, 4}).link(1, 3, rttMs(22)).link(3, 4, rttMs(22));
  const Routes moved = compute(without_2.topology(), &first);
  CHECK(moved.primaryPath(1, 4) == Nodes{1, 3, 4});
  CHECK_FALSE(moved.route(2, 4).has_value());
}

TEST_CASE("a kept route never holds back a node on it whose own route moved") {
  // 1 -> 2 is long; 2 reaches 4 directly or through 5.
  TopologyBuilder b;
  b.nodes({1, 2, 3, 4, 5})
      .link(1, 2, rttMs(200))  // 100 ms
      .link(2, 4, rttMs(40))   // 20 ms
      .link(2, 5, rttMs(10))   // 5 ms
      .link(5, 4, rttMs(40))   // 20 ms
      .link(1, 3, rttMs(300))  // 150 ms
      .link(3, 4, rttMs(2));
  const Routes first = compute(b.topology(), nullptr);
  REQUIRE(first.primaryPath(1, 4) == Nodes{1, 2, 4});
  // 2 -> 4 direct now 31 ms against 25 ms through 5: beyond 2's margin. For
  // 1 the old route (131 ms) would be within its margin (125 + 18.75 ms),
  // but it is not kept without its tail: 1 follows 2's new route.
  b.update(2, 4, rttMs(62));
  const Routes moved = compute(b.topology(), &first);
  CHECK(moved.primaryPath(2, 4) == Nodes{2, 5, 4});
  CHECK(moved.primaryPath(1, 4) == Nodes{1, 2, 5, 4});
  CHECK(moved.route(1, 4)->primary.cost_us == 125'000);
}

TEST_CASE("the backup is kept within the margin too") {
  // Primary 1 -> 2 -> 4; backups through 3 (24 ms) or 5 (26 ms).
  TopologyBuilder b;
  b.nodes({1, 2, 3, 4, 5})
      .link(1, 2, rttMs(10))
      .link(2, 4, rttMs(10))
      .link(1, 3, rttMs(24))
      .link(3, 4, rttMs(24))
      .link(1, 5, rttMs(26))
      .link(5, 4, rttMs(26));
  const Routes first = compute(b.topology(), nullptr);
  REQUIRE(first.route(1, 4)->backup.node == 3);
  b.update(1, 3, rttMs(30));  // via 3: 27 ms vs via 5: 26 ms
  CHECK(compute(b.topology(), nullptr).route(1, 4)->backup.node == 5);
  const Routes kept = compute(b.topology(), &first);
  CHECK(kept.route(1, 4)->backup.node == 3);
  CHECK(kept.route(1, 4)->backup.cost_us == 27'000);
  b.update(1, 3, rttMs(44));  // 34 ms > 26 + 5
  CHECK(compute(b.topology(), &kept).route(1, 4)->backup.node == 5);
}

}  // namespace
}  // namespace overline::controller
