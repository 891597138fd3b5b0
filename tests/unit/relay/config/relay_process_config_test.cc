#include "relay/config/relay_process_config.h"

#include <catch2/catch.hpp>

#include <map>
#include <string>
#include <vector>

#include "tests/shipped_configs.h"
#include "tests/unit/relay/test_pki.h"

namespace overline::relay {
namespace {

// The smallest valid config; error cases append or replace one piece of it.
constexpr const char* kMinimal = R"(
node_id: 1
region: eu-west
lines:
  - name: isp-a
    bind: 127.0.1.1:40001
insecure_lab_mode: true
)";
using overline::test::withTestMeshKey;


// Most cases here are about other keys: they run in insecure lab mode
// unless their text configures auth itself.
Result<RelayProcessConfig, std::string> parseLab(const std::string& yaml) {
  if (yaml.find("auth:") != std::string::npos || yaml.find("insecure_lab_mode") != std::string::npos ||
      yaml.find("node_id") == std::string::npos) {
    return parseRelayProcessConfig(yaml);
  }
  return parseRelayProcessConfig(yaml + "\ninsecure_lab_mode: true\n");
}

std::string parseError(const std::string& yaml) {
  const auto result = parseLab(yaml);
  REQUIRE_FALSE(result.ok());
  return result.error();
}

TEST_CASE("a full config is read into every field") {
  const auto result = parseLab(R"(
node_id: 7
region: ap-south
lines:
  - name: isp-a
    bind: 127.0.1.1:40001
  - name: isp_b-2
    bind: 127.0.1.2:0
neighbours:
  - node_id: 2
    lines: ["127.0.2.1:40001", "127.0.2.2:40001"]
  - node_id: 3
    lines: ["127.0.3.1:40001"]
routes:
  - destination: 4
    next_hop: 2
  - destination: 5
    next_hop: 3
    backup: 2
subscriptions:
  refresh_interval_ms: 200
  expiry_ms: 900
limits: {max_clients: 10, max_streams: 20, max_subscriptions_per_client: 3, client_expiry_ms: 2500}
probing: {interval_ms: 10, down_after_ms: 60, up_after_acks: 3, loss_window: 50, degraded_loss_percent: 25,
          recovered_loss_percent: 5, degraded_rtt_ms: 150}
path_choice: {switch_margin_percent: 30, min_margin_ms: 4, switch_hold_ms: 2000}
failover: {failback_hold_ms: 5000}
metrics:
  listen: 0.0.0.0:0
socket_buffer_bytes: 65536
log_level: debug
)");
  REQUIRE(result.ok());
  const RelayProcessConfig& config = result.value();
  CHECK(config.core.node_id == 7);
  CHECK(config.region == "ap-south");
  REQUIRE(config.lines.size() == 2);
  CHECK(config.core.line_count == 2);
  CHECK(config.lines[0].name == "isp-a");
  CHECK(config.lines[0].bind == *Endpoint::parse("127.0.1.1:40001"));
  CHECK(config.lines[1].name == "isp_b-2");
  CHECK(config.lines[1].bind == *Endpoint::parse("127.0.1.2:0"));
  REQUIRE(config.core.neighbours.size() == 2);
  CHECK(config.core.neighbours[0].node_id == 2);
  CHECK(config.core.neighbours[0].lines ==
        std::vector<Endpoint>{*Endpoint::parse("127.0.2.1:40001"), *Endpoint::parse("127.0.2.2:40001")});
  CHECK(config.core.neighbours[1].node_id == 3);
  CHECK(config.core.neighbours[1].lines == std::vector<Endpoint>{*Endpoint::parse("127.0.3.1:40001")});
  REQUIRE(config.core.routes != nullptr);
  CHECK(config.core.routes->entries == std::map<NodeId, RouteEntry>{{4, {2, kNoNode}}, {5, {3, 2}}});
  CHECK(config.core.subscriptions.refresh_interval_us == 200 * kMillisecond);
  CHECK(config.core.subscriptions.expiry_us == 900 * kMillisecond);
  CHECK(config.core.limits.max_clients == 10);
  CHECK(config.core.limits.max_streams == 20);
  CHECK(config.core.limits.max_subscriptions_per_client == 3);
  CHECK(config.core.limits.client_expiry_us == 2500 * kMillisecond);
  const ProbingConfig& probing = config.core.probing;
  CHECK(probing.interval_us == 10 * kMillisecond);
  CHECK(probing.down_after_us == 60 * kMillisecond);
  CHECK(probing.up_after_acks == 3);
  CHECK(probing.loss_window == 50);
  CHECK(probing.degraded_loss == Approx(0.25));
  CHECK(probing.recovered_loss == Approx(0.05));
  CHECK(probing.degraded_rtt_us == 150 * kMillisecond);
  CHECK(config.core.path_choice.switch_margin == Approx(0.30));
  CHECK(config.core.path_choice.min_margin_us == 4 * kMillisecond);
  CHECK(config.core.path_choice.switch_hold_us == 2 * kSecond);
  CHECK(config.core.failover.failback_hold_us == 5 * kSecond);
  REQUIRE(config.metrics_listen.has_value());
  CHECK(*config.metrics_listen == *Endpoint::parse("0.0.0.0:0"));
  CHECK(config.socket_buffer_bytes == 65536);
  CHECK(config.log_level == "debug");
}

TEST_CASE("optional keys take their documented defaults") {
  const auto result = parseLab(kMinimal);
  REQUIRE(result.ok());
  const RelayProcessConfig& config = result.value();
  const RelayCoreConfig core_defaults;
  CHECK(config.core.neighbours.empty());
  REQUIRE(config.core.routes != nullptr);
  CHECK(config.core.routes->entries.empty());
  CHECK(config.core.subscriptions.refresh_interval_us == 500 * kMillisecond);
  CHECK(config.core.subscriptions.expiry_us == 1500 * kMillisecond);
  CHECK(config.core.limits.max_clients == core_defaults.limits.max_clients);
  CHECK(config.core.limits.max_streams == core_defaults.limits.max_streams);
  CHECK(config.core.limits.max_subscriptions_per_client == core_defaults.limits.max_subscriptions_per_client);
  CHECK(config.core.limits.client_expiry_us == core_defaults.limits.client_expiry_us);
  const ProbingConfig& probing = config.core.probing;
  CHECK(probing.interval_us == 20 * kMillisecond);
  CHECK(probing.down_after_us == 100 * kMillisecond);
  CHECK(probing.up_after_acks == 5);
  CHECK(probing.loss_window == 100);
  CHECK(probing.degraded_loss == Approx(0.10));
  CHECK(probing.recovered_loss == Approx(0.03));
  CHECK(probing.degraded_rtt_us == 0);
  CHECK(config.core.path_choice.switch_margin == Approx(0.20));
  CHECK(config.core.path_choice.min_margin_us == 2 * kMillisecond);
  CHECK(config.core.path_choice.switch_hold_us == 1 * kSecond);
  CHECK(config.core.failover.failback_hold_us == 3 * kSecond);
  REQUIRE(config.metrics_listen.has_value());
  CHECK(*config.metrics_listen == *Endpoint::parse("127.0.0.1:9464"));
  CHECK(config.socket_buffer_bytes == 4194304);
  CHECK(config.log_level == "info");
}

TEST_CASE("empty optional sections read as absent") {
  const auto result = parseLab(std::string(kMinimal) +
                                              "neighbours:\nroutes:\nsubscriptions:\nlimits:\nprobing:\npath_choice:\n"
                                              "failover:\nmetrics:\n");
  REQUIRE(result.ok());
  CHECK(result.value().core.neighbours.empty());
  CHECK(result.value().metrics_listen.has_value());
}

TEST_CASE("metrics listen off disables metrics") {
  const auto result = parseLab(std::string(kMinimal) + "metrics: {listen: off}\n");
  REQUIRE(result.ok());
  CHECK_FALSE(result.value().metrics_listen.has_value());
}

TEST_CASE("the shipped example config is valid") {
  const auto result = parseRelayProcessConfig(withTestMeshKey(OVERLINE_SOURCE_DIR "/deploy/relay.example.yaml"));
  INFO((result.ok() ? std::string() : result.error()));
  REQUIRE(result.ok());
  CHECK(result.value().lines.size() == 2);
  CHECK(result.value().core.neighbours.size() == 2);
  CHECK(result.value().core.routes->entries.at(4) == RouteEntry{2, 3});
}

TEST_CASE("loading a missing file names the problem") {
  const auto result = loadRelayProcessConfig("/nonexistent/overline/relay.yaml");
  REQUIRE_FALSE(result.ok());
  CHECK(result.error() == "cannot read file: No such file or directory");
}

TEST_CASE("required keys are reported by path when missing") {
  CHECK(parseError("region: x\nlines: [{name: a, bind: 127.0.0.1:1}]\n") == "node_id: missing required key");
  CHECK(parseError("node_id: 1\nlines: [{name: a, bind: 127.0.0.1:1}]\n") == "region: missing required key");
  CHECK(parseError("node_id: 1\nregion: x\n") == "lines: missing required key");
  CHECK(parseError("node_id: 1\nregion: x\nlines: [{bind: 127.0.0.1:1}]\n") ==
        "lines[0].name: missing required key");
  CHECK(parseError("node_id: 1\nregion: x\nlines: [{name: a}]\n") == "lines[0].bind: missing required key");
  CHECK(parseError(std::string(kMinimal) + "neighbours: [{lines: [\"1.2.3.4:5\"]}]\n") ==
        "neighbours[0].node_id: missing required key");
  CHECK(parseError(std::string(kMinimal) + "neighbours: [{node_id: 2}]\n") ==
        "neighbours[0].lines: missing required key");
  CHECK(parseError(std::string(kMinimal) + "neighbours: [{node_id: 2, lines: [\"1.2.3.4:5\"]}]\n" +
                   "routes: [{destination: 3}]\n") == "routes[0].next_hop: missing required key");
}

TEST_CASE("unknown and duplicate keys are errors") {
  CHECK(parseError(std::string(kMinimal) + "colour: blue\n") == "colour: unknown key");
  CHECK(parseError(std::string(kMinimal) + "neighbours: [{node_id: 2, line: [\"1.2.3.4:5\"]}]\n") ==
        "neighbours[0].line: unknown key");
  CHECK(parseError(std::string(kMinimal) + "limits: {max_client: 5}\n") == "limits.max_client: unknown key");
  CHECK(parseError(std::string(kMinimal) + "region: again\n") == "region: duplicate key");
}

TEST_CASE("values of the wrong form name the key path") {
  CHECK(parseError(
            "node_id: 1\nregion: x\nlines:\n  - {name: a, bind: 127.0.0.1:1}\n  - {name: b, bind: foo}\n") ==
        "lines[1].bind: expected IPv4:port, got \"foo\"");
  CHECK(parseError("node_id: one\nregion: x\nlines: [{name: a, bind: 127.0.0.1:1}]\n") ==
        "node_id: expected an integer in 1..4294967295, got \"one\"");
  CHECK(parseError("node_id: 0\nregion: x\nlines: [{name: a, bind: 127.0.0.1:1}]\n") ==
        "node_id: 0 is out of range 1..4294967295");
  CHECK(parseError("node_id: 4294967296\nregion: x\nlines: [{name: a, bind: 127.0.0.1:1}]\n") ==
        "node_id: 4294967296 is out of range 1..4294967295");
  CHECK(parseError("node_id: -3\nregion: x\nlines: [{name: a, bind: 127.0.0.1:1}]\n") ==
        "node_id: expected an integer in 1..4294967295, got \"-3\"");
  CHECK(parseError("node_id: 1\nregion: [a]\nlines: [{name: a, bind: 127.0.0.1:1}]\n") ==
        "region: expected a string, got a sequence");
  CHECK(parseError("node_id: 1\nregion: \"\"\nlines: [{name: a, bind: 127.0.0.1:1}]\n") ==
        "region: must not be empty");
  CHECK(parseError("node_id: 1\nregion: x\nlines: {name: a}\n") ==
        "lines: expected a sequence, got a mapping");
  CHECK(parseError("node_id: 1\nregion: x\nlines: []\n") == "lines: expected 1..256 entries, got 0");
  CHECK(parseError("node_id: 1\nregion: x\nlines: [7]\n") == "lines[0]: expected a mapping, got a scalar");
  CHECK(parseError(std::string(kMinimal) + "metrics: {listen: everywhere}\n") ==
        "metrics.listen: expected IPv4:port or \"off\", got \"everywhere\"");
  CHECK(parseError(std::string(kMinimal) + "socket_buffer_bytes: 10\n") ==
        "socket_buffer_bytes: 10 is out of range 4096..1073741824");
  CHECK(parseError(std::string(kMinimal) + "log_level: verbose\n") ==
        "log_level: expected one of trace|debug|info|warn|error, got \"verbose\"");
  CHECK(parseError(std::string(kMinimal) + "limits: {client_expiry_ms: 0}\n") ==
        "limits.client_expiry_ms: 0 is out of range 1..86400000");
}

TEST_CASE("line names and binds are validated") {
  CHECK(parseError("node_id: 1\nregion: x\nlines: [{name: ISP A, bind: 127.0.0.1:1}]\n") ==
        "lines[0].name: \"ISP A\" must be 1..32 characters of [a-z0-9_-]");
  CHECK(parseError("node_id: 1\nregion: x\nlines:\n  - {name: a, bind: 127.0.0.1:1}\n"
                   "  - {name: a, bind: 127.0.0.1:2}\n") ==
        "lines[1].name: \"a\" is already used by lines[0]");
  CHECK(parseError("node_id: 1\nregion: x\nlines:\n  - {name: a, bind: 127.0.0.1:1}\n"
                   "  - {name: b, bind: 127.0.0.1:1}\n") ==
        "lines[1].bind: 127.0.0.1:1 is already used by lines[0]");
  // Two ephemeral binds on one address get different ports from the kernel.
  CHECK(parseLab("node_id: 1\nregion: x\nlines:\n  - {name: a, bind: 127.0.0.1:0}\n"
                                "  - {name: b, bind: 127.0.0.1:0}\n")
            .ok());
}

TEST_CASE("neighbours are validated against the node and each other") {
  CHECK(parseError(std::string(kMinimal) + "neighbours: [{node_id: 1, lines: [\"1.2.3.4:5\"]}]\n") ==
        "neighbours[0].node_id: 1 is this node's own node_id");
  CHECK(parseError(std::string(kMinimal) + "neighbours:\n  - {node_id: 2, lines: [\"1.2.3.4:5\"]}\n  - "
                                           "{node_id: 2, lines: [\"1.2.3.4:6\"]}\n") ==
        "neighbours[1].node_id: 2 is already configured by neighbours[0]");
  CHECK(parseError(std::string(kMinimal) + "neighbours: [{node_id: 2, lines: []}]\n") ==
        "neighbours[0].lines: expected 1..256 entries, got 0");
  CHECK(parseError(std::string(kMinimal) + "neighbours: [{node_id: 2, lines: [\"1.2.3.4:5\", nope]}]\n") ==
        "neighbours[0].lines[1]: expected IPv4:port, got \"nope\"");
  CHECK(parseError(std::string(kMinimal) + "neighbours: [{node_id: 2, lines: [\"1.2.3.4:0\"]}]\n") ==
        "neighbours[0].lines[0]: port 0 is not a valid destination");
  CHECK(parseError(std::string(kMinimal) + "neighbours:\n  - {node_id: 2, lines: [\"1.2.3.4:5\"]}\n  - "
                                           "{node_id: 3, lines: [\"1.2.3.4:5\"]}\n") ==
        "neighbours[1].lines[0]: 1.2.3.4:5 is already a line of neighbour 2");
}

TEST_CASE("routes must lead to configured neighbours") {
  const std::string with_neighbour =
      std::string(kMinimal) + "neighbours: [{node_id: 2, lines: [\"1.2.3.4:5\"]}]\n";
  CHECK(parseError(with_neighbour + "routes: [{destination: 4, next_hop: 7}]\n") ==
        "routes[0].next_hop: 7 is not a configured neighbour");
  CHECK(parseError(with_neighbour + "routes: [{destination: 1, next_hop: 2}]\n") ==
        "routes[0].destination: 1 is this node's own node_id");
  CHECK(parseError(with_neighbour +
                   "routes:\n  - {destination: 4, next_hop: 2}\n  - {destination: 4, next_hop: 2}\n") ==
        "routes[1].destination: 4 already has a route in routes[0]");
}

TEST_CASE("a route's backup must be another configured neighbour") {
  const std::string with_neighbours = std::string(kMinimal) +
                                      "neighbours:\n  - {node_id: 2, lines: [\"1.2.3.4:5\"]}\n"
                                      "  - {node_id: 3, lines: [\"1.2.3.5:5\"]}\n";
  const auto ok = parseLab(with_neighbours +
                                          "routes:\n  - {destination: 4, next_hop: 2, backup: 3}\n"
                                          "  - {destination: 3, next_hop: 3, backup: 2}\n");
  INFO((ok.ok() ? std::string() : ok.error()));
  REQUIRE(ok.ok());
  // A direct neighbour may be its own primary, so that it gets a backup.
  CHECK(ok.value().core.routes->entries == std::map<NodeId, RouteEntry>{{3, {3, 2}}, {4, {2, 3}}});

  CHECK(parseError(with_neighbours + "routes: [{destination: 4, next_hop: 2, backup: 7}]\n") ==
        "routes[0].backup: 7 is not a configured neighbour");
  CHECK(parseError(with_neighbours + "routes: [{destination: 4, next_hop: 2, backup: 2}]\n") ==
        "routes[0].backup: 2 must differ from next_hop");
  CHECK(parseError(with_neighbours + "routes: [{destination: 4, next_hop: 2, backup: 0}]\n") ==
        "routes[0].backup: 0 is out of range 1..4294967295");
  // Like every optional key, a null backup reads as absent.
  const auto null_backup =
      parseLab(with_neighbours + "routes: [{destination: 4, next_hop: 2, backup: }]\n");
  REQUIRE(null_backup.ok());
  CHECK(null_backup.value().core.routes->entries.at(4) == RouteEntry{2, kNoNode});
}

TEST_CASE("probing, path_choice and failover values are range-checked") {
  const std::string base(kMinimal);
  CHECK(parseError(base + "probing: {interval_ms: 4}\n") == "probing.interval_ms: 4 is out of range 5..60000");
  CHECK(parseError(base + "probing: {interval_ms: 100}\n") ==
        "probing.down_after_ms: 100 must be greater than interval_ms (100)");
  CHECK(parseError(base + "probing: {interval_ms: 50, down_after_ms: 40}\n") ==
        "probing.down_after_ms: 40 must be greater than interval_ms (50)");
  CHECK(parseError(base + "probing: {up_after_acks: 0}\n") == "probing.up_after_acks: 0 is out of range 1..1000");
  CHECK(parseError(base + "probing: {loss_window: 9}\n") == "probing.loss_window: 9 is out of range 10..10000");
  CHECK(parseError(base + "probing: {degraded_loss_percent: 101}\n") ==
        "probing.degraded_loss_percent: 101 is out of range 1..100");
  CHECK(parseError(base + "probing: {degraded_loss_percent: 3}\n") ==
        "probing.recovered_loss_percent: 3 must be less than degraded_loss_percent (3)");
  CHECK(parseError(base + "probing: {degraded_loss_percent: 20, recovered_loss_percent: 25}\n") ==
        "probing.recovered_loss_percent: 25 must be less than degraded_loss_percent (20)");
  CHECK(parseError(base + "probing: {degraded_rtt_ms: 60001}\n") ==
        "probing.degraded_rtt_ms: 60001 is out of range 0..60000");
  CHECK(parseError(base + "probing: {interval: 20}\n") == "probing.interval: unknown key");
  CHECK(parseError(base + "path_choice: {switch_margin_percent: 100}\n") ==
        "path_choice.switch_margin_percent: 100 is out of range 0..99");
  CHECK(parseError(base + "path_choice: {switch_hold_ms: 3600001}\n") ==
        "path_choice.switch_hold_ms: 3600001 is out of range 0..3600000");
  CHECK(parseError(base + "failover: {failback_hold_ms: -1}\n") ==
        "failover.failback_hold_ms: expected an integer in 0..3600000, got \"-1\"");
  CHECK(parseError(base + "failover: {hold_ms: 1}\n") == "failover.hold_ms: unknown key");

  // Zero turns the RTT rule, the margins and the holds off.
  const auto zeros = parseLab(
      base + "probing: {degraded_rtt_ms: 0, recovered_loss_percent: 0}\n"
             "path_choice: {switch_margin_percent: 0, min_margin_ms: 0, switch_hold_ms: 0}\n"
             "failover: {failback_hold_ms: 0}\n");
  REQUIRE(zeros.ok());
  CHECK(zeros.value().core.path_choice.switch_hold_us == 0);
  CHECK(zeros.value().core.failover.failback_hold_us == 0);
  CHECK(zeros.value().core.probing.recovered_loss == 0);
}

TEST_CASE("the recovery section is read, defaulted and range-checked") {
  const std::string base(kMinimal);
  const auto defaults = parseLab(base);
  REQUIRE(defaults.ok());
  CHECK(defaults.value().core.recovery == RecoveryConfig{});
  CHECK(defaults.value().core.recovery.nack);
  CHECK(defaults.value().core.recovery.fec);
  CHECK(defaults.value().core.recovery.default_latency_budget_us == 400 * kMillisecond);

  const auto full = parseLab(
      base + "recovery: {nack: false, fec: false, reorder_allowance_ms: 8, default_latency_budget_ms: 250,\n"
             "           retransmit_buffer_packets: 4096, retransmit_buffer_bytes: 2097152}\n");
  REQUIRE(full.ok());
  const RecoveryConfig& recovery = full.value().core.recovery;
  CHECK_FALSE(recovery.nack);
  CHECK_FALSE(recovery.fec);
  CHECK(recovery.reorder_allowance_us == 8 * kMillisecond);
  CHECK(recovery.default_latency_budget_us == 250 * kMillisecond);
  CHECK(recovery.retransmit_buffer_packets == 4096);
  CHECK(recovery.retransmit_buffer_bytes == 2097152);

  CHECK(parseError(base + "recovery: {nack: yes}\n") == "recovery.nack: expected true or false, got \"yes\"");
  CHECK(parseError(base + "recovery: {fec: [1]}\n") == "recovery.fec: expected true or false, got \"a sequence\"");
  CHECK(parseError(base + "recovery: {reorder_allowance_ms: 1001}\n") ==
        "recovery.reorder_allowance_ms: 1001 is out of range 0..1000");
  CHECK(parseError(base + "recovery: {reorder_allowance_ms: 20, default_latency_budget_ms: 20}\n") ==
        "recovery.reorder_allowance_ms: 20 must be less than default_latency_budget_ms (20)");
  CHECK(parseError(base + "recovery: {default_latency_budget_ms: 9}\n") ==
        "recovery.default_latency_budget_ms: 9 is out of range 10..60000");
  CHECK(parseError(base + "recovery: {retransmit_buffer_packets: 15}\n") ==
        "recovery.retransmit_buffer_packets: 15 is out of range 16..65536");
  CHECK(parseError(base + "recovery: {retransmit_buffer_bytes: 1000}\n") ==
        "recovery.retransmit_buffer_bytes: 1000 is out of range 1048576..17179869184");
  CHECK(parseError(base + "recovery: {arq: true}\n") == "recovery.arq: unknown key");
}

TEST_CASE("subscription expiry must exceed the refresh interval") {
  CHECK(parseError(std::string(kMinimal) + "subscriptions: {refresh_interval_ms: 500, expiry_ms: 500}\n") ==
        "subscriptions.expiry_ms: 500 must be greater than refresh_interval_ms (500)");
  CHECK(parseError(std::string(kMinimal) + "subscriptions: {refresh_interval_ms: 2000}\n") ==
        "subscriptions.expiry_ms: 1500 must be greater than refresh_interval_ms (2000)");
}

TEST_CASE("the first error wins") {
  // node_id is bad and so is a line; only node_id, the first problem, is reported.
  CHECK(parseError("node_id: 0\nregion: x\nlines: [{name: a, bind: foo}]\n") ==
        "node_id: 0 is out of range 1..4294967295");
}

TEST_CASE("YAML syntax errors carry line and column") {
  const std::string error = parseError("node_id: 1\nregion: [eu\nlines: x\n");
  CHECK(error.rfind("line ", 0) == 0);
  CHECK(error.find(", column ") != std::string::npos);
}

TEST_CASE("a document that is not a mapping is rejected") {
  CHECK(parseError("") == "expected a mapping at the top level, got null");
  CHECK(parseError("- 1\n- 2\n") == "expected a mapping at the top level, got a sequence");
}

TEST_CASE("lines take public and isp, defaulting to the bound address and the name") {
  const auto result = parseLab(R"(
node_id: 1
region: eu
lines:
  - {name: a, bind: "127.0.1.1:0"}
  - {name: b, bind: "127.0.1.2:0", public: "203.0.113.2:40001", isp: telco}
)");
  REQUIRE(result.ok());
  const RelayProcessConfig& config = result.value();
  REQUIRE(config.advertised_lines.size() == 2);
  CHECK_FALSE(config.advertised_lines[0].public_address.has_value());
  CHECK(config.advertised_lines[0].isp == "a");
  CHECK(config.advertised_lines[1].public_address == Endpoint::parse("203.0.113.2:40001"));
  CHECK(config.advertised_lines[1].isp == "telco");
  CHECK_FALSE(config.controller.has_value());
}

TEST_CASE("the controller section is read with its defaults") {
  const auto result = parseLab(std::string(kMinimal) +
                               "controller:\n  addresses: [\"ctl.example:7400\", \"127.0.0.1:7401\"]\n  tls: " +
                               test::relayTlsYaml(1) + "\n");
  REQUIRE(result.ok());
  REQUIRE(result.value().controller.has_value());
  const ControllerClientConfig& controller = *result.value().controller;
  CHECK(controller.addresses == std::vector<std::string>{"ctl.example:7400", "127.0.0.1:7401"});
  CHECK(controller.report_interval_ms == 1000);
  CHECK(controller.backoff_initial_ms == 200);
  CHECK(controller.backoff_max_ms == 5000);
  CHECK(controller.capacity_bps == 1'000'000'000);
  CHECK(controller.drain_timeout_ms == 10'000);
  CHECK(controller.tls.server_name == "overline-controller");
  CHECK(controller.tls.files.identity == tls::PeerIdentity{tls::PeerRole::kRelay, 1, {}});
  CHECK(controller.tls.files.cert_file == test::relayCertificate(1) + ".pem");
  CHECK_FALSE(controller.tls.files.key_pem.empty());

  const std::string stem = test::relayCertificate(1);
  const auto full = parseLab(std::string(kMinimal) +
                             "controller: {addresses: [\"h:1\"], report_interval_ms: 250, "
                             "backoff_initial_ms: 50, backoff_max_ms: 400, capacity_bps: 5000, "
                             "drain_timeout_ms: 0, tls: {ca_file: \"" + test::testPkiDir() + "/ca.pem\", "
                             "cert_file: \"" + stem + ".pem\", key_file: \"" + stem + ".key\", "
                             "server_name: ctl.internal}}\n");
  INFO((full.ok() ? std::string() : full.error()));
  REQUIRE(full.ok());
  CHECK(full.value().controller->drain_timeout_ms == 0);
  CHECK(full.value().controller->report_interval_ms == 250);
  CHECK(full.value().controller->backoff_initial_ms == 50);
  CHECK(full.value().controller->backoff_max_ms == 400);
  CHECK(full.value().controller->capacity_bps == 5000);
  CHECK(full.value().controller->tls.server_name == "ctl.internal");
}

TEST_CASE("bad line and controller keys are one line naming the key") {
  const std::string base = kMinimal;
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"node_id: 1\nregion: eu\nlines:\n  - {name: a, bind: \"127.0.1.1:1\", public: \"x\"}\n",
       "lines[0].public: expected IPv4:port"},
      {"node_id: 1\nregion: eu\nlines:\n  - {name: a, bind: \"127.0.1.1:1\", public: \"1.2.3.4:0\"}\n",
       "lines[0].public: port 0 is not a valid destination"},
      {"node_id: 1\nregion: eu\nlines:\n  - {name: a, bind: \"127.0.1.1:1\", isp: \"\"}\n", "lines[0].isp: must be 1..64"},
      {base + "controller: {}\n", "controller.addresses: missing required key"},
      {base + "controller: {addresses: []}\n", "controller.addresses: expected 1..16 entries, got 0"},
      {base + "controller: {addresses: [\"nohost\"]}\n", "controller.addresses[0]: expected HOST:PORT, got \"nohost\""},
      {base + "controller: {addresses: [\"h:70000\"]}\n", "controller.addresses[0]: expected HOST:PORT"},
      {base + "controller: {addresses: [\"h:1\"], report_interval_ms: 50}\n", "controller.report_interval_ms"},
      {base + "controller: {addresses: [\"h:1\"], drain_timeout_ms: 600001}\n", "controller.drain_timeout_ms"},
      {base + "controller: {addresses: [\"h:1\"], backoff_initial_ms: 500, backoff_max_ms: 100}\n",
       "controller.backoff_max_ms: 100 must be at least backoff_initial_ms (500)"},
      {base + "controller: {addresses: [\"h:1\"], capacity_bps: 0}\n", "controller.capacity_bps"},
      {base + "controller: {addresses: [\"h:1\"], bogus: 1}\n", "controller.bogus: unknown key"},
  };
  for (const auto& [yaml, expected] : cases) {
    INFO(yaml);
    const std::string error = parseError(yaml);
    CHECK(error.find(expected) != std::string::npos);
    CHECK(error.find('\n') == std::string::npos);
  }
}

}  // namespace
}  // namespace overline::relay

