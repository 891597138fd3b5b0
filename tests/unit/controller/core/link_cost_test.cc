// The cost formula of controller/core/link_cost.h, term by term.

#include "controller/core/link_cost.h"

#include <catch2/catch.hpp>

namespace overline::controller {
namespace {

LinkMeasurement measured(DurationUs rtt_us, DurationUs jitter_us = 0, double loss = 0.0,
                         LinkState state = LinkState::kUp) {
  return LinkMeasurement{1, 0, 2, 0, rtt_us, jitter_us, loss, state};
}

const CostWeights kDefaults;

TEST_CASE("a clean link costs half its RTT: the one-way delay") {
  CHECK(linePairCostUs(measured(40'000), kDefaults) == 20'000);
  CHECK(linePairCostUs(measured(3), kDefaults) == 2);  // 1.5 rounds to nearest (away from zero)
}

TEST_CASE("jitter costs jitter_weight microseconds per microsecond") {
  CHECK(linePairCostUs(measured(40'000, 5'000), kDefaults) == 20'000 + 10'000);
}

TEST_CASE("loss penalty grows with the square of the loss") {
  // 200 ms * p + 5000 ms * p^2
  CHECK(linePairCostUs(measured(0, 0, 0.01), kDefaults) == 2'000 + 500);
  CHECK(linePairCostUs(measured(0, 0, 0.10), kDefaults) == 20'000 + 50'000);
  CHECK(linePairCostUs(measured(0, 0, 0.30), kDefaults) == 60'000 + 450'000);
  CHECK(linePairCostUs(measured(0, 0, 1.0), kDefaults) == 200'000 + 5'000'000);
}

TEST_CASE("30% loss is much worse than 50 ms more delay") {
  const CostUs lossy = linePairCostUs(measured(20'000, 0, 0.30), kDefaults);
  const CostUs slow = linePairCostUs(measured(20'000 + 2 * 50'000), kDefaults);
  CHECK(lossy > 5 * slow);
}

TEST_CASE("a degraded link pays a fixed penalty on top of its figures") {
  CHECK(linePairCostUs(measured(40'000, 0, 0.0, LinkState::kDegraded), kDefaults) ==
        20'000 + 10'000);
}

TEST_CASE("load is free below the knee and grows to load_weight at full load") {
  CHECK(loadPenaltyUs(0.0, kDefaults) == 0);
  CHECK(loadPenaltyUs(0.7, kDefaults) == 0);
  CHECK(loadPenaltyUs(0.85, kDefaults) == 12'500);  // ((0.85 - 0.7) / 0.3)^2 * 50 ms
  CHECK(loadPenaltyUs(1.0, kDefaults) == 50'000);
  CHECK(loadPenaltyUs(3.0, kDefaults) == 50'000);  // overload counts as full
}

TEST_CASE("the weights are the policy's to change") {
  CostWeights weights;
  weights.jitter_weight = 0.0;
  weights.loss_linear_us = 1'000'000.0;
  weights.loss_quadratic_us = 0.0;
  CHECK(linePairCostUs(measured(10'000, 7'000, 0.05), weights) == 5'000 + 50'000);
}

}  // namespace
}  // namespace overline::controller
