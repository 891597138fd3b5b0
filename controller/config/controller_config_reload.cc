#include "controller/config/controller_config_reload.h"

#include <algorithm>

namespace overline::controller {
namespace {

// The parts of RouteSettings the config file sets (cost weights are not
// configurable).
bool sameRoutes(const RouteSettings& a, const RouteSettings& b) {
  const auto same_rules = [](const std::vector<RegionRule>& x, const std::vector<RegionRule>& y) {
    return std::equal(x.begin(), x.end(), y.begin(), y.end(), [](const RegionRule& r, const RegionRule& s) {
      return r.destination_region == s.destination_region && r.allowed_regions == s.allowed_regions;
    });
  };
  return a.recompute_interval_us == b.recompute_interval_us && a.debounce_us == b.debounce_us &&
         a.link_expiry_us == b.link_expiry_us && a.policy.hysteresis.relative == b.policy.hysteresis.relative &&
         a.policy.hysteresis.absolute_us == b.policy.hysteresis.absolute_us &&
         same_rules(a.policy.region_rules, b.policy.region_rules);
}

}  // namespace

ControllerReloadPlan planControllerReload(const ControllerProcessConfig& running,
                                          const ControllerProcessConfig& loaded) {
  ControllerReloadPlan plan{running, {}, {}};
  const auto keep = [&](bool same, const char* key) {
    if (!same) plan.kept.emplace_back(key);
  };
  keep(loaded.listen == running.listen, "listen");
  keep(loaded.db_path == running.db_path, "db_path");
  keep(loaded.metrics_listen == running.metrics_listen, "metrics");
  // gRPC 1.51's stable credentials cannot swap certificates in a running
  // server: a renewed controller certificate takes a restart.
  keep(loaded.tls.ca_pem == running.tls.ca_pem && loaded.tls.cert_pem == running.tls.cert_pem &&
           loaded.tls.key_pem == running.tls.key_pem,
       "tls");
  keep(loaded.max_events == running.max_events, "events");

  if (loaded.log_level != running.log_level) {
    plan.config.log_level = loaded.log_level;
    plan.applied.emplace_back("log_level");
  }
  if (!sameRoutes(loaded.settings.routes, running.settings.routes)) {
    plan.config.settings.routes = loaded.settings.routes;
    plan.applied.emplace_back("routes");
  }
  const RelaySettings& relays = loaded.settings.relays;
  if (relays.probe_interval_ms != running.settings.relays.probe_interval_ms ||
      relays.report_interval_ms != running.settings.relays.report_interval_ms) {
    plan.config.settings.relays = relays;
    plan.applied.emplace_back("relays");
  }
  const KeyPolicy& keys = loaded.settings.keys;
  const KeyPolicy& running_keys = running.settings.keys;
  if (keys.rotate_interval_s != running_keys.rotate_interval_s ||
      keys.activation_delay_s != running_keys.activation_delay_s ||
      keys.retire_after_s != running_keys.retire_after_s) {
    plan.config.settings.keys = keys;
    plan.applied.emplace_back("keys");
  }
  const EdgeSettings& edge = loaded.settings.edge;
  EdgeSettings& planned_edge = plan.config.settings.edge;
  if (edge.max_candidates != planned_edge.max_candidates || edge.max_load != planned_edge.max_load) {
    planned_edge.max_candidates = edge.max_candidates;
    planned_edge.max_load = edge.max_load;
    plan.applied.emplace_back("edge");
  }
  if (edge.token_key != planned_edge.token_key || edge.token_ttl_s != planned_edge.token_ttl_s) {
    planned_edge.token_key = edge.token_key;
    planned_edge.token_ttl_s = edge.token_ttl_s;
    plan.applied.emplace_back("token");
  }
  return plan;
}

}  // namespace overline::controller
