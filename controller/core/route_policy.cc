#include "controller/core/route_policy.h"

#include <algorithm>
#include <cmath>

namespace overline::controller {

CostUs Hysteresis::marginUs(CostUs best_us) const {
  return std::max<CostUs>(std::llround(relative * static_cast<double>(best_us)), absolute_us);
}

}  // namespace overline::controller
