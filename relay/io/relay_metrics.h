#pragma once
// The relay's status endpoint on metrics.listen (common/http/status_server.h):
// Prometheus /metrics, /healthz and /readyz.
//
// Threads: requests run on the status server's civetweb threads and read only
// prometheus-cpp metric objects, which are thread-safe, and two atomics. The
// core's counters and the per-line counters are plain integers owned by the
// loop thread, so a 250 ms loop timer (and stop()) copies them into the
// Prometheus objects: no request ever touches core or socket state. Counters
// are advanced by the delta since the previous copy, since Prometheus
// counters only go up.
//
// /healthz: 503 once the loop has not run that timer for kMaxLoopSilenceUs
// (a stuck loop). /readyz: relay/core/relay_readiness.h, decided on every
// copy (so it lags by at most 250 ms) and at once by setDraining().
//
// Metric names (base units; counters end in _total):
//   the core's counters and gauges (RelayCoreMetrics): each entry of
//       relay/core/relay_counter_list.h, under the name, help and label it
//       declares there (overline_relay_packets_received_total, ...,
//       overline_relay_streams, ...). Of them, these are labelled:
//         overline_relay_dropped_packets_total{reason}: one series per DropReason
//             and per wire::ParseError (their toString names), all created at 0
//         overline_relay_probe_packets_sent_total{kind="probe"|"ack"}
//         overline_relay_recovered_packets_total{method="nack"|"fec"}
//         overline_relay_sent_bytes_total{kind="data|retransmit|fec|nack|probe|control"}
//             datagram bytes sent to neighbour relays, by SentKind
//   per configured line {line="<name>"}: overline_relay_line_packets_received_total,
//       overline_relay_line_bytes_received_total, overline_relay_line_packets_sent_total,
//       overline_relay_line_bytes_sent_total, overline_relay_line_send_errors_total,
//       overline_relay_line_send_calls_total (sendmmsg calls: packets per call is the batching)
//   overline_relay_info{node_id,region,version} = 1
//   overline_invariant_violations_total: invariantViolations() of the process
//       (common/check/invariant.h; grows only in release builds)
//
// Link probing, path choice, failover and redundancy (relay/core/link_monitor.h,
// path_selector.h, failover_table.h). Per link, labelled
// {neighbour="<node id>", local_line="<this relay's line name>",
//  remote_line="<index of the neighbour's line, 0-based, in its config order>"};
// one series per configured (neighbour, local line, neighbour line), so the
// label set is bounded by the config:
//   gauge overline_relay_link_rtt_seconds      smoothed RTT (EWMA 1/8); 0 until measured
//   gauge overline_relay_link_jitter_seconds   mean deviation of RTT samples (EWMA 1/4)
//   gauge overline_relay_link_loss_ratio       lost / answered-or-lost over the last
//                                              probing.loss_window probes, 0..1
//   gauge overline_relay_link_state            2 up, 1 degraded, 0 down, -1 not measured
//                                              yet (a new link, used as if up)
//   gauge overline_relay_link_active           1 on the link carrying this neighbour's
//                                              traffic, 0 on the others
// Their counters (path switches, failovers, failbacks, probe packets and
// bytes, redundant copies) are in the list. Duplicate DATA drops are
// overline_relay_dropped_packets_total{reason="duplicate"}.
// The link series follow the neighbour set: a neighbour the controller's peer
// list removes loses its series, a new one gains them.
//
// Controller session (relay/control; all 0 without a `controller:` section):
//   gauge overline_relay_controller_connected       1 while a session's hello is
//                                                   accepted and its stream is up
//   overline_relay_controller_sessions_total        sessions established (accepted hellos)
//   gauge overline_relay_route_table_version        version of the controller's route
//                                                   table in use; 0 before the first
//   gauge overline_relay_route_table_age_seconds    since the last table was applied
//                                                   (a resent table counts); 0 before any
//   overline_relay_route_tables_applied_total       route tables applied (resends included)
//   overline_relay_route_tables_ignored_total       tables older than the one in use
//                                                   (fencing; relay/control/route_fence.h)
//   overline_relay_peer_lists_applied_total         peer lists applied
//   overline_relay_pushed_keys_ignored_total        pushed pair keys refused as malformed
//   overline_relay_peers_without_key_total          pushed peers left out for want of a key
//   gauge overline_relay_controller_certificate_expiry_timestamp_seconds
//                                                   notAfter of the certificate the next
//                                                   connection presents (Unix s); 0 without

#include <uv.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "common/endpoint.h"
#include "common/http/heartbeat.h"
#include "common/http/status_server.h"
#include "common/result.h"
#include "common/types.h"
#include "relay/core/relay_core.h"
#include "relay/core/relay_counters.h"
#include "relay/core/relay_readiness.h"
#include "relay/io/control_status.h"
#include "relay/io/relay_io.h"
#include "relay/io/loop_timer.h"

namespace prometheus {
class Counter;
template <typename T>
class Family;
class Gauge;
class Registry;
}  // namespace prometheus

namespace overline::relay {

// A Prometheus counter fed from a monotonic integer: copyFrom() advances it
// by the growth since the previous copy.
struct CopiedCounter {
  prometheus::Counter* metric = nullptr;
  std::uint64_t copied = 0;
  void copyFrom(std::uint64_t value);
};

// The core's RelayCounters and RelayGauges as Prometheus metrics: every
// exported entry of relay/core/relay_counter_list.h registered under its
// name, help and label, and copied by copy(). Loop thread. RelayMetrics owns
// one; apart from it so a test can copy chosen values.
class RelayCoreMetrics {
 public:
  // Registers every series (at 0) in `registry`, which must outlive this.
  explicit RelayCoreMetrics(prometheus::Registry& registry);
  void copy(const RelayCounters& counters, const RelayGauges& gauges);

