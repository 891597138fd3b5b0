// The controller's YAML config: defaults, every field, keyed one-line errors.

#include "controller/config/controller_config.h"

#include <catch2/catch.hpp>

#include <fstream>

#include "tests/shipped_configs.h"
#include "tests/unit/controller/temp_dir.h"
#include "tests/unit/controller/test_pki.h"

namespace overline::controller {
namespace {

using testing::testTlsYaml;

std::string minimal() {
  return "db_path: /tmp/db\ntoken: {key_hex: \"00112233445566778899aabbccddeeff\"}\n" + testTlsYaml();
}

std::string parseError(const std::string& yaml) {
  const auto result = parseControllerConfig(yaml);
  REQUIRE_FALSE(result.ok());
  return result.error();
}

TEST_CASE("a minimal config takes the documented defaults") {
  const auto config = parseControllerConfig(minimal());
  REQUIRE(config.ok());
  CHECK(config->listen.relays.toString() == "0.0.0.0:7401");
  CHECK(config->listen.admin.toString() == "127.0.0.1:7400");
  CHECK(config->listen.edge.toString() == "0.0.0.0:7402");
  CHECK(config->tls.identity.role == tls::PeerRole::kController);
  CHECK(config->settings.keys.rotate_interval_s == 86'400);
  CHECK(config->settings.keys.activation_delay_s == 30);
  CHECK(config->settings.keys.retire_after_s == 300);
  CHECK(config->max_events == 100'000);
  CHECK(config->db_path == "/tmp/db");
  CHECK(config->settings.edge.token_key.size() == 16);
  CHECK(config->settings.edge.token_ttl_s == 300);
  CHECK(config->settings.edge.max_candidates == 3);
  CHECK(config->settings.edge.max_load == Approx(0.9));
  CHECK(config->settings.routes.recompute_interval_us == 1 * kSecond);
  CHECK(config->settings.routes.debounce_us == 50 * kMillisecond);
  CHECK(config->settings.routes.link_expiry_us == 10 * kSecond);
  CHECK(config->settings.routes.policy.hysteresis.relative == Approx(0.15));
  CHECK(config->settings.routes.policy.hysteresis.absolute_us == 5 * kMillisecond);
  CHECK(config->settings.relays.probe_interval_ms == 20);
  CHECK(config->settings.relays.report_interval_ms == 1000);
  REQUIRE(config->metrics_listen);
  CHECK(config->metrics_listen->toString() == "127.0.0.1:9465");
  CHECK(config->log_level == "info");
}

TEST_CASE("every field is read") {
  testing::TempDir dir;
  std::ofstream(dir.file("key")) << "  ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100\n";
  const auto config = parseControllerConfig(testTlsYaml() + R"(
listen: {relays: 0.0.0.0:0, admin: 127.0.0.1:7500, edge: 10.0.0.1:443}
keys: {rotate_interval_s: 0, activation_delay_s: 5, retire_after_s: 60}
events: {max_events: 5000}
db_path: db
token: {key_file: ")" + dir.file("key") + R"(", ttl_s: 60}
routes:
  recompute_interval_ms: 250
  debounce_ms: 0
  link_expiry_ms: 3000
  hysteresis_percent: 20
  hysteresis_min_ms: 2
  region_rules:
    - {destination_region: eu, allowed_regions: [eu, eu-east]}
relays: {probe_interval_ms: 50, report_interval_ms: 500}
edge: {max_candidates: 5, max_load_percent: 80}
metrics: {listen: "off"}
log_level: debug
)");
  REQUIRE(config.ok());
  CHECK(config->listen.relays.toString() == "0.0.0.0:0");
  CHECK(config->listen.admin.toString() == "127.0.0.1:7500");
  CHECK(config->listen.edge.toString() == "10.0.0.1:443");
  CHECK(config->settings.keys.rotate_interval_s == 0);
  CHECK(config->settings.keys.activation_delay_s == 5);
  CHECK(config->settings.keys.retire_after_s == 60);
  CHECK(config->max_events == 5000);
  CHECK(config->settings.edge.token_key.size() == 32);
  CHECK(config->settings.edge.token_key[0] == 0xff);
  CHECK(config->settings.edge.token_ttl_s == 60);
  CHECK(config->settings.routes.recompute_interval_us == 250 * kMillisecond);
  CHECK(config->settings.routes.debounce_us == 0);
  CHECK(config->settings.routes.link_expiry_us == 3 * kSecond);
  CHECK(config->settings.routes.policy.hysteresis.relative == Approx(0.2));
  CHECK(config->settings.routes.policy.hysteresis.absolute_us == 2 * kMillisecond);
  REQUIRE(config->settings.routes.policy.region_rules.size() == 1);
  CHECK(config->settings.routes.policy.region_rules[0].allowed_regions == std::vector<std::string>{"eu", "eu-east"});
  CHECK(config->settings.relays.probe_interval_ms == 50);
  CHECK(config->settings.relays.report_interval_ms == 500);
  CHECK(config->settings.edge.max_candidates == 5);
  CHECK(config->settings.edge.max_load == Approx(0.8));
  CHECK_FALSE(config->metrics_listen);
  CHECK(config->log_level == "debug");
}

TEST_CASE("errors are one line naming the key") {
  const std::string token = "token: {key_hex: \"00112233445566778899aabbccddeeff\"}\n" + testTlsYaml();
  CHECK(parseError(token) == "db_path: missing required key");
  CHECK(parseError("db_path: x\n") == "token: missing required key");
  CHECK(parseError("db_path: x\ntoken: {}\n") == "token: expected exactly one of key_hex and key_file");
  CHECK(parseError("db_path: x\ntoken: {key_hex: \"abc\"}\n") == "token.key_hex: odd number of hex digits");
  CHECK(parseError("db_path: x\ntoken: {key_file: /nonexistent/key}\n") ==
        "token.key_file: /nonexistent/key: cannot read file: No such file or directory");
  CHECK(parseError("db_path: x\n" + token + "listen: 127.0.0.1:7400\n") ==
        "listen: expected a mapping of relays, admin and edge listeners (IPv4:port each)");
  CHECK(parseError("db_path: x\n" + token + "listen: {admin: nowhere}\n") ==
        "listen.admin: expected IPv4:port, got \"nowhere\"");
  CHECK(parseError("db_path: x\n" + token + "listen: {admin: 127.0.0.1:7401}\n") ==
        "listen: relays, admin and edge need different ports");
  CHECK(parseError("db_path: x\n" + token + "keys: {rotate_interval_s: 5}\n") ==
        "keys.rotate_interval_s: expected 0 (on demand only) or 60..31536000");
  CHECK(parseError("db_path: x\n" + token + "keys: {activation_delay_s: 0}\n").starts_with("keys.activation_delay_s:"));
  CHECK(parseError("db_path: x\n" + token + "events: {max_events: 10}\n").starts_with("events.max_events:"));
  CHECK(parseError("db_path: x\n" + token + "routes: {debounce_ms: 99999999}\n").starts_with("routes.debounce_ms:"));
  CHECK(parseError("db_path: x\n" + token +
                   "routes: {region_rules: [{destination_region: eu, allowed_regions: [us]}]}\n") ==
        "routes.region_rules[0].allowed_regions: must include destination_region \"eu\"");
  CHECK(parseError("db_path: x\n" + token + "edge: {max_candidates: 0}\n").starts_with("edge.max_candidates:"));
  // One join token names every candidate, at most 8.
  CHECK(parseError("db_path: x\n" + token + "edge: {max_candidates: 9}\n").starts_with("edge.max_candidates:"));
  CHECK(parseError("db_path: x\n" + token + "relays: {probe_ms: 5}\n") == "relays.probe_ms: unknown key");
  CHECK(parseError("db_path: x\n" + token + "metrics: {listen: foo}\n") ==
        "metrics.listen: expected IPv4:port or \"off\", got \"foo\"");
  CHECK(parseError("db_path: x\n" + token + "log_level: loud\n") ==
        "log_level: expected one of trace|debug|info|warn|error, got \"loud\"");
  CHECK(parseError("db_path: [unclosed\n").starts_with("line "));
}

TEST_CASE("the shipped example configs are valid") {
  for (const char* file : {"/deploy/controller.example.yaml", "/deploy/mesh-3region/controller.yaml"}) {
    const auto config = parseControllerConfig(overline::test::withTestMeshKey(std::string(OVERLINE_SOURCE_DIR) + file));
    INFO(file << ": " << (config ? std::string() : config.error()));
    CHECK(config.ok());
  }
}

TEST_CASE("tls errors name the key and the file") {
  const std::string base = "db_path: x\ntoken: {key_hex: \"00112233445566778899aabbccddeeff\"}\n";
  const std::string& dir = testing::testPkiDir();
  CHECK(parseError(base) == "tls: missing required key (the controller's certificate: overlinectl pki)");
  CHECK(parseError(base + "tls: {ca_file: /nonexistent/ca.pem, cert_file: " + dir + "/controller.pem, key_file: " +
                   dir + "/controller.key}\n")
            .starts_with("tls.ca_file: /nonexistent/ca.pem: cannot read file"));
  CHECK(parseError(base + "tls: {ca_file: " + dir + "/ca.pem, cert_file: " + dir + "/controller.pem, key_file: " +
                   dir + "/relay-1.key}\n")
            .starts_with("tls.key_file: " + dir + "/relay-1.key: does not match"));
  CHECK(parseError(base + testTlsYaml("relay-1")) ==
        "tls.cert_file: " + dir + "/relay-1.pem: names relay 1, not a controller (overlinectl pki issue-controller)");
}

}  // namespace
}  // namespace overline::controller
