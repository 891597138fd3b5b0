// Three real relays with only a `controller:` section (no static
// neighbours or routes) under a real overline-controller: they connect, get
// peer lists and route tables, carry a stream from relay 1 to a subscriber
// on relay 3, keep carrying it through a data-plane key rotation by the
// controller (0 packets lost) and while the controller is killed, and
// resync with a higher route version when it comes back on the same store.
// Everything runs over mutual TLS, with keys from the controller.

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>

#include "common/stream_id_text.h"
#include "deploy/localmesh/controller_process.h"
#include "deploy/localmesh/media_clients.h"
#include "deploy/localmesh/metrics_scrape.h"
#include "tests/integration/controller/controller_harness.h"

namespace overline::relay {
namespace {

using namespace std::chrono_literals;
using controller::testing::binary;
using controller::testing::kTokenKeyHex;
using controller::testing::TempDir;
using controller::testing::waitFor;
namespace fs = std::filesystem;

// Key epochs activate a second after they start, and the older one goes two
// seconds after that: a whole rotation fits in the test.
constexpr const char* kRelaysSection =
    "relays: {report_interval_ms: 200}\nkeys: {activation_delay_s: 1, retire_after_s: 2}\n";

struct RunningRelay {
  std::optional<localmesh::ChildProcess> process;
  std::string edge;     // line 0's bound address
  std::string metrics;  // "127.0.0.1:port"

