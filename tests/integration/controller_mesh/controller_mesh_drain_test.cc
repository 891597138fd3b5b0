// Six relays behind the switchboard and a controller. The direct pairs
// between relays 1 and 4 get 40 ms of delay, so relay 4's route to relay 1
// goes through a transit relay T, and a stream flows 1 -> T -> 4. Draining T
// (overlinectl drain) moves the route off it within a few seconds: T stops
// forwarding DATA, and the subscriber keeps receiving without duplicates.

#include <catch2/catch.hpp>

#include <algorithm>
#include <optional>

#include "tests/integration/controller_mesh/controller_mesh_fixture.h"

namespace ol = overline;
namespace lm = overline::localmesh;
using namespace lm::testing;
using namespace std::chrono_literals;

namespace {

constexpr const char* kForwarded = "overline_relay_data_packets_forwarded_total";

double forwarded(lm::LocalMesh& mesh, ol::NodeId node) {
  const auto samples = mesh.scrape(node);
  REQUIRE(samples.has_value());
  return lm::sumOf(*samples, kForwarded);
}

}  // namespace

TEST_CASE("a drained transit relay stops carrying the stream, which goes on") {
  auto mesh = startControllerMesh();
  impairBetween(*mesh, kPublisherEdge, kSubscriberEdge, "delay_ms=40");
  const auto via_transit = waitForPath(*mesh, kSubscriberEdge, kPublisherEdge, 10s,
                                       [](const lm::ControllerPath& p) { return p.primary.size() >= 3; });
  REQUIRE(via_transit.has_value());
  // The relays must run on that route before the stream's tree is built.
  const std::string routes = mesh->waitForRoutes(via_transit->route_version, 5s);
  INFO(routes);
  REQUIRE(routes.empty());

  Stream stream = startStream(*mesh, 13, 16);
  const auto carrying = transitCarryingStream(*mesh, 10s);
  REQUIRE(carrying.has_value());
  const ol::NodeId transit = *carrying;

  const std::uint64_t received_at_drain = receivedSoFar(stream.subscriber);
  const std::string drained = mesh->drain(transit);
  INFO(drained);
  REQUIRE(drained.empty());
  const auto drained_at = std::chrono::steady_clock::now();
  const auto rerouted = waitForPath(*mesh, kSubscriberEdge, kPublisherEdge, 5s, [&](const lm::ControllerPath& p) {
    return std::find(p.primary.begin(), p.primary.end(), transit) == p.primary.end();
  });
  REQUIRE(rerouted.has_value());
  const double reroute_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - drained_at).count();
  std::string route;
  for (ol::NodeId n : rerouted->primary) route += (route.empty() ? "" : "->") + std::to_string(n);

  // Within a few seconds the transit relay forwards nothing for a whole
  // second (its last downstream's subscription may take expiry_ms to lapse).
  const auto deadline = drained_at + 8s;
  double quiet_from = forwarded(*mesh, transit);
  auto quiet_since = std::chrono::steady_clock::now();
  bool quiet = false;
  while (!quiet && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(100ms);
    const double now_forwarded = forwarded(*mesh, transit);
    if (now_forwarded != quiet_from) {
      quiet_from = now_forwarded;
      quiet_since = std::chrono::steady_clock::now();
    } else if (std::chrono::steady_clock::now() - quiet_since >= 1s) {
      quiet = true;
    }
  }
  const double quiet_s = std::chrono::duration<double>(quiet_since - drained_at).count();
  CHECK(quiet);

  // And the stream goes on: another second's worth of packets within 5 s.
  const std::uint64_t received_after = receivedSoFar(stream.subscriber);
  const auto more_deadline = std::chrono::steady_clock::now() + 5s;
  while (receivedSoFar(stream.subscriber) < received_after + kPacketsPerSecond &&
         std::chrono::steady_clock::now() < more_deadline) {
    std::this_thread::sleep_for(50ms);
  }
  CHECK(receivedSoFar(stream.subscriber) >= received_after + kPacketsPerSecond);
  CHECK(mesh->undrain(transit).empty());

  const auto summary = finishStream(stream);
  WARN("transit relay " << transit << " drained at " << received_at_drain << " packets; controller route " << route
                        << " v" << rerouted->route_version << " after " << reroute_s << " s; relay " << transit
                        << " last forwarded DATA " << quiet_s << " s after the drain; subscriber: unique "
                        << summary.unique << " of " << stream.packets << ", lost " << summary.lost
                        << ", duplicates " << summary.duplicates << ", max gap " << summary.max_gap_ms << " ms");
  CHECK(summary.duplicates == 0);
  CHECK(summary.unique >= stream.packets * 99 / 100);
}
