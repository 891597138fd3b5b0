#include "controller/controller_metrics.h"

#include <prometheus/counter.h>
#include <prometheus/exposer.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <exception>

namespace overline::controller {
namespace {

constexpr const char* kIgnoredReasonNames[kIgnoredLinkReasonCount] = {"unknown_node", "bad_line", "bad_figures",
                                                                        "duplicate"};

}  // namespace

ControllerMetrics::ControllerMetrics() : registry_(std::make_shared<prometheus::Registry>()) {
  prometheus::Registry& r = *registry_;
  connected_relays_ = &prometheus::BuildGauge()
                           .Name("overline_controller_connected_relays")
                           .Help("Relays with an accepted session.")
                           .Register(r)
                           .Add({});
  reports_received_ = &prometheus::BuildCounter()
                           .Name("overline_controller_reports_received_total")
                           .Help("Relay reports received on accepted sessions.")
                           .Register(r)
                           .Add({});
  auto& ignored = prometheus::BuildCounter()
                      .Name("overline_controller_ignored_link_reports_total")
                      .Help("Link reports left out of routing, by reason.")
                      .Register(r);
  for (std::size_t i = 0; i < kIgnoredLinkReasonCount; ++i) {
    ignored_link_reports_[i] = &ignored.Add({{"reason", kIgnoredReasonNames[i]}});
  }
  route_computation_ = &prometheus::BuildHistogram()
                            .Name("overline_controller_route_computation_seconds")
                            .Help("Duration of one route computation over the whole topology.")
                            .Register(r)
                            .Add({}, prometheus::Histogram::BucketBoundaries{0.0001, 0.00025, 0.0005, 0.001,
                                                                              0.0025, 0.005, 0.01, 0.025, 0.05,
                                                                              0.1, 0.25, 0.5, 1, 2.5});
  route_pushes_ = &prometheus::BuildCounter()
                       .Name("overline_controller_route_pushes_total")
                       .Help("Route tables queued to relays.")
                       .Register(r)
                       .Add({});
  route_version_ = &prometheus::BuildGauge()
                        .Name("overline_controller_route_version")
                        .Help("Highest route-table version persisted.")
                        .Register(r)
                        .Add({});
}

// The exposer goes first: it reads the registry.
ControllerMetrics::~ControllerMetrics() = default;

Result<Endpoint, std::string> ControllerMetrics::serve(const Endpoint& listen) {
  try {
    // prometheus-cpp reports a failed listen only by throwing.
    exposer_ = std::make_unique<prometheus::Exposer>(listen.toString());
    exposer_->RegisterCollectable(registry_);
  } catch (const std::exception& e) {
    return Err("metrics: cannot listen on " + listen.toString() + ": " + e.what());
  }
  const std::vector<int> ports = exposer_->GetListeningPorts();
  if (ports.empty()) return Err("metrics: cannot listen on " + listen.toString() + ": no listening port");
  return listen.withPort(static_cast<std::uint16_t>(ports.front()));
}

void ControllerMetrics::setConnectedRelays(std::size_t count) { connected_relays_->Set(static_cast<double>(count)); }
void ControllerMetrics::countReport() { reports_received_->Increment(); }
void ControllerMetrics::countIgnoredLinkReport(IgnoredLinkReason reason) {
  ignored_link_reports_[static_cast<std::size_t>(reason)]->Increment();
}
void ControllerMetrics::observeRouteComputation(double seconds) { route_computation_->Observe(seconds); }
void ControllerMetrics::countRoutePushes(std::size_t count) {
  route_pushes_->Increment(static_cast<double>(count));
}
void ControllerMetrics::setRouteVersion(std::uint64_t version) {
  route_version_->Set(static_cast<double>(version));
}

}  // namespace overline::controller
