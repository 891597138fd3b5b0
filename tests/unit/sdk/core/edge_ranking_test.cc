#include "sdk/core/edge_ranking.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <optional>
#include <random>
#include <vector>

namespace overline::sdk {
namespace {

using Rtts = std::vector<std::optional<DurationUs>>;
using Order = std::vector<std::size_t>;

constexpr DurationUs ms(double value) { return static_cast<DurationUs>(value * kMillisecond); }

TEST_CASE("rankEdges: equal RTTs keep the controller's order") {
  CHECK(rankEdges(Rtts{ms(5), ms(5), ms(5)}) == Order{0, 1, 2});
  CHECK(rankEdges(Rtts{ms(90), ms(90)}) == Order{0, 1});
  CHECK(rankEdges(Rtts{0, 0}) == Order{0, 1});
}

TEST_CASE("rankEdges: a few ms of noise keeps the controller's order") {
  // The flake this rule fixes: two loopback relays, one reply delayed by a
  // scheduling hiccup on a loaded machine.
  CHECK(rankEdges(Rtts{ms(4), ms(0.2)}) == Order{0, 1});
  CHECK(rankEdges(Rtts{ms(9.9), ms(0.1)}) == Order{0, 1});  // less than 10 ms faster
  // Same region, a few ms apart: the controller's load and ISP knowledge wins.
  CHECK(rankEdges(Rtts{ms(25), ms(19), ms(21)}) == Order{0, 1, 2});
  // Long paths: 10 ms or more faster, but not half the RTT: still noise or a
  // deliberate choice by the controller.
  CHECK(rankEdges(Rtts{ms(150), ms(135)}) == Order{0, 1});
  CHECK(rankEdges(Rtts{ms(150), ms(80)}) == Order{0, 1});
}

TEST_CASE("rankEdges: a wrong geolocation (us 90 ms, eu 12 ms) reorders") {
  CHECK(rankEdges(Rtts{ms(90), ms(12)}) == Order{1, 0});
  // The clearly faster edge goes ahead of those it beats, and only those.
  CHECK(rankEdges(Rtts{ms(90), ms(85), ms(12)}) == Order{2, 0, 1});
  CHECK(rankEdges(Rtts{ms(11), ms(90), ms(12)}) == Order{0, 2, 1});
  // Two clearly faster edges close to each other keep the controller's order
  // between them, even though the later one is a little faster.
  CHECK(rankEdges(Rtts{ms(90), ms(14), ms(12)}) == Order{1, 2, 0});
}

TEST_CASE("rankEdges: silent candidates come last, in the controller's order") {
  CHECK(rankEdges(Rtts{std::nullopt, ms(30), std::nullopt, ms(20)}) == Order{1, 3, 0, 2});
  CHECK(rankEdges(Rtts{std::nullopt, ms(300)}) == Order{1, 0});
  CHECK(rankEdges(Rtts{std::nullopt, std::nullopt, std::nullopt}) == Order{0, 1, 2});
  CHECK(rankEdges(Rtts{}).empty());
  CHECK(rankEdges(Rtts{ms(7)}) == Order{0});
}

TEST_CASE("rankEdges: ties at the margins keep the controller's order") {
  // Both bounds are inclusive: exactly 10 ms and exactly half is clearly faster.
  CHECK(clearlyFaster(ms(10), ms(20)));
  CHECK(rankEdges(Rtts{ms(20), ms(10)}) == Order{1, 0});
  // A microsecond short of either bound is not.
  CHECK_FALSE(clearlyFaster(ms(10) + 1, ms(20)));  // not half
  CHECK(rankEdges(Rtts{ms(20), ms(10) + 1}) == Order{0, 1});
  CHECK_FALSE(clearlyFaster(ms(4) + 1, ms(14)));  // half, but not 10 ms
  CHECK(rankEdges(Rtts{ms(14), ms(4) + 1}) == Order{0, 1});
  CHECK(clearlyFaster(ms(4), ms(14)));
  // Equal RTTs of clearly faster candidates keep their order too.
  CHECK(rankEdges(Rtts{ms(90), ms(12), ms(12)}) == Order{1, 2, 0});
  CHECK_FALSE(clearlyFaster(ms(12), ms(12)));
}

TEST_CASE("overridesController: only when an answering candidate goes ahead of one ranked above it") {
  CHECK_FALSE(overridesController(Rtts{}));
  CHECK_FALSE(overridesController(Rtts{ms(5), ms(5)}));
  CHECK_FALSE(overridesController(Rtts{ms(4), ms(0.2)}));
  CHECK_FALSE(overridesController(Rtts{ms(11), ms(15), ms(90)}));  // already in order
  CHECK(overridesController(Rtts{ms(11), ms(90), ms(12)}));  // the first choice stands, the second does not
  CHECK(overridesController(Rtts{ms(90), ms(12)}));
  CHECK(overridesController(Rtts{std::nullopt, ms(90), ms(12)}));
  // Silent candidates going last is not the measurement overriding anyone.
  CHECK_FALSE(overridesController(Rtts{std::nullopt, ms(30)}));
  CHECK_FALSE(overridesController(Rtts{std::nullopt, std::nullopt}));
}

TEST_CASE("rankEdges: on any input, a permutation where nothing precedes a clearly faster candidate") {
  std::mt19937 random(20261202);  // fixed seed: reproducible
  std::uniform_int_distribution<int> size_of(0, 6);
  std::uniform_int_distribution<DurationUs> rtt_of(0, ms(200));
  std::bernoulli_distribution silent_if(0.2);
  for (int round = 0; round < 2000; ++round) {
    Rtts rtts(static_cast<std::size_t>(size_of(random)));
    for (auto& rtt : rtts) rtt = silent_if(random) ? std::nullopt : std::optional(rtt_of(random));
    const Order order = rankEdges(rtts);

    Order sorted = order;
    std::sort(sorted.begin(), sorted.end());
    Order identity(rtts.size());
    for (std::size_t i = 0; i < identity.size(); ++i) identity[i] = i;
    REQUIRE(sorted == identity);

    for (std::size_t a = 0; a < order.size(); ++a) {
      for (std::size_t b = a + 1; b < order.size(); ++b) {
        const auto& earlier = rtts[order[a]];
        const auto& later = rtts[order[b]];
        if (!earlier) {
          REQUIRE_FALSE(later);               // silent ones last
          REQUIRE(order[a] < order[b]);       // in the controller's order
        } else if (later) {
          REQUIRE_FALSE(clearlyFaster(*later, *earlier));
          // Out of the controller's order only for a clearly faster candidate.
          if (order[a] > order[b]) {
            REQUIRE(std::any_of(order.begin() + static_cast<std::ptrdiff_t>(a), order.end(), [&](std::size_t i) {
              return rtts[i] && clearlyFaster(*rtts[i], *rtts[order[b]]);
            }));
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace overline::sdk
