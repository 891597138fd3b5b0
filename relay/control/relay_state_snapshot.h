#pragma once
// The relay state a controller report is built from: copied by the loop
// thread (ControlBridge) every report interval and handed to the control
// thread as an immutable snapshot (STYLE rule 3).

#include <cstdint>
#include <memory>
#include <vector>

#include "relay/core/relay_core.h"

namespace overline::relay {

struct RelayStateSnapshot {
  std::vector<LinkSnapshot> links;  // RelayCore::links(), UNKNOWN ones included
  RelayGauges gauges;
  double load = 0;                  // bits sent over the last interval / capacity, >= 0
  std::uint64_t applied_route_version = 0;  // 0: no table from a controller yet
};
using RelayStateSnapshotPtr = std::shared_ptr<const RelayStateSnapshot>;

}  // namespace overline::relay
