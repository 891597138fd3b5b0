// Six relays (the demo's, behind the overline-impair switchboard) and a
// controller; a stream flows from relay 1 to a subscriber on relay 4. The
// hop the subscription uses (the first hop of relay 4's route to relay 1)
// turns bad: 30% loss and 20 ms delay on every line pair between its two
// relays, both directions. Within 3 s the controller's route avoids that hop
// and relay 4 applies a newer route-table version; the stream goes on.

#include <catch2/catch.hpp>

#include "tests/integration/controller_mesh/controller_mesh_fixture.h"

namespace ol = overline;
namespace lm = overline::localmesh;
using namespace lm::testing;
using namespace std::chrono_literals;

TEST_CASE("a degraded hop is routed around within 3 s and the stream keeps flowing") {
  auto mesh = startControllerMesh();
  Stream stream = startStream(*mesh, 11, 16);

  const auto before = mesh->path(kSubscriberEdge, kPublisherEdge);
  INFO((before ? std::string() : before.error()));
  REQUIRE(before.ok());
  REQUIRE(before.value().primary.size() >= 2);
  const ol::NodeId a = before.value().primary[0];
  const ol::NodeId b = before.value().primary[1];
  const std::uint64_t version_before = before.value().route_version;

  impairBetween(*mesh, a, b, "loss_percent=30 delay_ms=20");
  const auto degraded_at = std::chrono::steady_clock::now();
  const std::uint64_t received_at_degradation = receivedSoFar(stream.subscriber);

  const auto after = waitForPath(*mesh, kSubscriberEdge, kPublisherEdge, 3s, [&](const lm::ControllerPath& p) {
    return !usesHop(p, a, b) && p.route_version > version_before;
  });
  const double reroute_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - degraded_at).count();
  INFO("hop " << a << "-" << b << " degraded; route v" << version_before);
  REQUIRE(after.has_value());
  const std::uint64_t version_after = after->route_version;
  std::string route;
  for (ol::NodeId n : after->primary) route += (route.empty() ? "" : "->") + std::to_string(n);

  // Relay 4 runs on the new table within the same 3 s.
  const auto left = std::max(std::chrono::duration_cast<std::chrono::milliseconds>(
                                 degraded_at + 3s - std::chrono::steady_clock::now()),
                             std::chrono::milliseconds(0));
  const auto applied = mesh->waitForMetrics(kSubscriberEdge, left, [&](const auto& s) {
        return lm::valueOf(s, "overline_relay_route_table_version").value_or(0) >= static_cast<double>(version_after);
      });
  const double applied_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - degraded_at).count();
  CHECK(applied.has_value());

  // The stream keeps coming after the route change: at least a second's
  // worth of packets more within 5 s.
  const std::uint64_t received_at_reroute = receivedSoFar(stream.subscriber);
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (receivedSoFar(stream.subscriber) < received_at_reroute + kPacketsPerSecond &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
  }
  CHECK(receivedSoFar(stream.subscriber) >= received_at_reroute + kPacketsPerSecond);

  const auto summary = finishStream(stream);
  WARN("hop " << a << "-" << b << " degraded at " << received_at_degradation << " packets; controller route "
              << route << " v" << version_after << " (was v" << version_before << ") after " << reroute_s
              << " s, applied by relay 4 after " << applied_s << " s; subscriber: unique " << summary.unique << " of "
              << stream.packets << ", lost " << summary.lost << ", duplicates " << summary.duplicates << ", max gap "
              << summary.max_gap_ms << " ms");
  CHECK(reroute_s <= 3.0);
  CHECK(applied_s <= 3.0);
  CHECK(summary.duplicates == 0);
  // What 30% loss costs until the new route carries the stream, and not more.
  CHECK(summary.unique >= stream.packets * 95 / 100);
}
