#pragma once
// What the controller's behaviour depends on, besides its store: route
// policy and timing, what relays are told, edge allocation. Filled from the
// config file (controller/config/controller_config.h); tests build it directly.

#include <cstdint>
#include <vector>

#include "common/types.h"
#include "controller/core/key_schedule.h"
#include "controller/core/route_policy.h"

namespace overline::controller {

struct RouteSettings {
  RoutePolicy policy;  // cost weights (defaults), hysteresis, region rules
  // Routes are recomputed this often even when nothing notable changed
  // (new RTT and loss figures are only picked up then).
  DurationUs recompute_interval_us = 1 * kSecond;
  // After a notable change (link state, provisioning, drain) the computation
  // waits this long, so a burst of changes costs one computation.
  DurationUs debounce_us = 50 * kMillisecond;
  // A link not reported for this long is left out of routing (its relay is
  // gone or no longer measures it).
  DurationUs link_expiry_us = 10 * kSecond;
};

struct RelaySettings {
  std::uint32_t probe_interval_ms = 20;
  std::uint32_t report_interval_ms = 1000;
};

struct EdgeSettings {
  std::vector<std::uint8_t> token_key;  // HMAC key of join tokens, >= 16 bytes
  std::int64_t token_ttl_s = 300;
  std::uint32_t max_candidates = 3;  // per allocation
  double max_load = 0.9;             // relays at or above this load get no new clients
};

struct ControllerSettings {
  RouteSettings routes;
  RelaySettings relays;
  EdgeSettings edge;
  KeyPolicy keys;  // data-plane key epochs (controller/core/key_schedule.h)
};

}  // namespace overline::controller
