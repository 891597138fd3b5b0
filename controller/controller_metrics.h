#pragma once
// The controller's Prometheus metrics and their /metrics endpoint.
//
// Threads: every method may be called from any thread (prometheus-cpp
// metric objects are thread-safe); scrapes run on the exposer's threads.
//
// Names (base units; counters end in _total):
//   gauge     overline_controller_connected_relays        relays with an accepted session
//   counter   overline_controller_reports_received_total  RelayReports from accepted sessions
//   counter   overline_controller_ignored_link_reports_total{reason}
//             LinkReports left out: unknown_node, bad_line, bad_figures, duplicate
//   histogram overline_controller_route_computation_seconds  one computeRoutes() run
//   counter   overline_controller_route_pushes_total      RouteTable messages queued to relays
//   gauge     overline_controller_route_version           highest route-table version persisted

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "common/endpoint.h"
#include "common/result.h"

namespace prometheus {
class Counter;
class Exposer;
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

  // Starts serving /metrics on `listen` (port 0 = ephemeral); returns the
  // address actually listened on, or "metrics: cannot listen on <addr>: <reason>".
  Result<Endpoint, std::string> serve(const Endpoint& listen);

  void setConnectedRelays(std::size_t count);
  void countReport();
  void countIgnoredLinkReport(IgnoredLinkReason reason);
  void observeRouteComputation(double seconds);
  void countRoutePushes(std::size_t count);
  void setRouteVersion(std::uint64_t version);

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<prometheus::Exposer> exposer_;
  prometheus::Gauge* connected_relays_ = nullptr;
  prometheus::Counter* reports_received_ = nullptr;
  prometheus::Counter* ignored_link_reports_[kIgnoredLinkReasonCount] = {};
  prometheus::Histogram* route_computation_ = nullptr;
  prometheus::Counter* route_pushes_ = nullptr;
  prometheus::Gauge* route_version_ = nullptr;
};

}  // namespace overline::controller
