// Six relays behind the switchboard and a controller; a stream flows from
// relay 1 to a subscriber on relay 4. The controller is SIGKILLed: the relays
// keep forwarding on their last tables (the subscriber keeps receiving for
// 3 s, no relay's route-table version changes). Restarted on the same store
// and port, it gets all six relays back and pushes a newer version.

#include <catch2/catch.hpp>

#include <algorithm>
#include <map>

#include "tests/integration/controller_mesh/controller_mesh_fixture.h"

namespace ol = overline;
namespace lm = overline::localmesh;
using namespace lm::testing;
using namespace std::chrono_literals;

namespace {

std::map<ol::NodeId, double> routeVersions(lm::LocalMesh& mesh) {
  std::map<ol::NodeId, double> versions;
  for (const auto& node : mesh.spec().nodes) {
    versions[node.id] = relayMetric(mesh, node.id, "overline_relay_route_table_version");
  }
  return versions;
}

}  // namespace

TEST_CASE("relays forward on their last tables without the controller and rejoin it after a restart") {
  auto mesh = startControllerMesh();
  Stream stream = startStream(*mesh, 12, 14);

  mesh->killController();
  const auto killed_at = std::chrono::steady_clock::now();
  const std::uint64_t received_at_kill = receivedSoFar(stream.subscriber);
  // Every relay notices the session is gone.
  for (const auto& node : mesh->spec().nodes) {
    CHECK(mesh->waitForMetrics(node.id, 5s, [](const auto& s) {
      return lm::valueOf(s, "overline_relay_controller_connected") == 0.0;
    }));
  }
  // A push may have landed between the last scrape and the kill; from now
  // on nothing can change the tables.
  const auto versions_before = routeVersions(*mesh);
  // Three seconds without a controller: the observation window itself.
  while (std::chrono::steady_clock::now() < killed_at + 3s) std::this_thread::sleep_for(100ms);
  const std::uint64_t received_without = receivedSoFar(stream.subscriber) - received_at_kill;
  CHECK(routeVersions(*mesh) == versions_before);
  // The subscriber reports every 200 ms, so its last line may be that old.
  CHECK(received_without >= static_cast<std::uint64_t>(kPacketsPerSecond) * 27 / 10);

  const double max_before =
      std::max_element(versions_before.begin(), versions_before.end(), [](const auto& x, const auto& y) {
        return x.second < y.second;
      })->second;
  const auto restarted_at = std::chrono::steady_clock::now();
  const std::string restarted = mesh->restartController();
  INFO(restarted);
  REQUIRE(restarted.empty());
  std::optional<lm::MetricSamples> controller;
  const auto deadline = std::chrono::steady_clock::now() + 15s;
  while (!(controller = mesh->scrapeController()) ||
         lm::valueOf(*controller, "overline_controller_connected_relays") != 6.0) {
    REQUIRE(std::chrono::steady_clock::now() < deadline);
    std::this_thread::sleep_for(50ms);
  }
  const double reconnect_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - restarted_at).count();
  const std::string routes = mesh->waitForRoutes(static_cast<std::uint64_t>(max_before) + 1, 15s);
  INFO(routes);
  CHECK(routes.empty());
  const double routes_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - restarted_at).count();
  const auto versions_after = routeVersions(*mesh);

  const auto summary = finishStream(stream);
  WARN("without the controller: " << received_without << " packets in 3 s, route versions unchanged (max v"
                                  << max_before << "); after restart: 6 relays connected in " << reconnect_s
                                  << " s, relay 1 at v" << versions_after.at(1) << " after " << routes_s
                                  << " s; subscriber: unique " << summary.unique << " of " << stream.packets
                                  << ", lost " << summary.lost << ", duplicates " << summary.duplicates
                                  << ", max gap " << summary.max_gap_ms << " ms");
  CHECK(summary.duplicates == 0);
  CHECK(summary.unique >= stream.packets * 99 / 100);
}
