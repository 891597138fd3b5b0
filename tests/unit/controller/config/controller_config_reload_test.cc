// planControllerReload: which changed keys a running controller applies and
// which it keeps.

#include "controller/config/controller_config_reload.h"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "tests/unit/controller/test_pki.h"

namespace overline::controller {
namespace {

const char* const kBody = R"(
listen: {admin: 127.0.0.1:7400}
db_path: /tmp/db
token: {key_hex: "00112233445566778899aabbccddeeff"}
log_level: info
)";

std::string base() { return testing::testTlsYaml() + kBody; }

ControllerProcessConfig parsed(const std::string& body) {
  // Every config needs the tls section; the tests change the rest.
  const std::string yaml = body.find("tls:") == std::string::npos ? testing::testTlsYaml() + body : body;
  auto config = parseControllerConfig(yaml);
  INFO(yaml);
  REQUIRE(config.ok());
  return config.value();
}

using Keys = std::vector<std::string>;

TEST_CASE("an unchanged file applies and keeps nothing") {
  const auto running = parsed(base());
  const auto plan = planControllerReload(running, parsed(base()));
  CHECK(plan.applied.empty());
  CHECK(plan.kept.empty());
}

TEST_CASE("log level, routes, relays, edge and token take effect") {
  const auto running = parsed(base());
  const auto loaded = parsed(R"(
listen: {admin: 127.0.0.1:7400}
db_path: /tmp/db
keys: {rotate_interval_s: 3600}
token: {key_hex: "ffeeddccbbaa99887766554433221100", ttl_s: 60}
log_level: debug
routes: {recompute_interval_ms: 250, hysteresis_percent: 30,
         region_rules: [{destination_region: eu, allowed_regions: [eu]}]}
relays: {report_interval_ms: 500}
edge: {max_candidates: 5}
)");
  const auto plan = planControllerReload(running, loaded);
  CHECK(plan.applied == Keys{"log_level", "routes", "relays", "keys", "edge", "token"});
  CHECK(plan.config.settings.keys.rotate_interval_s == 3600);
  CHECK(plan.kept.empty());
  CHECK(plan.config.log_level == "debug");
  CHECK(plan.config.settings.routes.recompute_interval_us == 250 * kMillisecond);
  CHECK(plan.config.settings.routes.policy.hysteresis.relative == Approx(0.3));
  REQUIRE(plan.config.settings.routes.policy.region_rules.size() == 1);
  CHECK(plan.config.settings.relays.report_interval_ms == 500);
  CHECK(plan.config.settings.edge.max_candidates == 5);
  CHECK(plan.config.settings.edge.token_key == loaded.settings.edge.token_key);
  CHECK(plan.config.settings.edge.token_ttl_s == 60);
}

TEST_CASE("listen, tls, db_path, events and metrics keep their running values and are named") {
  const auto running = parsed(base());
  const auto plan = planControllerReload(running, parsed(R"(
listen: {admin: 127.0.0.1:7500}
events: {max_events: 2000}
db_path: /tmp/other
token: {key_hex: "00112233445566778899aabbccddeeff"}
metrics: {listen: "off"}
log_level: warn
)"));
  CHECK(plan.kept == Keys{"listen", "db_path", "metrics", "events"});
  CHECK(plan.applied == Keys{"log_level"});
  CHECK(plan.config.listen.admin.toString() == "127.0.0.1:7400");
  CHECK(plan.config.max_events == 100'000);
  CHECK(plan.config.db_path == "/tmp/db");
  CHECK(plan.config.metrics_listen == running.metrics_listen);
  CHECK(plan.config.log_level == "warn");
}

TEST_CASE("only a region rule's allowed regions changing still counts as a routes change") {
  const auto running = parsed(base() + "routes: {region_rules: [{destination_region: eu, allowed_regions: [eu]}]}\n");
  const auto plan = planControllerReload(
      running, parsed(base() + "routes: {region_rules: [{destination_region: eu, allowed_regions: [eu, us]}]}\n"));
  CHECK(plan.applied == Keys{"routes"});
  CHECK(plan.config.settings.routes.policy.region_rules[0].allowed_regions == Keys{"eu", "us"});
}

}  // namespace
}  // namespace overline::controller
