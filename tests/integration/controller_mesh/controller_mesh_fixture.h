#pragma once
// Shared set-up of the controller-mesh acceptance tests: the demo's six
// relays (MeshSpec::impaired, every relay-to-relay datagram crosses the
// switchboard) with a controller, and a stream from relay 1 to a subscriber
// on relay 4. Every wait has a deadline; none sleeps for a fixed time.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "deploy/localmesh/local_mesh.h"

namespace overline::localmesh::testing {

constexpr NodeId kPublisherEdge = 1;
constexpr NodeId kSubscriberEdge = 4;
constexpr int kPacketsPerSecond = 500;

// Starts the mesh (routes applied by every relay) and waits until every
// relay has measured all its links up, so the controller's routes rest on
// real figures before a test changes them. Fails the test otherwise.
std::unique_ptr<LocalMesh> startControllerMesh();

// Sets switchboard knobs (`knobs`, e.g. "loss_percent=30 delay_ms=20") on
// every line pair between relays `a` and `b`, both directions.
void impairBetween(LocalMesh& mesh, NodeId a, NodeId b, const std::string& knobs);

// True if `path` goes from `a` straight to `b` or from `b` to `a`.
bool usesHop(const ControllerPath& path, NodeId a, NodeId b);

// The subscriber's packets (unique) as of its latest progress line.
std::uint64_t receivedSoFar(SubscriberProcess& subscriber);

// A stream of kPacketsPerSecond from relay 1 (stream 1:<local_id>) to a
// subscriber on relay 4 that reports every 200 ms, started once the tree is
// complete and returned once the subscriber has received packets.
struct Stream {
  PublisherProcess publisher;
  SubscriberProcess subscriber;
  std::uint64_t packets = 0;
};
Stream startStream(LocalMesh& mesh, std::uint32_t local_id, double seconds);

// Waits for the publisher to finish and the subscriber's summary.
SubscriberFigures finishStream(Stream& stream);

// Polls `mesh.path(source, destination)` until `predicate` holds, for up to
// `timeout`; the last path then, or nullopt.
template <typename Predicate>
std::optional<ControllerPath> waitForPath(LocalMesh& mesh, NodeId source, NodeId destination,
                                          std::chrono::milliseconds timeout, Predicate predicate);

double relayMetric(LocalMesh& mesh, NodeId node, const std::string& key);

// The transit relay on relay 4's route to relay 1 (kSubscriberEdge to
// kPublisherEdge) once it forwards a stream already flowing: its id, or
// nullopt after `timeout`. While link estimates settle after an impairment,
// the controller may still move that route between equally good transits
// (probe noise on a loaded machine is enough), so the route is read again
// until the transit on it is the one forwarding.
std::optional<NodeId> transitCarryingStream(LocalMesh& mesh, std::chrono::milliseconds timeout);

}  // namespace overline::localmesh::testing

namespace overline::localmesh::testing {

template <typename Predicate>
std::optional<ControllerPath> waitForPath(LocalMesh& mesh, NodeId source, NodeId destination,
                                          std::chrono::milliseconds timeout, Predicate predicate) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (auto path = mesh.path(source, destination); path && predicate(path.value())) return path.value();
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

}  // namespace overline::localmesh::testing
