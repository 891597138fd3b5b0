// rankEdges: eligibility and order of edge candidates.

#include "controller/edge_ranking.h"

#include <catch2/catch.hpp>

namespace overline::controller {
namespace {

EdgeOption option(NodeId node, std::string region, std::vector<std::string> isps, double load = 0.1) {
  EdgeOption out{node, std::move(region), {}, load, true, false};
  for (std::size_t i = 0; i < isps.size(); ++i) out.lines.push_back({static_cast<LineIndex>(i), isps[i]});
  return out;
}

std::vector<NodeId> nodesOf(const std::vector<EdgePick>& picks) {
  std::vector<NodeId> out;
  for (const EdgePick& pick : picks) out.push_back(pick.node);
  return out;
}

TEST_CASE("region and ISP matches come first, then load, then node id") {
  const std::vector<EdgeOption> options = {
      option(1, "us", {"x"}),          // neither
      option(2, "eu", {"x"}),          // region
      option(3, "us", {"y", "b"}),     // ISP
      option(4, "eu", {"a", "b"}, 0.5),  // both, loaded
      option(5, "eu", {"b"}, 0.2),     // both
      option(6, "eu", {"z"}, 0.0),     // region, idle
  };
  const auto picks = rankEdges(options, "eu", "b", 0.9, 10);
  CHECK(nodesOf(picks) == std::vector<NodeId>{5, 4, 6, 2, 3, 1});
  CHECK(picks[1].line == 1);  // node 4's line of ISP b
  CHECK(picks[4].line == 1);  // node 3's line of ISP b
  CHECK(picks[2].line == 0);  // no ISP match: first line
  CHECK(nodesOf(rankEdges(options, "eu", "b", 0.9, 2)) == std::vector<NodeId>{5, 4});
}

TEST_CASE("empty hints match nothing: order by load, then id") {
  const std::vector<EdgeOption> options = {option(2, "eu", {"a"}, 0.3), option(1, "us", {"b"}, 0.3),
                                           option(3, "", {""}, 0.1)};
  CHECK(nodesOf(rankEdges(options, "", "", 0.9, 10)) == std::vector<NodeId>{3, 1, 2});
}

TEST_CASE("disconnected, drained, overloaded and lineless relays are not offered") {
  std::vector<EdgeOption> options = {option(1, "eu", {"a"}), option(2, "eu", {"a"}), option(3, "eu", {"a"}, 0.9),
                                     option(4, "eu", {}), option(5, "eu", {"a"}, 0.89)};
  options[0].connected = false;
  options[1].drained = true;
  CHECK(nodesOf(rankEdges(options, "eu", "a", 0.9, 10)) == std::vector<NodeId>{5});
}

}  // namespace
}  // namespace overline::controller