 private:
#define OVERLINE_RELAY_COPIED_COUNTER(field, ...) CopiedCounter field##_;
#define OVERLINE_RELAY_COPIED_ARRAY(field, Enum, count, family) std::array<CopiedCounter, count> field##_;
#define OVERLINE_RELAY_NO_METRIC(field)
#define OVERLINE_RELAY_GAUGE_METRIC(type, field, ...) prometheus::Gauge* field##_ = nullptr;
  OVERLINE_RELAY_COUNTERS(OVERLINE_RELAY_COPIED_COUNTER, OVERLINE_RELAY_COPIED_COUNTER, OVERLINE_RELAY_COPIED_ARRAY,
                          OVERLINE_RELAY_NO_METRIC)
  OVERLINE_RELAY_GAUGES(OVERLINE_RELAY_GAUGE_METRIC)
#undef OVERLINE_RELAY_COPIED_COUNTER
#undef OVERLINE_RELAY_COPIED_ARRAY
#undef OVERLINE_RELAY_NO_METRIC
#undef OVERLINE_RELAY_GAUGE_METRIC
};

class RelayMetrics {
 public:
  struct Info {
    NodeId node_id = kNoNode;
    std::string region;
    std::string version;
  };

  // Serves /metrics, /healthz and /readyz on `listen` (port 0 = ephemeral)
  // and starts copying every 250 ms. The error names the address, e.g.
  // `metrics: cannot listen on 127.0.0.1:9464: <reason>`.
  // `loop`, `core`, `io` and `control` (when not null: the relay has a
  // controller) must outlive the returned object.
  static Result<std::unique_ptr<RelayMetrics>, std::string> start(uv_loop_t& loop, const Endpoint& listen,
                                                                  const RelayCore& core, const RelayIo& io,
                                                                  const Info& info,
                                                                  const ControlStatus* control = nullptr);
  ~RelayMetrics();
  RelayMetrics(const RelayMetrics&) = delete;
  RelayMetrics& operator=(const RelayMetrics&) = delete;

  // The address actually listened on (the kernel's port when asked for 0).
  const Endpoint& listenEndpoint() const { return server_->listenEndpoint(); }
  // A SIGTERM drain has begun: /readyz answers 503 "draining" from now on.
  void setDraining();
  // The controller certificate's notAfter (Unix s), at start and after a
  // reload that re-read it.
  void setCertificateExpiry(std::int64_t not_after_unix_s);
  // Copies the current values once more and stops the timer. The server
  // keeps serving those final values (and /readyz 503: the lines are closed
  // by then) until this object is destroyed.
  void stop();

  // /healthz fails when the loop has not copied for this long (about 20
  // missed copies): a loop stuck that long is not coming back by itself.
  static constexpr DurationUs kMaxLoopSilenceUs = 5 * kSecond;

 private:
  struct LineMetrics {
    CopiedCounter packets_received, bytes_received, packets_sent, bytes_sent, send_errors, send_calls;
  };
  struct LinkMetrics {
    prometheus::Gauge* rtt = nullptr;
    prometheus::Gauge* jitter = nullptr;
    prometheus::Gauge* loss = nullptr;
    prometheus::Gauge* state = nullptr;
    prometheus::Gauge* active = nullptr;
  };

  // Identifies a link's series: (neighbour, local line, remote line).
  using LinkKey = std::tuple<NodeId, LineIndex, LineIndex>;

  RelayMetrics(uv_loop_t& loop, const RelayCore& core, const RelayIo& io, const Info& info,
               const ControlStatus* control);
  void createMetrics(const Info& info);
  void createLinkMetrics();
  void createControlMetrics();
  // Adds and removes link series so they match `links`.
  void syncLinkSeries(const std::vector<LinkSnapshot>& links);
  // overline_relay_link_state's value for `state`.
  static double stateValue(LinkState state);
  void copy();
  // Beats the heartbeat and publishes the readiness verdict. Loop thread.
  void publishHealth();
  http::ProbeResult liveness() const;   // status server threads
  http::ProbeResult readiness() const;  // status server threads

  const RelayCore& core_;
  const RelayIo& io_;
  const ControlStatus* control_;  // null: no controller
  bool draining_ = false;         // loop thread
  std::shared_ptr<prometheus::Registry> registry_;
  http::Heartbeat loop_heartbeat_;
  std::atomic<RelayReadiness> readiness_{RelayReadiness::kLinesClosed};
  // Declared after what its requests read, so it stops before they go.
  std::unique_ptr<http::StatusServer> server_;
  LoopTimer copy_timer_;

  RelayCoreMetrics core_metrics_;  // its series live in registry_ (declared before it)
  CopiedCounter invariant_violations_;
  std::vector<LineMetrics> lines_;  // index == LineIndex
  prometheus::Family<prometheus::Gauge>* link_rtt_ = nullptr;
  prometheus::Family<prometheus::Gauge>* link_jitter_ = nullptr;
  prometheus::Family<prometheus::Gauge>* link_loss_ = nullptr;
  prometheus::Family<prometheus::Gauge>* link_state_ = nullptr;
  prometheus::Family<prometheus::Gauge>* link_active_ = nullptr;
  std::map<LinkKey, LinkMetrics> links_;  // one per link in core_.links()
  prometheus::Gauge* controller_connected_ = nullptr;
  prometheus::Gauge* certificate_expiry_ = nullptr;
  CopiedCounter controller_sessions_, route_tables_applied_, route_tables_ignored_, peer_lists_applied_,
      pushed_keys_ignored_, peers_without_key_;
  prometheus::Gauge* route_table_version_ = nullptr;
  prometheus::Gauge* route_table_age_ = nullptr;
};

}  // namespace overline::relay
