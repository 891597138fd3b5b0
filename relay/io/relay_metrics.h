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
//   overline_relay_packets_received_total, overline_relay_bytes_received_total,
//   overline_relay_packets_sent_total, overline_relay_bytes_sent_total,
//   overline_relay_data_packets_received_total, overline_relay_data_packets_forwarded_total,
//   overline_relay_subscribes_received_total, overline_relay_subscribes_sent_total,
//   overline_relay_unsubscribes_received_total, overline_relay_unsubscribes_sent_total,
//   overline_relay_downstreams_expired_total, overline_relay_clients_expired_total
//   client join (relay/core/client_gate.h): overline_relay_challenges_sent_total,
//   overline_relay_welcomes_sent_total, overline_relay_client_sessions_replaced_total,
//   overline_relay_client_tokens_expired_total, overline_relay_client_tokens_renewed_total
//   overline_relay_dropped_packets_total{reason}: one series per DropReason
//       and per wire::ParseError (their toString names), all created at 0
//   gauges overline_relay_streams, overline_relay_downstreams,
//       overline_relay_clients, overline_relay_upstream_subscriptions,
//       overline_relay_extra_upstream_subscriptions, overline_relay_directory_streams,
//       overline_relay_local_publications
//   per configured line {line="<name>"}: overline_relay_line_packets_received_total,
//       overline_relay_line_bytes_received_total, overline_relay_line_packets_sent_total,
//       overline_relay_line_bytes_sent_total, overline_relay_line_send_errors_total
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
// Counters:
//   overline_relay_path_switches_total         active link changes (not the first
//                                              choice after start-up)
//   overline_relay_failovers_total             route next hops moved off a down neighbour
//   overline_relay_failbacks_total             route next hops back on their primary
//                                              after failover.failback_hold_ms
//   overline_relay_probe_packets_sent_total{kind="probe"|"ack"}
//   overline_relay_probe_bytes_sent_total      bytes of probes and acks (32 each)
//   overline_relay_redundant_copies_sent_total second copies of redundant DATA
// Duplicate DATA drops are overline_relay_dropped_packets_total{reason="duplicate"}.
// The link series follow the neighbour set: a neighbour the controller's peer
// list removes loses its series, a new one gains them.
//
// Loss recovery (relay/core/nack_tracker.h, retransmit_buffer.h; counters):
//   overline_relay_nack_packets_sent_total / _received_total   NACK datagrams
//   overline_relay_nack_sequences_sent_total   sequences requested
//   overline_relay_retransmissions_sent_total / _received_total  DATA with kFlagRetransmit
//   overline_relay_recovered_packets_total{method="nack"}  missing sequences filled
//   overline_relay_unrecovered_packets_total   missing sequences given up
//   overline_relay_nack_misses_total           requested, not in the retransmit buffer
//   overline_relay_retransmit_budget_expired_total  requested, kept but past budget
//   overline_relay_retransmit_buffer_evictions_total  kept packets pushed out early
//   overline_relay_filled_copies_sent_total    second copies of gap-filling DATA on lossy links
// Stream directory (relay/core/stream_directory.h; counters):
//   overline_relay_announces_sent_total / _received_total / _forwarded_total / _seen_total
//   overline_relay_origin_moves_total          streams re-planned because their origins changed
// FEC (relay/core/fec_encoder.h, fec_decoder.h; counters):
//   overline_relay_fec_packets_sent_total / _received_total  FEC parity packets
//   overline_relay_recovered_packets_total{method="fec"}  DATA rebuilt from parity
//   overline_relay_nacks_held_for_fec_total    due NACKs deferred for a pending FEC group
//   overline_relay_fec_decode_failures_total   decoded blocks that were no valid DATA
//   overline_relay_fec_inconsistent_total      parity or data contradicting its group
// Bandwidth overhead:
//   overline_relay_sent_bytes_total{kind="data|retransmit|fec|nack|probe|control"}
//                                              datagram bytes sent to neighbour relays
//   overline_relay_data_payload_bytes_total    payload bytes of first-transmission DATA
//                                              sent to neighbour relays
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

// Trust:
//   gauge overline_relay_auth_sending_epoch         highest key epoch packets to a
//                                                   neighbour are tagged with; 0: none

#include <uv.h>

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
#include "relay/core/relay_readiness.h"
#include "relay/io/control_status.h"
#include "relay/io/relay_io.h"
#include "relay/io/repeating_timer.h"

namespace prometheus {
class Counter;
template <typename T>
class Family;
class Gauge;
class Registry;
}  // namespace prometheus

namespace overline::relay {

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
  // A Prometheus counter fed from a monotonic integer.
  struct CopiedCounter {
    prometheus::Counter* metric = nullptr;
    std::uint64_t copied = 0;
    void copyFrom(std::uint64_t value);
  };
  struct LineMetrics {
    CopiedCounter packets_received, bytes_received, packets_sent, bytes_sent, send_errors;
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
  void createRecoveryMetrics();
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
  RepeatingTimer copy_timer_;

  CopiedCounter packets_received_, bytes_received_, packets_sent_, bytes_sent_;
  CopiedCounter data_received_, data_forwarded_;
  CopiedCounter subscribes_received_, subscribes_sent_, unsubscribes_received_, unsubscribes_sent_;
  CopiedCounter downstreams_expired_, clients_expired_;
  CopiedCounter challenges_sent_, welcomes_sent_, client_sessions_replaced_, client_tokens_expired_,
      client_tokens_renewed_;
  CopiedCounter invariant_violations_;
  CopiedCounter path_switches_, failovers_, failbacks_;
  CopiedCounter probes_sent_, probe_acks_sent_, probe_bytes_sent_, redundant_copies_sent_;
  CopiedCounter nack_packets_sent_, nack_sequences_sent_, nack_packets_received_;
  CopiedCounter retransmissions_sent_, retransmissions_received_, recovered_nack_, unrecovered_;
  CopiedCounter nack_misses_, retransmit_budget_expired_, retransmit_buffer_evictions_, filled_copies_sent_;
  CopiedCounter fec_packets_sent_, fec_packets_received_, recovered_fec_, nacks_held_for_fec_;
  CopiedCounter fec_decode_failures_, fec_inconsistent_;
  CopiedCounter announces_sent_, announces_received_, announces_forwarded_, announces_seen_, origin_moves_;
  std::vector<CopiedCounter> sent_bytes_;  // index == SentKind
  CopiedCounter data_payload_bytes_;
  std::vector<CopiedCounter> dropped_;    // index == DropReason
  std::vector<CopiedCounter> malformed_;  // index == wire::ParseError
  prometheus::Gauge* streams_ = nullptr;
  prometheus::Gauge* downstreams_ = nullptr;
  prometheus::Gauge* clients_ = nullptr;
  prometheus::Gauge* upstream_subscriptions_ = nullptr;
  prometheus::Gauge* extra_upstream_subscriptions_ = nullptr;
  prometheus::Gauge* directory_streams_ = nullptr;
  prometheus::Gauge* local_publications_ = nullptr;
  prometheus::Gauge* auth_sending_epoch_ = nullptr;
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
