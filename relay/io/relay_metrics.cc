#include "relay/io/relay_metrics.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

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

}  // namespace

void RelayMetrics::CopiedCounter::copyFrom(std::uint64_t value) {
  if (value > copied) metric->Increment(static_cast<double>(value - copied));
  copied = value;
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
      copy_timer_(loop, [this] { copy(); }) {
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
  packets_received_.metric = addCounter(r, "overline_relay_packets_received_total",
                                        "Datagrams received on all lines and handed to the core.");
  bytes_received_.metric = addCounter(r, "overline_relay_bytes_received_total",
                                      "Bytes of datagrams received on all lines and handed to the core.");
  packets_sent_.metric = addCounter(r, "overline_relay_packets_sent_total", "Datagrams the core sent.");
  bytes_sent_.metric = addCounter(r, "overline_relay_bytes_sent_total", "Bytes of datagrams the core sent.");
  data_received_.metric =
      addCounter(r, "overline_relay_data_packets_received_total", "DATA packets received.");
  data_forwarded_.metric = addCounter(r, "overline_relay_data_packets_forwarded_total",
                                      "DATA copies sent downstream (one per downstream).");
  subscribes_received_.metric = addCounter(r, "overline_relay_subscribes_received_total",
                                           "SUBSCRIBE packets received (joins and refreshes).");
  subscribes_sent_.metric =
      addCounter(r, "overline_relay_subscribes_sent_total", "SUBSCRIBE packets sent upstream.");
  unsubscribes_received_.metric =
      addCounter(r, "overline_relay_unsubscribes_received_total", "UNSUBSCRIBE packets received.");
  unsubscribes_sent_.metric =
      addCounter(r, "overline_relay_unsubscribes_sent_total", "UNSUBSCRIBE packets sent upstream.");
  downstreams_expired_.metric =
      addCounter(r, "overline_relay_downstreams_expired_total",
                 "Downstream subscriptions removed because they were not refreshed.");
  clients_expired_.metric =
      addCounter(r, "overline_relay_clients_expired_total", "SDK clients removed because they went silent.");
  challenges_sent_.metric = addCounter(r, "overline_relay_challenges_sent_total",
                                       "CHALLENGEs (stateless cookies) sent in answer to untagged HELLOs.");
  welcomes_sent_.metric = addCounter(r, "overline_relay_welcomes_sent_total",
                                     "WELCOMEs sent: joins with a valid cookie and token.");
  client_sessions_replaced_.metric =
      addCounter(r, "overline_relay_client_sessions_replaced_total",
                 "Client sessions replaced by a new join from the same address and port.");
  client_tokens_expired_.metric = addCounter(r, "overline_relay_client_tokens_expired_total",
                                             "Client sessions ended because their join token expired.");
  client_tokens_renewed_.metric = addCounter(r, "overline_relay_client_tokens_renewed_total",
                                             "Fresh join tokens accepted in keepalives (session extended).");

  auto& dropped = prometheus::BuildCounter()
                      .Name("overline_relay_dropped_packets_total")
                      .Help("Packets not forwarded, by reason (drop reasons and wire parse errors).")
                      .Register(r);
  for (std::size_t i = 0; i < kDropReasonCount; ++i) {
    const std::string reason(toString(static_cast<DropReason>(i)));
    dropped_.push_back({&dropped.Add({{"reason", reason}}), 0});
  }
  for (std::size_t i = 0; i < wire::kParseErrorCount; ++i) {
    const std::string reason(wire::toString(static_cast<wire::ParseError>(i)));
    malformed_.push_back({&dropped.Add({{"reason", reason}}), 0});
  }

  streams_ = addGauge(r, "overline_relay_streams", "Streams with at least one downstream.");
  downstreams_ = addGauge(r, "overline_relay_downstreams", "(stream, downstream) pairs.");
  clients_ = addGauge(r, "overline_relay_clients", "Joined SDK clients.");
  upstream_subscriptions_ =
      addGauge(r, "overline_relay_upstream_subscriptions", "Streams this relay subscribes to upstream.");
  extra_upstream_subscriptions_ =
      addGauge(r, "overline_relay_extra_upstream_subscriptions",
               "(stream, extra upstream) pairs: branches toward a stream's other origins.");
  directory_streams_ = addGauge(r, "overline_relay_directory_streams",
                                "Streams with an announced origin in this relay's stream directory.");
  local_publications_ = addGauge(r, "overline_relay_local_publications", "Streams a client publishes at this relay.");
  auth_sending_epoch_ = addGauge(r, "overline_relay_auth_sending_epoch",
                                 "Highest key epoch packets to a neighbour are tagged with; 0: none.");

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
  for (std::size_t i = 0; i < io_.lineCount(); ++i) {
    const prometheus::Labels labels{{"line", io_.line(static_cast<LineIndex>(i)).name()}};
    LineMetrics line;
    line.packets_received.metric = &line_packets_received.Add(labels);
    line.bytes_received.metric = &line_bytes_received.Add(labels);
    line.packets_sent.metric = &line_packets_sent.Add(labels);
    line.bytes_sent.metric = &line_bytes_sent.Add(labels);
    line.send_errors.metric = &line_send_errors.Add(labels);
    lines_.push_back(line);
  }

  createLinkMetrics();
  createControlMetrics();
  createRecoveryMetrics();

  invariant_violations_.metric =
      addCounter(r, "overline_invariant_violations_total",
                 "Broken internal invariants (common/check/invariant.h), each recovered from and logged.");

  addGauge(r, "overline_relay_info", "Constant 1, labelled with this relay's identity.",
           {{"node_id", std::to_string(info.node_id)}, {"region", info.region}, {"version", info.version}})
      ->Set(1);
}

void RelayMetrics::createLinkMetrics() {
  prometheus::Registry& r = *registry_;
  path_switches_.metric = addCounter(r, "overline_relay_path_switches_total",
                                     "Changes of the link carrying a neighbour's traffic.");
  failovers_.metric = addCounter(r, "overline_relay_failovers_total",
                                 "Route next hops moved away from a neighbour whose links are all down.");
  failbacks_.metric = addCounter(r, "overline_relay_failbacks_total",
                                 "Route next hops returned to their primary after the failback hold.");
  auto& probe_packets = prometheus::BuildCounter()
                            .Name("overline_relay_probe_packets_sent_total")
                            .Help("Link probes (kind=probe) and probe answers (kind=ack) sent.")
                            .Register(r);
  probes_sent_.metric = &probe_packets.Add({{"kind", "probe"}});
  probe_acks_sent_.metric = &probe_packets.Add({{"kind", "ack"}});
  probe_bytes_sent_.metric =
      addCounter(r, "overline_relay_probe_bytes_sent_total", "Bytes of link probes and probe answers sent.");
  redundant_copies_sent_.metric = addCounter(r, "overline_relay_redundant_copies_sent_total",
                                             "Second copies of redundant DATA sent on a second link.");

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

void RelayMetrics::createRecoveryMetrics() {
  prometheus::Registry& r = *registry_;
  nack_packets_sent_.metric =
      addCounter(r, "overline_relay_nack_packets_sent_total", "NACK packets sent upstream (one per link used).");
  nack_sequences_sent_.metric =
      addCounter(r, "overline_relay_nack_sequences_sent_total", "DATA sequences requested again by NACKs sent.");
  nack_packets_received_.metric =
      addCounter(r, "overline_relay_nack_packets_received_total", "NACK packets received from neighbours.");
  retransmissions_sent_.metric = addCounter(r, "overline_relay_retransmissions_sent_total",
                                            "DATA copies retransmitted in answer to NACKs (one per link used).");
  retransmissions_received_.metric = addCounter(r, "overline_relay_retransmissions_received_total",
                                                "Retransmitted DATA received from neighbours.");
  auto& recovered = prometheus::BuildCounter()
                        .Name("overline_relay_recovered_packets_total")
                        .Help("Missing DATA sequences filled, by recovery method.")
                        .Register(r);
  recovered_nack_.metric = &recovered.Add({{"method", "nack"}});
  recovered_fec_.metric = &recovered.Add({{"method", "fec"}});
  fec_packets_sent_.metric =
      addCounter(r, "overline_relay_fec_packets_sent_total", "FEC parity packets sent to downstream neighbours.");
  fec_packets_received_.metric =
      addCounter(r, "overline_relay_fec_packets_received_total", "FEC parity packets received from neighbours.");
  nacks_held_for_fec_.metric =
      addCounter(r, "overline_relay_nacks_held_for_fec_total",
                 "Due NACK sequences deferred to their next round because a pending FEC group may repair them.");
  fec_decode_failures_.metric =
      addCounter(r, "overline_relay_fec_decode_failures_total",
                 "FEC-decoded blocks that were not a valid DATA block (parity not matching the data).");
  fec_inconsistent_.metric = addCounter(r, "overline_relay_fec_inconsistent_total",
                                        "FEC parity or DATA contradicting the FEC group it belongs to.");
  unrecovered_.metric = addCounter(r, "overline_relay_unrecovered_packets_total",
                                   "Missing DATA sequences given up once their latency budget ran out.");
  nack_misses_.metric = addCounter(r, "overline_relay_nack_misses_total",
                                   "Sequences requested by NACKs that the retransmit buffer did not hold.");
  retransmit_budget_expired_.metric =
      addCounter(r, "overline_relay_retransmit_budget_expired_total",
                 "Sequences requested by NACKs whose latency budget had passed (not retransmitted).");
  retransmit_buffer_evictions_.metric =
      addCounter(r, "overline_relay_retransmit_buffer_evictions_total",
                 "Packets pushed out of the retransmit buffer by its size limits before their budget passed.");
  filled_copies_sent_.metric =
      addCounter(r, "overline_relay_filled_copies_sent_total",
                 "Second copies, on another link, of DATA that filled a gap here, forwarded over a lossy link.");
  announces_sent_.metric = addCounter(r, "overline_relay_announces_sent_total",
                                      "ANNOUNCE packets for this relay's own publications, one per neighbour.");
  announces_received_.metric =
      addCounter(r, "overline_relay_announces_received_total", "Well-formed ANNOUNCE packets from neighbours.");
  announces_forwarded_.metric = addCounter(r, "overline_relay_announces_forwarded_total",
                                           "ANNOUNCE packets flooded on to a neighbour.");
  announces_seen_.metric = addCounter(r, "overline_relay_announces_seen_total",
                                      "ANNOUNCE packets that had already arrived over another path (not flooded).");
  origin_moves_.metric = addCounter(r, "overline_relay_origin_moves_total",
                                    "Streams whose upstreams changed because their origins did.");
  auto& sent_bytes = prometheus::BuildCounter()
                         .Name("overline_relay_sent_bytes_total")
                         .Help("Datagram bytes sent to neighbour relays, by kind of packet.")
                         .Register(r);
  for (std::size_t i = 0; i < kSentKindCount; ++i) {
    sent_bytes_.push_back({&sent_bytes.Add({{"kind", std::string(toString(static_cast<SentKind>(i)))}}), 0});
  }
  data_payload_bytes_.metric =
      addCounter(r, "overline_relay_data_payload_bytes_total",
                 "Payload bytes of first-transmission DATA sent to neighbour relays (once per neighbour).");
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
  const RelayCounters& c = core_.counters();
  packets_received_.copyFrom(c.packets_received);
  bytes_received_.copyFrom(c.bytes_received);
  packets_sent_.copyFrom(c.packets_sent);
  bytes_sent_.copyFrom(c.bytes_sent);
  data_received_.copyFrom(c.data_received);
  data_forwarded_.copyFrom(c.data_forwarded);
  subscribes_received_.copyFrom(c.subscribes_received);
  subscribes_sent_.copyFrom(c.subscribes_sent);
  unsubscribes_received_.copyFrom(c.unsubscribes_received);
  unsubscribes_sent_.copyFrom(c.unsubscribes_sent);
  downstreams_expired_.copyFrom(c.downstreams_expired);
  clients_expired_.copyFrom(c.clients_expired);
  challenges_sent_.copyFrom(c.challenges_sent);
  welcomes_sent_.copyFrom(c.welcomes_sent);
  client_sessions_replaced_.copyFrom(c.client_sessions_replaced);
  client_tokens_expired_.copyFrom(c.client_tokens_expired);
  client_tokens_renewed_.copyFrom(c.client_tokens_renewed);
  invariant_violations_.copyFrom(invariantViolations());
  path_switches_.copyFrom(c.path_switches);
  failovers_.copyFrom(c.failovers);
  failbacks_.copyFrom(c.failbacks);
  probes_sent_.copyFrom(c.probes_sent);
  probe_acks_sent_.copyFrom(c.probe_acks_sent);
  probe_bytes_sent_.copyFrom(c.probe_bytes_sent);
  redundant_copies_sent_.copyFrom(c.redundant_copies_sent);
  nack_packets_sent_.copyFrom(c.nack_packets_sent);
  nack_sequences_sent_.copyFrom(c.nack_sequences_sent);
  nack_packets_received_.copyFrom(c.nack_packets_received);
  retransmissions_sent_.copyFrom(c.retransmissions_sent);
  retransmissions_received_.copyFrom(c.retransmissions_received);
  recovered_nack_.copyFrom(c.recovered_nack);
  recovered_fec_.copyFrom(c.recovered_fec);
  fec_packets_sent_.copyFrom(c.fec_packets_sent);
  fec_packets_received_.copyFrom(c.fec_packets_received);
  nacks_held_for_fec_.copyFrom(c.nacks_held_for_fec);
  fec_decode_failures_.copyFrom(c.fec_decode_failures);
  fec_inconsistent_.copyFrom(c.fec_inconsistent);
  unrecovered_.copyFrom(c.unrecovered);
  nack_misses_.copyFrom(c.nack_misses);
  retransmit_budget_expired_.copyFrom(c.retransmit_budget_expired);
  retransmit_buffer_evictions_.copyFrom(c.retransmit_buffer_evictions);
  filled_copies_sent_.copyFrom(c.filled_copies_sent);
  announces_sent_.copyFrom(c.announces_sent);
  announces_received_.copyFrom(c.announces_received);
  announces_forwarded_.copyFrom(c.announces_forwarded);
  announces_seen_.copyFrom(c.announces_seen);
  origin_moves_.copyFrom(c.origin_moves);
  for (std::size_t i = 0; i < sent_bytes_.size(); ++i) sent_bytes_[i].copyFrom(c.neighbour_bytes_sent[i]);
  data_payload_bytes_.copyFrom(c.data_payload_bytes_sent);
  for (std::size_t i = 0; i < dropped_.size(); ++i) dropped_[i].copyFrom(c.dropped[i]);
  for (std::size_t i = 0; i < malformed_.size(); ++i) malformed_[i].copyFrom(c.malformed[i]);

  const RelayGauges g = core_.gauges();
  streams_->Set(static_cast<double>(g.streams));
  downstreams_->Set(static_cast<double>(g.downstreams));
  clients_->Set(static_cast<double>(g.clients));
  upstream_subscriptions_->Set(static_cast<double>(g.upstream_subscriptions));
  extra_upstream_subscriptions_->Set(static_cast<double>(g.extra_upstream_subscriptions));
  directory_streams_->Set(static_cast<double>(g.directory_streams));
  local_publications_->Set(static_cast<double>(g.local_publications));
  auth_sending_epoch_->Set(static_cast<double>(g.auth_sending_epoch));

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
  }
  publishHealth();
}

}  // namespace overline::relay
