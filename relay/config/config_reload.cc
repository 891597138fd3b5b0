#include "relay/config/config_reload.h"

namespace overline::relay {
namespace {

bool sameRoutes(const RouteTablePtr& a, const RouteTablePtr& b) {
  const RouteTable empty;
  return (a ? *a : empty) == (b ? *b : empty);
}

}  // namespace

ReloadPlan planReload(const RelayProcessConfig& running, const RelayProcessConfig& loaded) {
  ReloadPlan plan{running, {}, {}};
  const auto keep = [&](bool same, const char* key) {
    if (!same) plan.kept.emplace_back(key);
  };
  keep(loaded.core.node_id == running.core.node_id, "node_id");
  keep(loaded.region == running.region, "region");
  keep(loaded.lines == running.lines && loaded.advertised_lines == running.advertised_lines, "lines");
  keep(loaded.core.neighbours == running.core.neighbours, "neighbours");
  keep(sameRoutes(loaded.core.routes, running.core.routes), "routes");
  keep(loaded.core.subscriptions == running.core.subscriptions, "subscriptions");
  keep(loaded.core.limits == running.core.limits, "limits");
  keep(loaded.core.path_choice == running.core.path_choice, "path_choice");
  keep(loaded.core.failover == running.core.failover, "failover");
  keep(loaded.core.recovery == running.core.recovery, "recovery");
  keep(loaded.metrics_listen == running.metrics_listen, "metrics");
  // controller.tls applies to the next connection; the rest of the section
  // is bound to the running session.
  const auto without_tls = [](std::optional<ControllerClientConfig> controller) {
    if (controller) controller->tls = {};
    return controller;
  };
  keep(without_tls(loaded.controller) == without_tls(running.controller), "controller");
  if (loaded.controller && running.controller && !(loaded.controller->tls == running.controller->tls)) {
    plan.config.controller->tls = loaded.controller->tls;
    plan.applied.emplace_back("controller.tls");
  }
  keep(loaded.socket_buffer_bytes == running.socket_buffer_bytes, "socket_buffer_bytes");

  if (loaded.log_level != running.log_level) {
    plan.config.log_level = loaded.log_level;
    plan.applied.emplace_back("log_level");
  }
  ProbingConfig probing = loaded.core.probing;
  if (probing.loss_window != running.core.probing.loss_window) {
    plan.kept.emplace_back("probing.loss_window");
    probing.loss_window = running.core.probing.loss_window;
  }
  if (!(probing == running.core.probing)) {
    plan.config.core.probing = probing;
    plan.applied.emplace_back("probing");
  }
  // Mesh keys change at run time: that is how keys rotate. Lab mode does
  // not, and neither does removing the auth section: neighbours without
  // pushed keys would be left with no key.
  keep(loaded.core.auth.insecure_lab_mode == running.core.auth.insecure_lab_mode, "insecure_lab_mode");
  if (!loaded.core.auth.insecure_lab_mode && !running.core.auth.insecure_lab_mode &&
      !(loaded.core.auth.mesh_keys == running.core.auth.mesh_keys)) {
    if (loaded.core.auth.mesh_keys.empty()) {
      plan.kept.emplace_back("auth");
    } else {
      plan.config.core.auth.mesh_keys = loaded.core.auth.mesh_keys;
      plan.applied.emplace_back("auth");
    }
  }
  if (!(loaded.core.join == running.core.join)) {
    plan.config.core.join = loaded.core.join;
    plan.applied.emplace_back("join");
  }
  return plan;
}

}  // namespace overline::relay
