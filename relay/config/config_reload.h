#pragma once
// What a config reload (SIGHUP) may change in a running relay. Pure.
//
// At run time the relay applies log_level, the probing section (all but
// loss_window, which sizes every link's window), the join section, auth's
// mesh keys (a rotation step; removing the section is kept) and
// controller.tls (the files are read again at every reload; the next
// connection to the controller uses them, a live session keeps its
// connection). Every other key is bound at start-up (sockets, metrics
// server, controller session, the core's tables and timers): when the file
// changes one, the running value is kept and the key is named in a warning.

#include <string>
#include <vector>

#include "relay/config/relay_process_config.h"

namespace overline::relay {

struct ReloadPlan {
  // The running config with the changeable keys taken from the file.
  RelayProcessConfig config;
  std::vector<std::string> applied;  // changed keys that take effect: "log_level", "probing", "join",
                                     // "auth", "controller.tls"
  std::vector<std::string> kept;     // changed keys that do not, e.g. "node_id", "probing.loss_window"
};

ReloadPlan planReload(const RelayProcessConfig& running, const RelayProcessConfig& loaded);

}  // namespace overline::relay
