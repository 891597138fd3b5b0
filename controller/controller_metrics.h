#pragma once
// The controller's Prometheus metrics and its status endpoint on
// metrics.listen (common/http/status_server.h): /metrics, /healthz, /readyz.
//
// Threads: every method may be called from any thread (prometheus-cpp
// metric objects are thread-safe, the health state is atomic); requests run
// on the status server's threads.
//
// /healthz: 503 once the route worker has not turned for max(5 s, 3 route
// recompute intervals) (a deadlock or a computation that never ends); alive
// before it first turns. /readyz: controller/core/controller_readiness.h
// over what main reports with setStoreOpen(), setServing(), setStopping().
//
// Names (base units; counters end in _total):
//   gauge     overline_controller_connected_relays        relays with an accepted session
//   counter   overline_controller_reports_received_total  RelayReports from accepted sessions
//   counter   overline_controller_ignored_link_reports_total{reason}
//             LinkReports left out: unknown_node, bad_line, bad_figures, duplicate
//   histogram overline_controller_route_computation_seconds  one computeRoutes() run
//   counter   overline_controller_route_pushes_total      RouteTable messages queued to relays
//   gauge     overline_controller_route_version           highest route-table version persisted
//   counter   overline_invariant_violations_total         invariantViolations() of the process
//             (common/check/invariant.h; grows only in release builds), read at each scrape

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "common/endpoint.h"
#include "common/http/heartbeat.h"
#include "common/http/status_server.h"
#include "common/result.h"
#include "common/types.h"

namespace prometheus {
class Collectable;
class Counter;
class Gauge;
class Histogram;
class Registry;
}  // namespace prometheus

namespace overline::controller {

enum class IgnoredLinkReason : std::uint8_t { kUnknownNode, kBadLine, kBadFigures, kDuplicate };
constexpr std::size_t kIgnoredLinkReasonCount = 4;

class ControllerMetrics {
 public:
  ControllerMetrics();
  ~ControllerMetrics();
  ControllerMetrics(const ControllerMetrics&) = delete;
  ControllerMetrics& operator=(const ControllerMetrics&) = delete;

  // Starts serving /metrics, /healthz and /readyz on `listen` (port 0 =
  // ephemeral); returns the address actually listened on, or
  // "metrics: cannot listen on <addr>: <reason>".
  Result<Endpoint, std::string> serve(const Endpoint& listen);

  // Readiness inputs, reported by main as the process comes up and goes down.
  void setStoreOpen();
  void setServing();  // gRPC server started, route worker running
  void setStopping();
  // The route worker's proof of life, each turn of its loop; it turns at
  // least every `recompute_interval_us` (RouteSettings, may change at run time).
  void beatRouteWorker(DurationUs recompute_interval_us);

  void setConnectedRelays(std::size_t count);
  void countReport();
  void countIgnoredLinkReport(IgnoredLinkReason reason);
  void observeRouteComputation(double seconds);
  void countRoutePushes(std::size_t count);
  void setRouteVersion(std::uint64_t version);

 private:
  http::ProbeResult liveness() const;   // status server threads
  http::ProbeResult readiness() const;  // status server threads
  // Brings overline_invariant_violations_total up to invariantViolations().
  // Any thread.
  void copyInvariantViolations();

  // What the status server collects: registry_, after copyInvariantViolations().
  class Scrape;

  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<Scrape> scrape_;
  http::Heartbeat route_worker_heartbeat_;
  std::atomic<bool> store_open_{false};
  std::atomic<bool> serving_{false};
  std::atomic<bool> stopping_{false};
  // Declared after what its requests read, so it stops before they go.
  std::unique_ptr<http::StatusServer> server_;
  prometheus::Gauge* connected_relays_ = nullptr;
  prometheus::Counter* reports_received_ = nullptr;
  prometheus::Counter* ignored_link_reports_[kIgnoredLinkReasonCount] = {};
  prometheus::Histogram* route_computation_ = nullptr;
  prometheus::Counter* route_pushes_ = nullptr;
  prometheus::Gauge* route_version_ = nullptr;
  prometheus::Counter* invariant_violations_ = nullptr;
  std::atomic<std::uint64_t> invariant_violations_copied_{0};
};

}  // namespace overline::controller
