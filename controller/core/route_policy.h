#pragma once
// RoutePolicy: everything besides measurements that shapes the routes —
// cost weights, route hysteresis and data-residency rules. Drained nodes are
// a property of the node (NodeInfo::drained), not of the policy.

#include <string>
#include <vector>

#include "common/types.h"
#include "controller/core/link_cost.h"

namespace overline::controller {

// A previous route is kept while its current cost is at most
//   best + max(relative * best, absolute_us)
// where best is the cost of the best route now (see route_computation.h).
// The relative part absorbs measurement noise on long routes, the absolute
// part on short ones.
struct Hysteresis {
  double relative = 0.15;
  DurationUs absolute_us = 5 * kMillisecond;

  CostUs marginUs(CostUs best_us) const;
};

// Data residency: routes toward a destination in `destination_region` use
// only nodes in `allowed_regions` — sources, transit and destination alike. A
// source outside them gets no route to such a destination. Since media flows
// from the destination (the stream's origin) back along the route, this keeps
// the origin's media inside the allowed regions.
struct RegionRule {
  std::string destination_region;
  std::vector<std::string> allowed_regions;  // must include destination_region
};

struct RoutePolicy {
  CostWeights weights;
  Hysteresis hysteresis;
  std::vector<RegionRule> region_rules;  // at most one rule per destination region
};

}  // namespace overline::controller
