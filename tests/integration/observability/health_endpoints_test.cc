// /healthz and /readyz of real overline-relay and overline-controller
// processes on loopback: a relay without a controller is ready at once; one
// whose controller has never answered is not; it becomes ready when the
// controller comes up, stays ready headless once it holds the controller's
// route table, and turns not ready while it drains. The controller is ready
// while it serves. /healthz stays 200 throughout; unknown paths are 404.

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <sys/wait.h>

#include <csignal>
#include <filesystem>
#include <fstream>

#include "deploy/localmesh/controller_process.h"
#include "deploy/localmesh/metrics_scrape.h"
#include "tests/integration/controller/controller_harness.h"
#include "tests/integration/observability/http_client.h"

namespace overline {
namespace {

using namespace std::chrono_literals;
using controller::testing::binary;
using controller::testing::kTokenKeyHex;
using controller::testing::TempDir;
using controller::testing::waitFor;
using testing::httpRequest;
using testing::httpStatus;
namespace fs = std::filesystem;

constexpr NodeId kNode = 1;
constexpr const char* kNotReadyNoTables = "not ready: controller session down and no route table yet\n";

struct RelayProcess {
  std::optional<localmesh::ChildProcess> process;
  std::string base_url;  // "http://127.0.0.1:port", from the ready file

