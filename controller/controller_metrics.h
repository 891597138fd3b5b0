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
//   counter   overline_controller_ignored_reports_total{reason}
//             whole RelayReports left out: too_frequent (beyond a burst of 5,
//             then two per report interval), too_large (more links than the
//             node's lines times every other node's lines)
//   counter   overline_controller_refused_calls_total{listener, reason}
//             calls refused before any work: listener relays|admin; reason
//             missing, malformed, expired, not_yet_valid, untrusted,
//             no_identity (the certificate), wrong_role (e.g. a relay's
//             certificate on Admin), wrong_node (a hello for another node id
//             than the certificate's), read_only (a read-only operator writing)
//   gauge     overline_controller_key_epoch               data-plane key epoch relays send with
//   gauge     overline_controller_certificate_expiry_timestamp_seconds
//             notAfter of the controller's own certificate (Unix s)
//   counter   overline_controller_key_rotations_total     key epochs started (schedule or overlinectl)
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
#include <string_view>

#include "common/endpoint.h"
#include "common/http/heartbeat.h"
#include "common/http/status_server.h"
#include "common/result.h"
#include "common/types.h"

namespace prometheus {
class Collectable;
class Counter;
template <typename T>
class Family;
class Gauge;
class Histogram;
class Registry;
}  // namespace prometheus

namespace overline::controller {

enum class IgnoredLinkReason : std::uint8_t { kUnknownNode, kBadLine, kBadFigures, kDuplicate };
constexpr std::size_t kIgnoredLinkReasonCount = 4;
enum class IgnoredReportReason : std::uint8_t { kTooFrequent, kTooLarge };
constexpr std::size_t kIgnoredReportReasonCount = 2;

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
  void countIgnoredReport(IgnoredReportReason reason);
  // `listener` "relays" or "admin"; `reason` one of the label values above.
  void countRefusedCall(std::string_view listener, std::string_view reason);
  void setKeyEpoch(std::uint32_t epoch);
  void setCertificateExpiry(std::int64_t not_after_unix_s);
  void countKeyRotation();
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
  prometheus::Counter* ignored_reports_[kIgnoredReportReasonCount] = {};
  prometheus::Family<prometheus::Counter>* refused_calls_ = nullptr;
  prometheus::Gauge* key_epoch_ = nullptr;
  prometheus::Gauge* certificate_expiry_ = nullptr;
  prometheus::Counter* key_rotations_ = nullptr;
  prometheus::Histogram* route_computation_ = nullptr;
  prometheus::Counter* route_pushes_ = nullptr;
  prometheus::Gauge* route_version_ = nullptr;
  prometheus::Counter* invariant_violations_ = nullptr;
  std::atomic<std::uint64_t> invariant_violations_copied_{0};
};

}  // namespace overline::controller