  double metric(const std::string& name) const {
    const auto text = localmesh::httpGet("http://" + metrics + "/metrics", 2s);
    if (!text) return -1;
    return localmesh::valueOf(localmesh::parsePrometheusText(*text), name).value_or(-1);
  }
};

RunningRelay startRelay(const TempDir& dir, NodeId node, const Endpoint& controller, const std::string& pki_dir) {
  const std::string base = dir.file("relay-" + std::to_string(node));
  std::ofstream(base + ".yaml") << "node_id: " << node << "\nregion: eu\nlines:\n"
                                << "  - {name: a, bind: \"127.0." << node << ".1:0\"}\n"
                                << "  - {name: b, bind: \"127.0." << node << ".2:0\", isp: other}\n"
                                << "controller:\n  addresses: [\"" << controller.toString() << "\"]\n"
                                << "  report_interval_ms: 200\n  backoff_initial_ms: 50\n  backoff_max_ms: 400\n"
                                << localmesh::relayTlsYaml(pki_dir, node)
                                << "metrics: {listen: \"127.0.0.1:0\"}\n";
  RunningRelay relay;
  std::string error;
  relay.process = localmesh::ChildProcess::start(
      {binary("overline-relay"), "--config", base + ".yaml", "--ready-file", base + ".ready"}, base + ".log", &error);
  INFO(error);
  REQUIRE(relay.process.has_value());
  REQUIRE(waitFor([&] { return fs::exists(base + ".ready") || !relay.process->running(); }, 10s));
  REQUIRE(fs::exists(base + ".ready"));
  const auto ready = nlohmann::json::parse(std::ifstream(base + ".ready"));
  relay.edge = ready.at("lines").at(0).at("address").get<std::string>();
  relay.metrics = ready.at("metrics").get<std::string>();
  return relay;
}

localmesh::RunningController startController(const TempDir& dir, const localmesh::ControllerPorts& ports = {}) {
  auto controller = localmesh::startController(OVERLINE_BIN_DIR, dir.path(), kTokenKeyHex, kRelaysSection, 10s, ports);
  INFO((controller ? std::string() : controller.error()));
  REQUIRE(controller.ok());
  return std::move(controller.value());
}

TEST_CASE("relays run on the controller's tables, stay up without it and resync when it returns") {
  TempDir dir;
  std::optional<localmesh::RunningController> controller = startController(dir);
  for (NodeId node = 1; node <= 3; ++node) {
    const std::string prefix = "127.0." + std::to_string(node);
    const auto provisioned = localmesh::provisionNode(OVERLINE_BIN_DIR, dir.path(), controller->ports.admin, node, "eu",
                                                      {{"a", prefix + ".1:0", ""}, {"b", prefix + ".2:0", "other"}},
                                                      1'000'000'000);
    INFO((provisioned ? std::string() : provisioned.error()));
    REQUIRE(provisioned.ok());
  }
  std::map<NodeId, RunningRelay> relays;
  for (NodeId node = 1; node <= 3; ++node) {
    relays.emplace(node, startRelay(dir, node, controller->ports.relays, controller->pki_dir));
  }

  const auto all = [&](const std::string& name, auto predicate) {
    return std::all_of(relays.begin(), relays.end(), [&](const auto& r) { return predicate(r.second.metric(name)); });
  };
  REQUIRE(waitFor([&] { return all("overline_relay_controller_connected", [](double v) { return v == 1; }); }, 10s));
  REQUIRE(waitFor([&] { return all("overline_relay_route_table_version", [](double v) { return v > 0; }); }, 15s));
  CHECK(all("overline_relay_peer_lists_applied_total", [](double v) { return v >= 1; }));
  // The certificate the sessions present, for the CertificateExpiresSoon alert.
  const double now_s = static_cast<double>(
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count());
  CHECK(all("overline_relay_controller_certificate_expiry_timestamp_seconds",
            [&](double v) { return v > now_s + 300 * 86400; }));

  // A stream from relay 1 to a subscriber on relay 3.
  std::string error;
  auto publisher_process = localmesh::ChildProcess::start(
      {binary("overline-publish"), "--edge", relays.at(1).edge, "--local-id", "1", "--bitrate-kbps", "500",
       "--packet-bytes", "500", "--fps", "50", "--duration-s", "60"},
      dir.file("publish.log"), &error);
  REQUIRE(publisher_process.has_value());
  localmesh::PublisherProcess publisher(std::move(*publisher_process));
  const std::optional<StreamId> stream = publisher.waitJoined(10s);
  REQUIRE(stream.has_value());
  auto subscriber_process = localmesh::ChildProcess::start(
      {binary("overline-subscribe"), "--edge", relays.at(3).edge, "--stream", formatStreamId(*stream),
       "--report-interval-ms", "200"},
      dir.file("subscribe.log"), &error);
  REQUIRE(subscriber_process.has_value());
  localmesh::SubscriberProcess subscriber(std::move(*subscriber_process), "relay 3");
  REQUIRE(subscriber.waitJoined(10s));
  REQUIRE(waitFor([&] { return subscriber.poll(), subscriber.latest() && subscriber.latest()->received >= 50; }, 10s));

  // The controller rotates the data-plane keys mid-stream: every relay
  // sends with epoch 2 after its activation, epoch 1 then retires, and not
  // a packet is lost (checked at the end).
  CHECK(all("overline_relay_auth_sending_epoch", [](double v) { return v == 1; }));
  const std::string admin = controller->ports.admin.toString();
  subscriber.poll();
  const std::uint64_t received_before_rotation = subscriber.latest()->received;
  const auto rotation_started = std::chrono::steady_clock::now();
  const auto rotated = controller::testing::runCtl(dir, admin, {"keys", "rotate"});
  INFO(rotated.err);
  REQUIRE(rotated.exit_code == 0);
  REQUIRE(waitFor([&] { return all("overline_relay_auth_sending_epoch", [](double v) { return v == 2; }); }, 10s));
  const auto only_epoch_2 = [&] {
    const auto listed = controller::testing::runCtl(dir, admin, {"keys", "list"});
    return listed.exit_code == 0 && listed.out.size() == 1 && listed.out[0].starts_with("epoch 2 (sending)");
  };
  REQUIRE(waitFor(only_epoch_2, 10s));
  subscriber.poll();
  CHECK(subscriber.latest()->lost == 0);
  WARN("key rotation: epoch 2 sent by every relay and epoch 1 retired "
       << std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - rotation_started)
              .count()
       << " ms after `keys rotate`; " << subscriber.latest()->received - received_before_rotation
       << " packets received meanwhile, " << subscriber.latest()->lost << " lost so far");
  const auto controller_metrics = localmesh::httpGet(controller->metrics_url, 2s);
  REQUIRE(controller_metrics);
  CHECK(localmesh::valueOf(localmesh::parsePrometheusText(*controller_metrics), "overline_controller_key_epoch") == 2);

  // Headless: the controller dies; forwarding goes on for >= 2 s more.
  const double version_before = relays.at(1).metric("overline_relay_route_table_version");
  controller->process.signal(SIGKILL);
  REQUIRE(controller->process.waitExit(5s).has_value());
  const auto killed_at = std::chrono::steady_clock::now();
  subscriber.poll();
  const std::uint64_t received_at_kill = subscriber.latest()->received;
  const double elapsed_at_kill = subscriber.latest()->elapsed_s;
  REQUIRE(waitFor([&] { return all("overline_relay_controller_connected", [](double v) { return v == 0; }); }, 5s));
  REQUIRE(waitFor([&] { return subscriber.poll(), subscriber.latest()->elapsed_s >= elapsed_at_kill + 2.5; }, 10s));
  const std::uint64_t received_headless = subscriber.latest()->received - received_at_kill;
  CHECK(received_headless >= 250);  // 500 kbit/s of 500 B packets: 125/s, 312 in 2.5 s
  CHECK(relays.at(1).metric("overline_relay_route_table_version") == version_before);

  // The controller returns on the same store: relays reconnect and apply a
  // newer table.
  const localmesh::ControllerPorts ports = controller->ports;
  controller.reset();
  controller = startController(dir, ports);
  const auto restarted_at = std::chrono::steady_clock::now();
  REQUIRE(waitFor([&] { return all("overline_relay_controller_connected", [](double v) { return v == 1; }); }, 10s));
  const auto reconnect_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - restarted_at).count();
  REQUIRE(waitFor([&] {
    return all("overline_relay_route_table_version", [&](double v) { return v > version_before; });
  }, 15s));
  CHECK(all("overline_relay_controller_sessions_total", [](double v) { return v >= 2; }));
  const double version_after = relays.at(1).metric("overline_relay_route_table_version");
  subscriber.poll();
  const std::uint64_t received_total = subscriber.latest()->received;
  WARN("route version " << version_before << " -> " << version_after << "; reconnect " << reconnect_ms
                        << " ms after restart; headless " << received_headless << " packets in 2.5 s; down for "
                        << std::chrono::duration_cast<std::chrono::milliseconds>(restarted_at - killed_at).count()
                        << " ms; " << received_total << " received, " << subscriber.latest()->lost << " lost");
  CHECK(subscriber.latest()->lost == 0);
}

}  // namespace
}  // namespace overline::relay
