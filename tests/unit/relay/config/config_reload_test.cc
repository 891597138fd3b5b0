// planReload: which keys of a re-read config take effect at run time.

#include "relay/config/config_reload.h"

#include <catch2/catch.hpp>

#include <string>

#include "tests/unit/relay/test_pki.h"

namespace overline::relay {
namespace {

constexpr const char* kBase = R"(
insecure_lab_mode: true
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
insecure_lab_mode: true
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

namespace overline::relay {
namespace {

constexpr const char* kSecret1 = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
constexpr const char* kSecret2 = "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff000102030405060708090a0b0c0d0e0f";

RelayProcessConfig parseAuthenticated(const std::string& keys) {
  auto config = parseRelayProcessConfig("node_id: 1\nregion: eu\nlines: [{name: a, bind: \"127.0.1.1:40001\"}]\n"
                                        "auth:\n  mesh_keys:\n" + keys);
  INFO(keys);
  REQUIRE(config.ok());
  return config.value();
}

TEST_CASE("mesh keys change at run time: a rotation step is a reload") {
  const RelayProcessConfig running =
      parseAuthenticated(std::string("    - {epoch: 1, secret_hex: \"") + kSecret1 + "\"}\n");
  const RelayProcessConfig next = parseAuthenticated(
      std::string("    - {epoch: 1, secret_hex: \"") + kSecret1 + "\"}\n    - {epoch: 2, secret_hex: \"" + kSecret2 +
      "\", activate_at_unix_s: 1767225600}\n");
  const ReloadPlan plan = planReload(running, next);
  CHECK(plan.applied == std::vector<std::string>{"auth"});
  CHECK(plan.kept.empty());
  REQUIRE(plan.config.core.auth.mesh_keys.size() == 2);
  CHECK(plan.config.core.auth.mesh_keys[1].epoch == 2);
  CHECK(plan.config.core.auth.mesh_keys[1].activate_at_unix_us == 1767225600LL * kSecond);
}

TEST_CASE("switching insecure lab mode needs a restart") {
  const RelayProcessConfig running =
      parseAuthenticated(std::string("    - {epoch: 1, secret_hex: \"") + kSecret1 + "\"}\n");
  auto lab = parseRelayProcessConfig("node_id: 1\nregion: eu\nlines: [{name: a, bind: \"127.0.1.1:40001\"}]\n"
                                     "insecure_lab_mode: true\n");
  REQUIRE(lab.ok());
  const ReloadPlan plan = planReload(running, lab.value());
  CHECK(plan.kept == std::vector<std::string>{"insecure_lab_mode"});
  CHECK_FALSE(plan.config.core.auth.insecure_lab_mode);
}

}  // namespace
}  // namespace overline::relay

namespace overline::relay {
namespace {

std::string controllerYaml(const std::string& tls_stem, const std::string& extra = "") {
  return "node_id: 1\nregion: eu-west\nlines: [{name: isp-a, bind: \"127.0.1.1:40001\"}]\n"
         "controller: {addresses: [\"127.0.0.1:7400\"], " + extra + "tls: {ca_file: \"" + test::testPkiDir() +
         "/ca.pem\", cert_file: \"" + tls_stem + ".pem\", key_file: \"" + tls_stem + ".key\"}}\n";
}

RelayProcessConfig parseFull(const std::string& yaml) {
  auto config = parseRelayProcessConfig(yaml);
  INFO((config.ok() ? std::string() : config.error()));
  REQUIRE(config.ok());
  return config.value();
}

TEST_CASE("controller.tls is re-read on reload for the next connection; the rest of the section is kept") {
  const std::string stem = test::relayCertificate(1);
  const RelayProcessConfig running = parseFull(controllerYaml(stem));
  CHECK(planReload(running, parseFull(controllerYaml(stem))).applied.empty());

  // A renewed certificate at the same paths: new contents, applied.
  const auto renewed = tls::issueCertificate(
      test::testPkiDir(), {tls::PeerIdentity{tls::PeerRole::kRelay, 1, {}}, tls::validFor(test::unixNow(), 2), {}});
  REQUIRE(renewed.ok());
  const RelayProcessConfig loaded = parseFull(controllerYaml(stem, "report_interval_ms: 500, "));
  REQUIRE(loaded.controller->tls.files.cert_pem != running.controller->tls.files.cert_pem);
  const ReloadPlan plan = planReload(running, loaded);
  CHECK(plan.applied == std::vector<std::string>{"controller.tls"});
  CHECK(plan.kept == std::vector<std::string>{"controller"});
  CHECK(plan.config.controller->tls == loaded.controller->tls);
  CHECK(plan.config.controller->report_interval_ms == running.controller->report_interval_ms);
}

TEST_CASE("removing auth on reload is kept; adding or rotating mesh keys applies") {
  const std::string stem = test::relayCertificate(1);
  const std::string auth =
      "auth: {mesh_keys: [{epoch: 1, secret_hex: \"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\"}]}\n";
  const RelayProcessConfig with_auth = parseFull(controllerYaml(stem) + auth);
  const RelayProcessConfig without_auth = parseFull(controllerYaml(stem));
  const ReloadPlan removed = planReload(with_auth, without_auth);
  CHECK(removed.kept == std::vector<std::string>{"auth"});
  CHECK(removed.config.core.auth.mesh_keys == with_auth.core.auth.mesh_keys);
  const ReloadPlan added = planReload(without_auth, with_auth);
  CHECK(added.applied == std::vector<std::string>{"auth"});
  CHECK(added.config.core.auth.mesh_keys == with_auth.core.auth.mesh_keys);
}

}  // namespace
}  // namespace overline::relay
