// computeRoutes on small graphs with hand-checked answers. Link figures are
// chosen so costs are exact: a clean link costs rtt / 2 (link_cost.h).

#include "controller/core/route_computation.h"

#include <catch2/catch.hpp>

#include "relay/core/relay_config.h"
#include "topology_builder.h"

namespace overline::controller {
namespace {

using testing::LinkFigures;
using testing::rttMs;
using testing::TopologyBuilder;
using Nodes = std::vector<NodeId>;

Routes compute(const Topology& topology, const RoutePolicy& policy = {}) {
  auto routes = computeRoutes(topology, policy, nullptr);
  REQUIRE(routes.ok());
  return *routes;
}

RelayRoute routeOf(const Routes& routes, NodeId source, NodeId destination) {
  const auto route = routes.route(source, destination);
  REQUIRE(route.has_value());
  return *route;
}

TEST_CASE("the primary is the cheapest path; the backup the cheapest disjoint neighbour") {
  TopologyBuilder b;
  b.nodes({1, 2, 3, 4, 5})
      .link(1, 2, rttMs(20))  // 10 ms
      .link(2, 4, rttMs(30))  // 15 ms: via 2 = 25 ms
      .link(1, 3, rttMs(10))  // 5 ms
      .link(3, 4, rttMs(50))  // 25 ms: via 3 = 30 ms
      .link(1, 5, rttMs(60))  // 30 ms
      .link(5, 4, rttMs(2));  // 1 ms: via 5 = 31 ms
  const Routes routes = compute(b.topology());
  const RelayRoute r = routeOf(routes, 1, 4);
  CHECK(r.destination == 4);
  CHECK(r.primary.node == 2);
  CHECK(r.primary.cost_us == 25'000);
  CHECK(r.backup.node == 3);
  CHECK(r.backup.cost_us == 30'000);
  CHECK(r.backup_kind == BackupKind::kNodeDisjoint);
  CHECK(routes.primaryPath(1, 4) == Nodes{1, 2, 4});
  CHECK(routes.backupPath(1, 4) == Nodes{1, 3, 4});
  // Toward 1, node 4 goes back the same way.
  CHECK(routes.primaryPath(4, 1) == Nodes{4, 2, 1});
  CHECK_FALSE(routes.route(1, 1).has_value());
  CHECK_FALSE(routes.route(1, 99).has_value());
}

TEST_CASE("a lossy direct link loses against a clean detour; light loss does not") {
  TopologyBuilder b;
  b.nodes({1, 2, 4})
      .link(1, 4, LinkFigures{20'000, 0, 0.30})
      .link(1, 2, rttMs(60))
      .link(2, 4, rttMs(60));
  // Direct: 10 ms + 510 ms of loss penalty; detour: 30 + 30 ms.
  const RelayRoute lossy = routeOf(compute(b.topology()), 1, 4);
  CHECK(lossy.primary.node == 2);
  CHECK(lossy.primary.cost_us == 60'000);
  CHECK(lossy.backup.node == 4);
  CHECK(lossy.backup.cost_us == 520'000);

  b.update(1, 4, LinkFigures{20'000, 0, 0.01});  // 10 ms + 2.5 ms
  const RelayRoute light = routeOf(compute(b.topology()), 1, 4);
  CHECK(light.primary.node == 4);
  CHECK(light.primary.cost_us == 12'500);
}

TEST_CASE("a down link is never used") {
  TopologyBuilder b;
  b.nodes({1, 2, 3, 4})
      .link(1, 2, rttMs(10))
      .link(2, 4, rttMs(10))
      .link(1, 3, rttMs(40))
      .link(3, 4, rttMs(40));
  b.update(2, 4, LinkFigures{10'000, 0, 0.0, LinkState::kDown});
  const Routes routes = compute(b.topology());
  CHECK(routes.primaryPath(1, 4) == Nodes{1, 3, 4});
  CHECK(routes.primaryPath(2, 4) == Nodes{2, 1, 3, 4});
  CHECK(routeOf(routes, 1, 4).backup.node == kNoNode);  // 2 would send it back to 1
}

TEST_CASE("a diamond gives a node-disjoint backup, also to a direct neighbour") {
  TopologyBuilder b;
  b.nodes({1, 2, 3, 4})
      .link(1, 2, rttMs(10))
      .link(2, 4, rttMs(10))
      .link(1, 3, rttMs(13))
      .link(3, 4, rttMs(11));
  const Routes routes = compute(b.topology());
  const RelayRoute r = routeOf(routes, 1, 4);
  CHECK(r.primary.node == 2);
  CHECK(r.backup.node == 3);
  CHECK(r.backup_kind == BackupKind::kNodeDisjoint);
  CHECK(routes.backupPath(1, 4) == Nodes{1, 3, 4});

  const RelayRoute to_neighbour = routeOf(routes, 1, 2);
  CHECK(to_neighbour.primary.node == 2);
  CHECK(to_neighbour.backup.node == 3);  // 3 -> 4 -> 2, never through 1
  CHECK(routes.backupPath(1, 2) == Nodes{1, 3, 4, 2});
  CHECK(to_neighbour.backup_kind == BackupKind::kNodeDisjoint);
}

TEST_CASE("through a cut node the backup overlaps as little as the tree allows") {
  // 1 -> {2 | 3} -> 5 -> {6 | 7} -> 4: node 5 is on every path.
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
  const Routes routes = compute(b.topology());
  CHECK(routes.primaryPath(1, 4) == Nodes{1, 2, 5, 6, 4});
  const RelayRoute r = routeOf(routes, 1, 4);
  CHECK(r.backup.node == 3);
  CHECK(r.backup_kind == BackupKind::kOverlapping);
  // Hop by hop, 3 forwards along its own primary: it rejoins at 5 and follows it.
  CHECK(routes.backupPath(1, 4) == Nodes{1, 3, 5, 6, 4});
  // 5 has its own disjoint backup for the part after it.
  CHECK(routeOf(routes, 5, 4).backup.node == 7);
  CHECK(routeOf(routes, 5, 4).backup_kind == BackupKind::kNodeDisjoint);
}

TEST_CASE("a line graph has no backups") {
  TopologyBuilder b;
  b.nodes({1, 2, 3}).link(1, 2, rttMs(10)).link(2, 3, rttMs(10));
  const Routes routes = compute(b.topology());
  for (const auto& [s, d] : {std::pair<NodeId, NodeId>{1, 3}, {1, 2}, {2, 3}, {3, 1}, {2, 1}}) {
    const RelayRoute r = routeOf(routes, s, d);
    CHECK(r.backup.node == kNoNode);
    CHECK(r.backup_kind == BackupKind::kNone);
    CHECK(routes.backupPath(s, d).empty());
  }
  CHECK(routes.primaryPath(1, 3) == Nodes{1, 2, 3});
}

TEST_CASE("a drained node carries no transit but is still a source and a destination") {
  TopologyBuilder b;
  b.nodes({1, 2, 3, 4})
      .link(1, 2, rttMs(10))
      .link(2, 3, rttMs(10))
      .link(1, 4, rttMs(40))
      .link(4, 3, rttMs(40));
  b.info(2).drained = true;
  const Routes routes = compute(b.topology());
  CHECK(routes.primaryPath(1, 3) == Nodes{1, 4, 3});
  CHECK(routeOf(routes, 1, 3).backup.node == kNoNode);  // 2 may not be a backup either
  CHECK(routes.primaryPath(1, 2) == Nodes{1, 2});       // destination
  CHECK(routes.primaryPath(2, 3) == Nodes{2, 3});       // source
  CHECK(routeOf(routes, 2, 3).backup.node == 1);        // 2 -> 1 -> 4 -> 3

  // With the detour gone, 1 cannot reach 3 at all.
  TopologyBuilder line;
  line.nodes({1, 2, 3}).link(1, 2, rttMs(10)).link(2, 3, rttMs(10));
  line.info(2).drained = true;
  const Routes cut = compute(line.topology());
  CHECK_FALSE(cut.route(1, 3).has_value());
  CHECK(cut.route(1, 2).has_value());
}

TEST_CASE("a region rule keeps routes toward its region inside the allowed regions") {
  TopologyBuilder b;
  b.node(1, "eu-west").node(2, "us-east").node(3, "eu-central").node(4, "eu-west");
  b.link(1, 2, rttMs(10)).link(2, 4, rttMs(10)).link(1, 3, rttMs(30)).link(3, 4, rttMs(30));
  RoutePolicy policy;
  policy.region_rules.push_back(RegionRule{"eu-west", {"eu-west", "eu-central"}});
  const Routes routes = compute(b.topology(), policy);
  CHECK(routes.primaryPath(1, 4) == Nodes{1, 3, 4});
  CHECK(routeOf(routes, 1, 4).backup.node == kNoNode);  // 2 is in us-east
  CHECK_FALSE(routes.route(2, 4).has_value());          // the origin's media may not go there
  CHECK(routes.primaryPath(1, 3) == Nodes{1, 3});
  // No rule for eu-central destinations: the cheapest path may leave the EU.
  CHECK(routes.primaryPath(4, 3) == Nodes{4, 3});
  CHECK(routes.primaryPath(3, 2) == Nodes{3, 1, 2});

  // Without an EU path, EU destinations are unreachable rather than leaked.
  TopologyBuilder only_us;
  only_us.node(1, "eu-west").node(2, "us-east").node(4, "eu-west");
  only_us.link(1, 2, rttMs(10)).link(2, 4, rttMs(10));
  const Routes none = compute(only_us.topology(), policy);
  CHECK_FALSE(none.route(1, 4).has_value());
  CHECK(none.route(4, 2).has_value());
}

TEST_CASE("invalid region rules are rejected") {
  TopologyBuilder b;
  b.node(1, "eu");
  RoutePolicy twice;
  twice.region_rules = {RegionRule{"eu", {"eu"}}, RegionRule{"eu", {"eu", "us"}}};
  const auto a = computeRoutes(b.topology(), twice, nullptr);
  REQUIRE_FALSE(a.ok());
  CHECK(a.error().kind == InputErrorKind::kBadRegionRule);
  RoutePolicy not_itself;
  not_itself.region_rules = {RegionRule{"eu", {"us"}}};
  const auto c = computeRoutes(b.topology(), not_itself, nullptr);
  REQUIRE_FALSE(c.ok());
  CHECK(c.error().kind == InputErrorKind::kBadRegionRule);
}

TEST_CASE("equal costs are broken by node id") {
  TopologyBuilder b;
  b.nodes({1, 3, 2, 4})
      .link(1, 3, rttMs(10))
      .link(3, 4, rttMs(10))
      .link(1, 2, rttMs(10))
      .link(2, 4, rttMs(10));
  const Routes routes = compute(b.topology());
  CHECK(routeOf(routes, 1, 4).primary.node == 2);
  CHECK(routeOf(routes, 1, 4).backup.node == 3);
  CHECK(routeOf(routes, 4, 1).primary.node == 2);
}

TEST_CASE("the backup leaves on another ISP's line when that costs little more") {
  TopologyBuilder b;
  b.node(1, "eu", {"isp-a", "isp-b"}).nodes({2, 3, 4}).link(2, 4, rttMs(10)).link(3, 4, rttMs(10));
  b.oneWay(2, 1, rttMs(20)).oneWay(3, 1, rttMs(20));
  Topology t = b.topology();
  const auto from_1 = [&t](NodeId to, DurationUs line0_rtt_us, DurationUs line1_rtt_us) {
    t.links.push_back({1, 0, to, 0, line0_rtt_us, 0, 0.0, LinkState::kUp});
    t.links.push_back({1, 1, to, 0, line1_rtt_us, 0, 0.0, LinkState::kUp});
  };
  from_1(2, 20'000, 24'000);  // primary on line 0 (isp-a)
  SECTION("within the margin: other ISP") {
    from_1(3, 22'000, 30'000);  // 11 ms vs 15 ms: within 5 ms
    const RelayRoute r = routeOf(compute(t), 1, 4);
    CHECK(r.primary.node == 2);
    CHECK(r.primary.lines == LinePair{0, 0});
    CHECK(r.backup.node == 3);
    CHECK(r.backup.lines == LinePair{1, 0});
  }
  SECTION("beyond the margin: the cheapest pair") {
    from_1(3, 22'000, 40'000);  // 11 ms vs 20 ms
    const RelayRoute r = routeOf(compute(t), 1, 4);
    CHECK(r.backup.node == 3);
    CHECK(r.backup.lines == LinePair{0, 0});
  }
}

TEST_CASE("a relay's table converts into relay::RouteTable") {
  TopologyBuilder b;
  b.nodes({1, 2, 3, 4})
      .link(1, 2, rttMs(10))
      .link(2, 4, rttMs(10))
      .link(1, 3, rttMs(13))
      .link(3, 4, rttMs(11));
  const Routes routes = compute(b.topology());
  relay::RouteTable table;
  for (const RelayRoute& r : routes.tableFor(1)) {
    table.entries[r.destination] = relay::RouteEntry{r.primary.node, r.backup.node};
  }
  CHECK(table.entries.size() == 3);
  CHECK(table.entries.at(4) == relay::RouteEntry{2, 3});
  CHECK(table.entries.at(2) == relay::RouteEntry{2, 3});
  CHECK(table.entries.at(3) == relay::RouteEntry{3, 2});
}

}  // namespace
}  // namespace overline::controller