  long status(const std::string& path) const { return httpStatus(base_url + path); }
  std::string readyzBody() const {
    const auto reply = httpRequest(base_url + "/readyz");
    return reply ? reply->body : "(no reply)";
  }
  double metric(const std::string& name) const {
    const auto text = localmesh::httpGet(base_url + "/metrics", 2s);
    if (!text) return -1;
    return localmesh::valueOf(localmesh::parsePrometheusText(*text), name).value_or(-1);
  }
};

// Starts relay kNode with one line; with `controller` set, under that
// controller (which need not be up).
RelayProcess startRelay(const TempDir& dir, const std::optional<Endpoint>& controller) {
  // Keys come from the controller when there is one, else from the config.
  const std::string base = dir.file("relay");
  std::ofstream config(base + ".yaml");
  config << "node_id: " << kNode << "\nregion: eu\nlines:\n  - {name: a, bind: \"127.0.0.1:0\"}\n"
         << "metrics: {listen: \"127.0.0.1:0\"}\n";
  if (controller) {
    config << "controller:\n  addresses: [\"" << controller->toString() << "\"]\n"
           << "  report_interval_ms: 200\n  backoff_initial_ms: 50\n  backoff_max_ms: 200\n"
           << localmesh::relayTlsYaml(localmesh::pkiDirOf(dir.path()), kNode);
  } else {
    config << "auth: {mesh_keys: [{epoch: 1, secret_hex: "
              "\"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\"}]}\n";
  }
  config.close();
  RelayProcess relay;
  std::string error;
  relay.process = localmesh::ChildProcess::start(
      {binary("overline-relay"), "--config", base + ".yaml", "--ready-file", base + ".ready"}, base + ".log", &error);
  INFO(error);
  REQUIRE(relay.process.has_value());
  REQUIRE(waitFor([&] { return fs::exists(base + ".ready") || !relay.process->running(); }, 10s));
  REQUIRE(fs::exists(base + ".ready"));
  const auto ready = nlohmann::json::parse(std::ifstream(base + ".ready"));
  relay.base_url = "http://" + ready.at("metrics").get<std::string>();
  return relay;
}

localmesh::RunningController startController(const TempDir& dir, const localmesh::ControllerPorts& ports = {}) {
  auto controller = localmesh::startController(OVERLINE_BIN_DIR, dir.path(), kTokenKeyHex,
                                               "relays: {report_interval_ms: 200}\n", 10s, ports);
  INFO((controller ? std::string() : controller.error()));
  REQUIRE(controller.ok());
  return std::move(controller.value());
}

// "http://127.0.0.1:port" of a controller's metrics_url.
std::string baseUrl(const localmesh::RunningController& controller) {
  const std::string& url = controller.metrics_url;
  return url.substr(0, url.rfind("/metrics"));
}

void kill(std::optional<localmesh::RunningController>& controller) {
  controller->process.signal(SIGKILL);
  REQUIRE(controller->process.waitExit(5s).has_value());
  controller.reset();
}

TEST_CASE("a relay without a controller is ready and healthy once its ready file exists") {
  TempDir dir;
  RelayProcess relay = startRelay(dir, std::nullopt);
  const auto readyz = httpRequest(relay.base_url + "/readyz");
  REQUIRE(readyz.has_value());
  CHECK(readyz->status == 200);
  CHECK(readyz->body == "ready\n");
  CHECK(relay.status("/healthz") == 200);
  CHECK(relay.status("/metrics") == 200);
  CHECK(relay.status("/nope") == 404);

  // SIGINT stops at once; the status server no longer holds the exit up.
  const auto signalled = std::chrono::steady_clock::now();
  relay.process->signal(SIGINT);
  const auto status = relay.process->waitExit(5s);
  const auto exit_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - signalled).count();
  REQUIRE(status.has_value());
  CHECK(WIFEXITED(*status));
  CHECK(WEXITSTATUS(*status) == 0);
  WARN("relay exited " << exit_ms << " ms after SIGINT");
  CHECK(exit_ms < 1000);
}

TEST_CASE("relay readiness follows its controller: never connected, connected, headless, draining") {
  TempDir dir;
  // Provision the node, then take the controller away: its port is where the
  // relay's config points, and nothing listens there.
  std::optional<localmesh::RunningController> controller = startController(dir);
  const localmesh::ControllerPorts ports = controller->ports;
  const auto provisioned = localmesh::provisionNode(OVERLINE_BIN_DIR, dir.path(), ports.admin, kNode, "eu",
                                                    {{"a", "127.0.0.1:0", ""}}, 1'000'000'000);
  INFO((provisioned ? std::string() : provisioned.error()));
  REQUIRE(provisioned.ok());
  {
    const std::string base = baseUrl(*controller);
    const auto readyz = httpRequest(base + "/readyz");
    REQUIRE(readyz.has_value());
    CHECK(readyz->status == 200);
    CHECK(readyz->body == "ready\n");
    CHECK(httpStatus(base + "/healthz") == 200);
    CHECK(httpStatus(base + "/metrics") == 200);
    CHECK(httpStatus(base + "/nope") == 404);
  }
  kill(controller);

  RelayProcess relay = startRelay(dir, ports.relays);
  CHECK(relay.status("/readyz") == 503);
  CHECK(relay.readyzBody() == kNotReadyNoTables);
  CHECK(relay.status("/healthz") == 200);
  CHECK(relay.metric("overline_relay_controller_connected") == 0);

  // The controller comes back on the same store and port: the session comes
  // up and brings the node's first route table.
  controller = startController(dir, ports);
  CHECK(waitFor([&] { return relay.status("/readyz") == 200; }, 15s));
  REQUIRE(waitFor([&] { return relay.metric("overline_relay_route_tables_applied_total") >= 1; }, 15s));
  CHECK(relay.metric("overline_relay_controller_connected") == 1);
  CHECK(relay.status("/healthz") == 200);

  // Headless: the relay runs on the table it holds and stays ready.
  kill(controller);
  REQUIRE(waitFor([&] { return relay.metric("overline_relay_controller_connected") == 0; }, 10s));
  CHECK(relay.status("/readyz") == 200);
  CHECK(relay.status("/healthz") == 200);

  // Draining (SIGTERM with the session up): not ready until it exits.
  controller = startController(dir, ports);
  REQUIRE(waitFor([&] { return relay.metric("overline_relay_controller_connected") == 1; }, 15s));
  relay.process->signal(SIGTERM);
  std::string drained_body;
  REQUIRE(waitFor([&] {
    const auto reply = httpRequest(relay.base_url + "/readyz", "GET", 500ms);
    if (reply && reply->status == 503) drained_body = reply->body;
    return !drained_body.empty() || !relay.process->running();
  }, 10s));
  CHECK(drained_body == "not ready: draining\n");
  const auto status = relay.process->waitExit(15s);
  REQUIRE(status.has_value());
  CHECK(WIFEXITED(*status));
  CHECK(WEXITSTATUS(*status) == 0);
}

}  // namespace
}  // namespace overline
