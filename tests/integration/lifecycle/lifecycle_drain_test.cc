// SIGTERM drains a relay. Six relays behind the switchboard and a
// controller; the direct pairs between relays 1 and 4 get 40 ms of delay, so
// a stream 1 -> 4 crosses a transit relay T, which has alternatives. SIGTERM
// to T: it tells the controller, which routes around it at once; relay 4
// moves its subscription make-before-break; T exits 0 once it has forwarded
// no transit for 500 ms. The subscriber must lose nothing and see no
// duplicates.

#include <signal.h>
#include <sys/wait.h>

#include <catch2/catch.hpp>

#include <algorithm>

#include "tests/integration/controller_mesh/controller_mesh_fixture.h"

namespace ol = overline;
namespace lm = overline::localmesh;
using namespace lm::testing;
using namespace std::chrono_literals;

namespace {

constexpr auto kDrainTimeout = 10s;  // the relay's default controller.drain_timeout_ms

}  // namespace

TEST_CASE("SIGTERM drains a transit relay without losing a packet, then it exits 0") {
  auto mesh = startControllerMesh();
  impairBetween(*mesh, kPublisherEdge, kSubscriberEdge, "delay_ms=40");
  const auto via_transit = waitForPath(*mesh, kSubscriberEdge, kPublisherEdge, 10s,
                                       [](const lm::ControllerPath& p) { return p.primary.size() >= 3; });
  REQUIRE(via_transit.has_value());
  const std::string routes = mesh->waitForRoutes(via_transit->route_version, 5s);
  INFO(routes);
  REQUIRE(routes.empty());

  Stream stream = startStream(*mesh, 31, 10);
  const auto carrying = transitCarryingStream(*mesh, 10s);
  REQUIRE(carrying.has_value());
  const ol::NodeId transit = *carrying;

  const std::uint64_t received_at_signal = receivedSoFar(stream.subscriber);
  lm::ChildProcess& process = *mesh->relay(transit).process;
  const auto signalled_at = std::chrono::steady_clock::now();
  process.signal(SIGTERM);
  const auto status = process.waitExit(kDrainTimeout + 2s);
  const double drain_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - signalled_at).count();
  INFO("relay " << transit << " log:\n" << mesh->logTail(transit, 30));
  REQUIRE(status.has_value());
  CHECK(WIFEXITED(*status));
  CHECK(WEXITSTATUS(*status) == 0);
  CHECK(drain_s < std::chrono::duration<double>(kDrainTimeout).count());

  const auto rerouted = waitForPath(*mesh, kSubscriberEdge, kPublisherEdge, 1s, [&](const lm::ControllerPath& p) {
    return std::find(p.primary.begin(), p.primary.end(), transit) == p.primary.end();
  });
  CHECK(rerouted.has_value());

  const auto summary = finishStream(stream);
  WARN("transit relay " << transit << " got SIGTERM at " << received_at_signal << " packets and exited after "
                        << drain_s << " s; subscriber: unique " << summary.unique << " of " << stream.packets
                        << ", lost " << summary.lost << ", duplicates " << summary.duplicates << ", max gap "
                        << summary.max_gap_ms << " ms");
  CHECK(summary.lost == 0);
  CHECK(summary.duplicates == 0);
  CHECK(summary.unique == stream.packets);
}