namespace overline::relay {
namespace {

TEST_CASE("a relay needs auth or an explicit insecure_lab_mode") {
  const std::string base = "node_id: 1\nregion: eu\nlines: [{name: a, bind: \"127.0.1.1:40001\"}]\n";
  const auto missing = parseRelayProcessConfig(base);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().rfind("auth: missing", 0) == 0);
  const std::string key = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
  const auto both = parseRelayProcessConfig(base + "insecure_lab_mode: true\nauth: {mesh_keys: [{epoch: 1, secret_hex: \"" +
                                            key + "\"}]}\n");
  REQUIRE_FALSE(both.ok());
  CHECK(both.error().rfind("insecure_lab_mode: ", 0) == 0);
  const auto short_secret = parseRelayProcessConfig(base + "auth: {mesh_keys: [{epoch: 1, secret_hex: \"00ff\"}]}\n");
  REQUIRE_FALSE(short_secret.ok());
  CHECK(short_secret.error().rfind("auth.mesh_keys[0].secret_hex: ", 0) == 0);
  const auto twice = parseRelayProcessConfig(base + "auth: {mesh_keys: [{epoch: 1, secret_hex: \"" + key +
                                             "\"}, {epoch: 1, secret_hex: \"" + key + "\"}]}\n");
  REQUIRE_FALSE(twice.ok());
  CHECK(twice.error().rfind("auth.mesh_keys[1].epoch: 1 appears twice", 0) == 0);
  const auto zero = parseRelayProcessConfig(base + "auth: {mesh_keys: [{epoch: 0, secret_hex: \"" + key + "\"}]}\n");
  REQUIRE_FALSE(zero.ok());
  const auto good = parseRelayProcessConfig(base + "auth: {mesh_keys: [{epoch: 3, secret_hex: \"" + key + "\"}]}\n");
  REQUIRE(good.ok());
  CHECK_FALSE(good.value().core.auth.insecure_lab_mode);
  REQUIRE(good.value().core.auth.mesh_keys.size() == 1);
  CHECK(good.value().core.auth.mesh_keys[0].epoch == 3);
  CHECK(good.value().core.auth.mesh_keys[0].secret.size() == 32);
}

}  // namespace
}  // namespace overline::relay

