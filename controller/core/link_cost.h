#pragma once
// The route cost model. Every cost is a delay equivalent in microseconds
// (CostUs): "this hop is as bad as that much one-way delay".
//
//   pair_cost(line pair) = rtt / 2                          one-way delay estimate
//                        + jitter_weight * jitter
//                        + loss_linear_us * loss + loss_quadratic_us * loss^2
//                        + (state == DEGRADED ? degraded_penalty_us : 0)
//   edge_cost(u -> v)    = min over v's not-DOWN line pairs from u of pair_cost
//                        + load_penalty(load of v)
//   load_penalty(load)   = load_weight_us * (max(0, min(load, 1) - load_knee) / (1 - load_knee))^2
//   path cost            = sum of its edge costs
//
// Each term is rounded to the nearest microsecond when an edge cost is built,
// and an edge costs at least 1 us, so every hop costs something and a path
// never ties with a longer path through zero-cost hops. The load penalty is
// charged at the receiving node because that node forwards the traffic: it is
// the next hop's load that a route choice adds to.
//
// With the defaults: 1% loss costs 2.5 ms, 5% 22.5 ms, 10% 70 ms and 30%
// 510 ms, so a lossy direct link loses against a clean detour of a few tens
// of ms, but a heavily lossy one loses against anything plausible (a
// detour across a continent is ~100 ms).

#include <cstdint>

#include "common/types.h"
#include "controller/core/topology.h"

namespace overline::controller {

using CostUs = std::int64_t;

struct CostWeights {
  // A receiver's jitter buffer holds a few mean deviations of delay, so a
  // microsecond of jitter costs about two of steady delay.
  double jitter_weight = 2.0;
  // Light loss is repaired by per-hop NACK at the price of a retransmission
  // round trip on the lost packets (1% -> 2 ms) ...
  double loss_linear_us = 200'000.0;
  // ... heavy loss is not: NACK and FEC stop keeping up within a latency
  // budget, so the penalty grows with the square (30% -> +450 ms).
  double loss_quadratic_us = 5'000'000.0;
  // DEGRADED carries the relay's own hysteresis (a link back from an outage
  // stays DEGRADED until its losses age out), which averaged figures lack.
  double degraded_penalty_us = 10'000.0;
  // Load below the knee is free; above it the penalty grows to
  // load_weight_us at full load, steering transit away before a node fills.
  double load_knee = 0.7;
  double load_weight_us = 50'000.0;
};

// pair_cost above, without the load penalty. `link.state` must not be kDown.
CostUs linePairCostUs(const LinkMeasurement& link, const CostWeights& weights);
// load_penalty above.
CostUs loadPenaltyUs(double load, const CostWeights& weights);

}  // namespace overline::controller
