#include "controller/controller_metrics.h"

#include <prometheus/collectable.h>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <algorithm>
#include <chrono>
#include <vector>

#include "common/check/invariant.h"
#include "controller/core/controller_readiness.h"

namespace overline::controller {
namespace {

constexpr const char* kIgnoredReasonNames[kIgnoredLinkReasonCount] = {"unknown_node", "bad_line", "bad_figures",
                                                                        "duplicate"};

// The route worker may sleep a whole recompute interval between turns; a
// few of them missed, or 5 s for short intervals, means it is stuck.
constexpr DurationUs kMinWorkerSilenceUs = 5 * kSecond;
constexpr int kMissedTurns = 3;

TimeUs monotonicNowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

class ControllerMetrics::Scrape final : public prometheus::Collectable {
 public:
  explicit Scrape(ControllerMetrics& metrics) : metrics_(metrics) {}
  std::vector<prometheus::MetricFamily> Collect() const override {
    metrics_.copyInvariantViolations();
    return metrics_.registry_->Collect();
  }

 private:
  ControllerMetrics& metrics_;
};

ControllerMetrics::ControllerMetrics()
    : registry_(std::make_shared<prometheus::Registry>()), scrape_(std::make_unique<Scrape>(*this)) {
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
  auto& ignored_reports = prometheus::BuildCounter()
                              .Name("overline_controller_ignored_reports_total")
                              .Help("Whole relay reports left out, by reason.")
                              .Register(r);
  ignored_reports_[static_cast<std::size_t>(IgnoredReportReason::kTooFrequent)] =
      &ignored_reports.Add({{"reason", "too_frequent"}});
  ignored_reports_[static_cast<std::size_t>(IgnoredReportReason::kTooLarge)] =
      &ignored_reports.Add({{"reason", "too_large"}});
  refused_calls_ = &prometheus::BuildCounter()
                        .Name("overline_controller_refused_calls_total")
                        .Help("gRPC calls refused for their caller's certificate or role, by listener and reason.")
                        .Register(r);
  key_epoch_ = &prometheus::BuildGauge()
                    .Name("overline_controller_key_epoch")
                    .Help("Data-plane key epoch relays send with.")
                    .Register(r)
                    .Add({});
  certificate_expiry_ = &prometheus::BuildGauge()
                             .Name("overline_controller_certificate_expiry_timestamp_seconds")
                             .Help("notAfter of the controller's own certificate (Unix s).")
                             .Register(r)
                             .Add({});
  key_rotations_ = &prometheus::BuildCounter()
                        .Name("overline_controller_key_rotations_total")
                        .Help("Data-plane key epochs started, by schedule or on demand.")
                        .Register(r)
                        .Add({});
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
  invariant_violations_ =
      &prometheus::BuildCounter()
           .Name("overline_invariant_violations_total")
           .Help("Broken internal invariants (common/check/invariant.h), each recovered from and logged.")
           .Register(r)
           .Add({});
}

// The server goes first: it reads the registry and the health state.
ControllerMetrics::~ControllerMetrics() = default;

Result<Endpoint, std::string> ControllerMetrics::serve(const Endpoint& listen) {
  auto server = http::StatusServer::start(
      listen, *scrape_, [this] { return liveness(); }, [this] { return readiness(); });
  if (!server) return Err("metrics: " + server.error());
  server_ = std::move(server.value());
  return server_->listenEndpoint();
}

void ControllerMetrics::setStoreOpen() { store_open_.store(true); }
void ControllerMetrics::setServing() { serving_.store(true); }
void ControllerMetrics::setStopping() { stopping_.store(true); }
void ControllerMetrics::beatRouteWorker(DurationUs recompute_interval_us) {
  route_worker_heartbeat_.beat(monotonicNowUs(), std::max(kMinWorkerSilenceUs, kMissedTurns * recompute_interval_us));
}

http::ProbeResult ControllerMetrics::liveness() const {
  return route_worker_heartbeat_.check(monotonicNowUs(), "route worker");
}

http::ProbeResult ControllerMetrics::readiness() const {
  const ControllerReadiness verdict = decideControllerReadiness(
      {.store_open = store_open_.load(), .serving = serving_.load(), .stopping = stopping_.load()});
  if (verdict == ControllerReadiness::kReady) return {};
  return {false, std::string(toString(verdict))};
}

void ControllerMetrics::copyInvariantViolations() {
  const std::uint64_t total = invariantViolations();
  std::uint64_t copied = invariant_violations_copied_.load();
  // Concurrent scrapes: only the one that advances the copied total adds the difference.
  while (total > copied) {
    if (invariant_violations_copied_.compare_exchange_weak(copied, total)) {
      invariant_violations_->Increment(static_cast<double>(total - copied));
      return;
    }
  }
}

void ControllerMetrics::setConnectedRelays(std::size_t count) { connected_relays_->Set(static_cast<double>(count)); }
void ControllerMetrics::countReport() { reports_received_->Increment(); }
void ControllerMetrics::countIgnoredLinkReport(IgnoredLinkReason reason) {
  ignored_link_reports_[static_cast<std::size_t>(reason)]->Increment();
}
void ControllerMetrics::countIgnoredReport(IgnoredReportReason reason) {
  ignored_reports_[static_cast<std::size_t>(reason)]->Increment();
}
void ControllerMetrics::countRefusedCall(std::string_view listener, std::string_view reason) {
  // Family::Add is thread-safe and returns the existing counter for known labels.
  refused_calls_->Add({{"listener", std::string(listener)}, {"reason", std::string(reason)}}).Increment();
}
void ControllerMetrics::setKeyEpoch(std::uint32_t epoch) { key_epoch_->Set(static_cast<double>(epoch)); }
void ControllerMetrics::countKeyRotation() { key_rotations_->Increment(); }
void ControllerMetrics::setCertificateExpiry(std::int64_t not_after_unix_s) {
  certificate_expiry_->Set(static_cast<double>(not_after_unix_s));
}
void ControllerMetrics::observeRouteComputation(double seconds) { route_computation_->Observe(seconds); }
void ControllerMetrics::countRoutePushes(std::size_t count) {
  route_pushes_->Increment(static_cast<double>(count));
}
void ControllerMetrics::setRouteVersion(std::uint64_t version) {
  route_version_->Set(static_cast<double>(version));
}

}  // namespace overline::controller
