#include "relay/io/relay_metrics.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <string>
#include <string_view>

#include "common/check/invariant.h"

namespace overline::relay {
namespace {

constexpr std::uint64_t kCopyIntervalMs = 250;

// Monotonic, like the loop's clock; callable from any thread.
TimeUs monotonicNowUs() { return static_cast<TimeUs>(uv_hrtime() / 1000); }

prometheus::Counter* addCounter(prometheus::Registry& registry, const std::string& name,
                                const std::string& help, const prometheus::Labels& labels = {}) {
  return &prometheus::BuildCounter().Name(name).Help(help).Register(registry).Add(labels);
}

prometheus::Gauge* addGauge(prometheus::Registry& registry, const std::string& name, const std::string& help,
                            const prometheus::Labels& labels = {}) {
  return &prometheus::BuildGauge().Name(name).Help(help).Register(registry).Add(labels);
}

// A counter family of relay_counter_list.h: its series differ in one label.
struct CounterFamily {
  prometheus::Family<prometheus::Counter>& family;
  std::string label;
  prometheus::Counter* add(std::string_view value) const { return &family.Add({{label, std::string(value)}}); }
};

}  // namespace

void CopiedCounter::copyFrom(std::uint64_t value) {
  if (value > copied) metric->Increment(static_cast<double>(value - copied));
  copied = value;
}

RelayCoreMetrics::RelayCoreMetrics(prometheus::Registry& registry) {
#define OVERLINE_RELAY_FAMILY(family, name, label, help) \
  const CounterFamily family{prometheus::BuildCounter().Name(name).Help(help).Register(registry), label};
#define OVERLINE_RELAY_COUNTER(field, name, help) field##_.metric = addCounter(registry, name, help);
#define OVERLINE_RELAY_LABELLED(field, family, value) field##_.metric = family.add(value);
#define OVERLINE_RELAY_ARRAY(field, Enum, count, family) \
  for (std::size_t i = 0; i < (count); ++i) field##_[i].metric = family.add(toString(static_cast<Enum>(i)));
#define OVERLINE_RELAY_NO_METRIC(field)
#define OVERLINE_RELAY_GAUGE(type, field, name, help) field##_ = addGauge(registry, name, help);
  OVERLINE_RELAY_COUNTER_FAMILIES(OVERLINE_RELAY_FAMILY)
  OVERLINE_RELAY_COUNTERS(OVERLINE_RELAY_COUNTER, OVERLINE_RELAY_LABELLED, OVERLINE_RELAY_ARRAY,
                          OVERLINE_RELAY_NO_METRIC)
  OVERLINE_RELAY_GAUGES(OVERLINE_RELAY_GAUGE)
#undef OVERLINE_RELAY_FAMILY
#undef OVERLINE_RELAY_COUNTER
#undef OVERLINE_RELAY_LABELLED
#undef OVERLINE_RELAY_ARRAY
#undef OVERLINE_RELAY_NO_METRIC
#undef OVERLINE_RELAY_GAUGE
}

void RelayCoreMetrics::copy(const RelayCounters& counters, const RelayGauges& gauges) {
#define OVERLINE_RELAY_COPY(field, ...) field##_.copyFrom(counters.field);
#define OVERLINE_RELAY_COPY_ARRAY(field, ...) \
  for (std::size_t i = 0; i < field##_.size(); ++i) field##_[i].copyFrom(counters.field[i]);
#define OVERLINE_RELAY_NO_METRIC(field)
#define OVERLINE_RELAY_SET(type, field, ...) field##_->Set(static_cast<double>(gauges.field));
  OVERLINE_RELAY_COUNTERS(OVERLINE_RELAY_COPY, OVERLINE_RELAY_COPY, OVERLINE_RELAY_COPY_ARRAY, OVERLINE_RELAY_NO_METRIC)
  OVERLINE_RELAY_GAUGES(OVERLINE_RELAY_SET)
#undef OVERLINE_RELAY_COPY
#undef OVERLINE_RELAY_COPY_ARRAY
#undef OVERLINE_RELAY_NO_METRIC
#undef OVERLINE_RELAY_SET
}

Result<std::unique_ptr<RelayMetrics>, std::string> RelayMetrics::start(uv_loop_t& loop,
                                                                       const Endpoint& listen,
                                                                       const RelayCore& core,
                                                                       const RelayIo& io, const Info& info,
                                                                       const ControlStatus* control) {
  std::unique_ptr<RelayMetrics> metrics(new RelayMetrics(loop, core, io, info, control));
  // Copied before serving, so the first request sees real values.
  metrics->copy();
  const RelayMetrics* self = metrics.get();  // outlives server_, its member
  auto server = http::StatusServer::start(
      listen, *metrics->registry_, [self] { return self->liveness(); }, [self] { return self->readiness(); });
  if (!server) return Err("metrics: " + server.error());
  metrics->server_ = std::move(server.value());
  metrics->copy_timer_.start(kCopyIntervalMs);
  return metrics;
}

RelayMetrics::RelayMetrics(uv_loop_t& loop, const RelayCore& core, const RelayIo& io, const Info& info,
                           const ControlStatus* control)
    : core_(core),
      io_(io),
      control_(control),
      registry_(std::make_shared<prometheus::Registry>()),
      copy_timer_(loop, [this] { copy(); }),
      core_metrics_(*registry_) {
  createMetrics(info);
}

// Members go in reverse order: the copy timer closes, then the server stops
// serving, then the registry and health state they read.
RelayMetrics::~RelayMetrics() = default;

void RelayMetrics::setDraining() {
  draining_ = true;
  publishHealth();
}

void RelayMetrics::setCertificateExpiry(std::int64_t not_after_unix_s) {
  certificate_expiry_->Set(static_cast<double>(not_after_unix_s));
}

void RelayMetrics::stop() {
  copy();
  copy_timer_.close();
}

void RelayMetrics::publishHealth() {
  loop_heartbeat_.beat(monotonicNowUs(), kMaxLoopSilenceUs);
  const RelayReadinessInput input{
      .lines_open = io_.linesOpen(),
      .draining = draining_,
      .controller_configured = control_ != nullptr,
      .controller_connected = control_ != nullptr && control_->connected,
      .controller_tables = control_ != nullptr && control_->route_tables_applied > 0,
  };
  readiness_.store(decideRelayReadiness(input));
}

http::ProbeResult RelayMetrics::liveness() const {
  return loop_heartbeat_.check(monotonicNowUs(), "event loop");
}

http::ProbeResult RelayMetrics::readiness() const {
  const RelayReadiness verdict = readiness_.load();
  if (verdict == RelayReadiness::kReady) return {};
  return {false, std::string(toString(verdict))};
}

void RelayMetrics::createMetrics(const Info& info) {
  prometheus::Registry& r = *registry_;
  auto& line_packets_received = prometheus::BuildCounter()
                                    .Name("overline_relay_line_packets_received_total")
                                    .Help("Datagrams received on a line.")
                                    .Register(r);
  auto& line_bytes_received = prometheus::BuildCounter()
                                  .Name("overline_relay_line_bytes_received_total")
                                  .Help("Bytes of datagrams received on a line.")
                                  .Register(r);
  auto& line_packets_sent = prometheus::BuildCounter()
                                .Name("overline_relay_line_packets_sent_total")
                                .Help("Datagrams the kernel accepted for sending on a line.")
                                .Register(r);
  auto& line_bytes_sent = prometheus::BuildCounter()
                              .Name("overline_relay_line_bytes_sent_total")
                              .Help("Bytes of datagrams the kernel accepted for sending on a line.")
                              .Register(r);
  auto& line_send_errors =
      prometheus::BuildCounter()
          .Name("overline_relay_line_send_errors_total")
          .Help("Datagrams the kernel refused on a line (full buffer, unreachable, ...).")
          .Register(r);
  auto& line_send_calls = prometheus::BuildCounter()
                              .Name("overline_relay_line_send_calls_total")
                              .Help("sendmmsg calls on a line: packets sent per call is the egress batching.")
                              .Register(r);
  for (std::size_t i = 0; i < io_.lineCount(); ++i) {
    const prometheus::Labels labels{{"line", io_.line(static_cast<LineIndex>(i)).name()}};
    LineMetrics line;
    line.packets_received.metric = &line_packets_received.Add(labels);
    line.bytes_received.metric = &line_bytes_received.Add(labels);
    line.packets_sent.metric = &line_packets_sent.Add(labels);
    line.bytes_sent.metric = &line_bytes_sent.Add(labels);
    line.send_errors.metric = &line_send_errors.Add(labels);
    line.send_calls.metric = &line_send_calls.Add(labels);
    lines_.push_back(line);
  }

  createLinkMetrics();
  createControlMetrics();

  invariant_violations_.metric =
      addCounter(r, "overline_invariant_violations_total",
                 "Broken internal invariants (common/check/invariant.h), each recovered from and logged.");

  addGauge(r, "overline_relay_info", "Constant 1, labelled with this relay's identity.",
           {{"node_id", std::to_string(info.node_id)}, {"region", info.region}, {"version", info.version}})
      ->Set(1);
}

void RelayMetrics::createLinkMetrics() {
  prometheus::Registry& r = *registry_;
  link_rtt_ = &prometheus::BuildGauge()
                   .Name("overline_relay_link_rtt_seconds")
                   .Help("Smoothed round-trip time of a link (EWMA 1/8 of probe RTTs); 0 until measured.")
                   .Register(r);
  link_jitter_ = &prometheus::BuildGauge()
                      .Name("overline_relay_link_jitter_seconds")
                      .Help("Mean deviation of a link's probe RTTs (EWMA 1/4).")
                      .Register(r);
  link_loss_ = &prometheus::BuildGauge()
                    .Name("overline_relay_link_loss_ratio")
                    .Help("Share of a link's recent probes that went unanswered, 0..1.")
                    .Register(r);
  link_state_ = &prometheus::BuildGauge()
                     .Name("overline_relay_link_state")
                     .Help("Link state: 2 up, 1 degraded, 0 down, -1 not measured yet.")
                     .Register(r);
  link_active_ = &prometheus::BuildGauge()
                      .Name("overline_relay_link_active")
                      .Help("1 on the link that carries a neighbour's traffic, else 0.")
                      .Register(r);
  syncLinkSeries(core_.links());
}

void RelayMetrics::syncLinkSeries(const std::vector<LinkSnapshot>& links) {
  std::map<LinkKey, LinkMetrics> current;
  for (const LinkSnapshot& link : links) {
    const LinkKey key{link.neighbour, link.local_line, link.remote_line};
    if (const auto it = links_.find(key); it != links_.end()) {
      current.emplace(key, it->second);
      links_.erase(it);
      continue;
    }
    const prometheus::Labels labels{{"neighbour", std::to_string(link.neighbour)},
                                    {"local_line", io_.line(link.local_line).name()},
                                    {"remote_line", std::to_string(link.remote_line)}};
    current.emplace(key, LinkMetrics{&link_rtt_->Add(labels), &link_jitter_->Add(labels), &link_loss_->Add(labels),
                                     &link_state_->Add(labels), &link_active_->Add(labels)});
  }
  // What is left belongs to neighbours that are gone.
  for (const auto& [key, gone] : links_) {
    link_rtt_->Remove(gone.rtt);
    link_jitter_->Remove(gone.jitter);
    link_loss_->Remove(gone.loss);
    link_state_->Remove(gone.state);
    link_active_->Remove(gone.active);
  }
  links_ = std::move(current);
}

void RelayMetrics::createControlMetrics() {
  prometheus::Registry& r = *registry_;
  controller_connected_ = addGauge(r, "overline_relay_controller_connected",
                                   "1 while the controller session is established, else 0.");
  certificate_expiry_ = addGauge(r, "overline_relay_controller_certificate_expiry_timestamp_seconds",
                                 "notAfter of this relay's controller certificate (Unix s); 0 without a controller.");
  controller_sessions_.metric =
      addCounter(r, "overline_relay_controller_sessions_total", "Controller sessions established (accepted hellos).");
  route_table_version_ = addGauge(r, "overline_relay_route_table_version",
                                  "Version of the controller's route table in use; 0 before the first.");
  route_table_age_ = addGauge(r, "overline_relay_route_table_age_seconds",
                              "Seconds since the last route table was applied; 0 before any.");
  route_tables_applied_.metric = addCounter(r, "overline_relay_route_tables_applied_total",
                                            "Route tables from the controller applied (resends of the running one "
                                            "included).");
  route_tables_ignored_.metric =
      addCounter(r, "overline_relay_route_tables_ignored_total",
                 "Route tables from the controller ignored: older than the one in use (fencing).");
  peer_lists_applied_.metric =
      addCounter(r, "overline_relay_peer_lists_applied_total", "Peer lists from the controller applied.");
  pushed_keys_ignored_.metric = addCounter(
      r, "overline_relay_pushed_keys_ignored_total",
      "Pair keys in the controller's peer lists refused (epoch 0, not 16 bytes, repeated epoch, too many).");
  peers_without_key_.metric =
      addCounter(r, "overline_relay_peers_without_key_total",
                 "Pushed peers left out: no usable pushed key and no auth.mesh_keys to derive one.");
}

double RelayMetrics::stateValue(LinkState state) {
  switch (state) {
    case LinkState::kUp: return 2;
    case LinkState::kDegraded: return 1;
    case LinkState::kDown: return 0;
    case LinkState::kUnknown: return -1;
  }
  return -1;
}

void RelayMetrics::copy() {
  core_metrics_.copy(core_.counters(), core_.gauges());
  invariant_violations_.copyFrom(invariantViolations());

  const std::vector<LinkSnapshot> links = core_.links();
  syncLinkSeries(links);
  for (const LinkSnapshot& link : links) {
    constexpr double kSecondsPerUs = 1e-6;
    const LinkMetrics& m = links_.at({link.neighbour, link.local_line, link.remote_line});
    m.rtt->Set(static_cast<double>(link.srtt_us) * kSecondsPerUs);
    m.jitter->Set(static_cast<double>(link.jitter_us) * kSecondsPerUs);
    m.loss->Set(link.loss_ratio);
    m.state->Set(stateValue(link.state));
    m.active->Set(link.active ? 1 : 0);
  }

  if (control_ != nullptr) {
    controller_connected_->Set(control_->connected ? 1 : 0);
    controller_sessions_.copyFrom(control_->sessions_established);
    route_table_version_->Set(static_cast<double>(control_->route_table_version));
    if (control_->route_table_applied_at_us) {
      const TimeUs now_us = monotonicNowUs();
      route_table_age_->Set(static_cast<double>(now_us - *control_->route_table_applied_at_us) / kSecond);
    }
    route_tables_applied_.copyFrom(control_->route_tables_applied);
    route_tables_ignored_.copyFrom(control_->route_tables_ignored);
    peer_lists_applied_.copyFrom(control_->peer_lists_applied);
    pushed_keys_ignored_.copyFrom(control_->pushed_keys_ignored);
    peers_without_key_.copyFrom(control_->peers_without_key);
  }

  for (std::size_t i = 0; i < lines_.size(); ++i) {
    const LineCounters& lc = io_.line(static_cast<LineIndex>(i)).counters();
    LineMetrics& m = lines_[i];
    m.packets_received.copyFrom(lc.packets_received);
    m.bytes_received.copyFrom(lc.bytes_received);
    m.packets_sent.copyFrom(lc.packets_sent);
    m.bytes_sent.copyFrom(lc.bytes_sent);
    m.send_errors.copyFrom(lc.send_errors);
    m.send_calls.copyFrom(lc.send_calls);
  }
  publishHealth();
}

}  // namespace overline::relay