namespace overline::relay {
namespace {

const std::string kKeyHex = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

// kMinimal without lab mode, node 7, with a controller whose tls section is `tls`.
std::string withController(const std::string& tls, NodeId node = 7) {
  return "node_id: " + std::to_string(node) + "\nregion: eu\nlines: [{name: a, bind: \"127.0.1.1:40001\"}]\n" +
         "controller: {addresses: [\"127.0.0.1:7400\"], tls: " + tls + "}\n";
}

std::string tlsOf(const std::string& ca, const std::string& cert, const std::string& key) {
  return "{ca_file: \"" + ca + "\", cert_file: \"" + cert + "\", key_file: \"" + key + "\"}";
}

TEST_CASE("controller.tls errors are one line naming the key and the file") {
  const std::string ca = test::testPkiDir() + "/ca.pem";
  const std::string seven = test::relayCertificate(7);
  const std::string eight = test::relayCertificate(8);
  const auto error = [](const std::string& yaml) {
    const auto result = parseRelayProcessConfig(yaml);
    REQUIRE_FALSE(result.ok());
    CHECK(result.error().find('\n') == std::string::npos);
    return result.error();
  };

  // The section and each file are required.
  CHECK(error("node_id: 7\nregion: eu\nlines: [{name: a, bind: \"127.0.1.1:1\"}]\n"
              "controller: {addresses: [\"h:1\"]}\n")
            .rfind("controller.tls: missing required key", 0) == 0);
  CHECK(error(withController("{ca_file: \"" + ca + "\", cert_file: \"" + seven + ".pem\"}")) ==
        "controller.tls.key_file: missing required key");
  CHECK(error(withController(tlsOf(ca, seven + ".pem", seven + ".key").insert(1, "bogus: 1, "))) ==
        "controller.tls.bogus: unknown key");

  // A missing file: its key, then loadIdentity's "FILE: reason".
  const std::string missing = test::testPkiDir() + "/relay-99.pem";
  CHECK(error(withController(tlsOf(ca, missing, seven + ".key")))
            .rfind("controller.tls.cert_file: " + missing + ": ", 0) == 0);
  CHECK(error(withController(tlsOf(ca, seven + ".pem", test::testPkiDir() + "/nope.key")))
            .rfind("controller.tls.key_file: " + test::testPkiDir() + "/nope.key: ", 0) == 0);
  CHECK(error(withController(tlsOf(test::testPkiDir() + "/nope.pem", seven + ".pem", seven + ".key")))
            .rfind("controller.tls.ca_file: " + test::testPkiDir() + "/nope.pem: ", 0) == 0);
  // Another relay's key.
  CHECK(error(withController(tlsOf(ca, seven + ".pem", eight + ".key"))) ==
        "controller.tls.key_file: " + eight + ".key: does not match the certificate " + seven + ".pem");

  // The certificate must name this relay.
  CHECK(error(withController(tlsOf(ca, eight + ".pem", eight + ".key"))) ==
        "controller.tls.cert_file: " + eight + ".pem: names relay 8, but node_id is 7");

  // An expired certificate (from a CA of its own, issued in the past).
  char dir_pattern[] = "/tmp/overline-relay-tls-test-XXXXXX";
  REQUIRE(::mkdtemp(dir_pattern) != nullptr);
  const std::string old_dir = dir_pattern;
  const std::int64_t now = test::unixNow();
  REQUIRE_FALSE(tls::initAuthority(old_dir, "old CA", tls::Validity{now - 30 * 86400, now + 86400}).has_value());
  const auto expired = tls::issueCertificate(
      old_dir, {tls::PeerIdentity{tls::PeerRole::kRelay, 7, {}}, tls::Validity{now - 20 * 86400, now - 10 * 86400}, {}});
  REQUIRE(expired.ok());
  const std::string expired_error =
      error(withController(tlsOf(old_dir + "/ca.pem", old_dir + "/relay-7.pem", old_dir + "/relay-7.key")));
  CHECK(expired_error.rfind("controller.tls.cert_file: " + old_dir + "/relay-7.pem: ", 0) == 0);
  CHECK(expired_error.find("expired") != std::string::npos);
  std::filesystem::remove_all(old_dir);

  // Empty server name.
  CHECK(error(withController(tlsOf(ca, seven + ".pem", seven + ".key").insert(1, "server_name: \"\", "))) ==
        "controller.tls.server_name: must not be empty");
}

TEST_CASE("auth is optional with a controller, which then pushes the keys") {
  const std::string tls = test::relayTlsYaml(7);
  // Controller, no auth, no lab mode: keys come from the controller.
  const auto pushed = parseRelayProcessConfig(withController(tls));
  INFO((pushed.ok() ? std::string() : pushed.error()));
  REQUIRE(pushed.ok());
  CHECK_FALSE(pushed.value().core.auth.insecure_lab_mode);
  CHECK(pushed.value().core.auth.mesh_keys.empty());
  // Controller and auth: mesh keys too (pushed ones replace them per peer).
  const auto both = parseRelayProcessConfig(withController(tls) + "auth: {mesh_keys: [{epoch: 1, secret_hex: \"" +
                                            kKeyHex + "\"}]}\n");
  REQUIRE(both.ok());
  CHECK(both.value().core.auth.mesh_keys.size() == 1);
  // Controller and lab mode: no auth (pushed keys are ignored).
  const auto lab = parseRelayProcessConfig(withController(tls) + "insecure_lab_mode: true\n");
  REQUIRE(lab.ok());
  CHECK(lab.value().core.auth.insecure_lab_mode);
  // Lab mode and auth still contradict each other, controller or not.
  const auto contradiction = parseRelayProcessConfig(withController(tls) +
                                                     "insecure_lab_mode: true\nauth: {mesh_keys: [{epoch: 1, "
                                                     "secret_hex: \"" + kKeyHex + "\"}]}\n");
  REQUIRE_FALSE(contradiction.ok());
  CHECK(contradiction.error().rfind("insecure_lab_mode: ", 0) == 0);
  // Static neighbours have no pushed keys: they need mesh keys.
  const auto static_neighbours = parseRelayProcessConfig(
      withController(tls) + "neighbours: [{node_id: 2, lines: [\"127.0.2.1:40001\"]}]\n");
  REQUIRE_FALSE(static_neighbours.ok());
  CHECK(static_neighbours.error().rfind("neighbours: static neighbours need auth.mesh_keys", 0) == 0);
  // Without a controller, neither auth nor lab mode is still refused.
  const auto neither = parseRelayProcessConfig("node_id: 7\nregion: eu\nlines: [{name: a, bind: \"127.0.1.1:1\"}]\n");
  REQUIRE_FALSE(neither.ok());
  CHECK(neither.error().rfind("auth: missing", 0) == 0);
}

}  // namespace
}  // namespace overline::relay
