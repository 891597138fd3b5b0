#include "controller/core/link_cost.h"

#include <algorithm>
#include <cmath>

#include "common/check/invariant.h"

namespace overline::controller {

CostUs linePairCostUs(const LinkMeasurement& link, const CostWeights& weights) {
  // RouteGraph prices only links that are not down; release: the figures still give a finite cost.
  OVERLINE_INVARIANT(link.state != LinkState::kDown);
  const double loss = link.loss;
  double cost = static_cast<double>(link.rtt_us) / 2.0 +
                weights.jitter_weight * static_cast<double>(link.jitter_us) +
                weights.loss_linear_us * loss + weights.loss_quadratic_us * loss * loss;
  if (link.state == LinkState::kDegraded) cost += weights.degraded_penalty_us;
  return std::llround(cost);
}

CostUs loadPenaltyUs(double load, const CostWeights& weights) {
  const double over = std::min(load, 1.0) - weights.load_knee;
  if (over <= 0.0 || weights.load_knee >= 1.0) return 0;
  const double scaled = over / (1.0 - weights.load_knee);
  return std::llround(weights.load_weight_us * scaled * scaled);
}

}  // namespace overline::controller
