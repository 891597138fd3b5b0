#pragma once
// What a config reload (SIGHUP) may change in a running controller. Pure.
//
// At run time the controller applies log_level, the routes section (timing,
// hysteresis, region rules: the next computation, started at once, uses
// them), the relays section (pushed to every connected relay as a
// ConfigPush; relays apply report_interval_ms and keep their own probe
// interval), the edge section and the token section (key and ttl_s: tokens
// issued from then on; relays must get the new key too, by their own
// reload) and the keys section (the key schedule's next turn uses it).
// listen, tls, db_path, events and metrics are bound at start-up: when the
// file changes one, the running value is kept and the key is named in a
// warning.

#include <string>
#include <vector>

#include "controller/config/controller_config.h"

namespace overline::controller {

struct ControllerReloadPlan {
  // The running config with the changeable keys taken from the file.
  ControllerProcessConfig config;
  std::vector<std::string> applied;  // changed keys that take effect: "log_level", "routes", "relays", "edge", "token", "keys"
  std::vector<std::string> kept;     // changed keys that do not: "listen", "tls", "db_path", "events", "metrics"
};

ControllerReloadPlan planControllerReload(const ControllerProcessConfig& running,
                                          const ControllerProcessConfig& loaded);

}  // namespace overline::controller
