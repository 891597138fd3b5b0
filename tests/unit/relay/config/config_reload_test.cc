// planReload: which keys of a re-read config take effect at run time.

#include "relay/config/config_reload.h"

#include <catch2/catch.hpp>

#include <string>

namespace overline::relay {
namespace {

constexpr const char* kBase = R"(
node_id: 1
region: eu-west
lines:
  - name: isp-a
    bind: 127.0.1.1:40001
)";

RelayProcessConfig parse(const std::string& extra) {
  auto config = parseRelayProcessConfig(std::string(kBase) + extra);
  INFO(extra);
  REQUIRE(config.ok());
  return config.value();
}

TEST_CASE("an unchanged file changes nothing") {
  const RelayProcessConfig running = parse("probing: {interval_ms: 20}\n");
  const ReloadPlan plan = planReload(running, parse("probing: {interval_ms: 20}\n"));
  CHECK(plan.applied.empty());
  CHECK(plan.kept.empty());
}

TEST_CASE("log level, probing and join take effect") {
  const RelayProcessConfig running = parse("");
  const ReloadPlan plan = planReload(
      running, parse("log_level: debug\nprobing: {interval_ms: 50, down_after_ms: 300}\n"
                     "join: {key_hex: \"000102030405060708090a0b0c0d0e0f\"}\n"));
  CHECK(plan.applied == std::vector<std::string>{"log_level", "probing", "join"});
  CHECK(plan.kept.empty());
  CHECK(plan.config.log_level == "debug");
  CHECK(plan.config.core.probing.interval_us == 50 * kMillisecond);
  CHECK(plan.config.core.probing.down_after_us == 300 * kMillisecond);
  CHECK(plan.config.core.join.require_token);
}

TEST_CASE("keys bound at start-up keep their running values and are named") {
  const RelayProcessConfig running = parse("");
  const std::string changed = R"(
node_id: 2
region: us-east
lines:
  - name: isp-b
    bind: 127.0.1.1:40002
metrics: {listen: off}
probing: {loss_window: 50, interval_ms: 40}
recovery: {nack: false}
)";
  auto loaded = parseRelayProcessConfig(changed);
  REQUIRE(loaded.ok());
  const ReloadPlan plan = planReload(running, loaded.value());
  CHECK(plan.kept ==
        std::vector<std::string>{"node_id", "region", "lines", "recovery", "metrics", "probing.loss_window"});
  CHECK(plan.applied == std::vector<std::string>{"probing"});
  CHECK(plan.config.core.node_id == 1);
  CHECK(plan.config.region == "eu-west");
  CHECK(plan.config.lines == running.lines);
  CHECK(plan.config.metrics_listen == running.metrics_listen);
  CHECK(plan.config.core.probing.loss_window == running.core.probing.loss_window);
  CHECK(plan.config.core.probing.interval_us == 40 * kMillisecond);
  CHECK(plan.config.core.recovery.nack);
}

}  // namespace
}  // namespace overline::relay
