#pragma once
// The relay's Prometheus /metrics endpoint (prometheus-cpp Exposer).
//
// Threads: scrapes run on the exposer's civetweb threads and read only
// prometheus-cpp metric objects, which are thread-safe. The core's counters
// and the per-line counters are plain integers owned by the loop thread, so a
// 250 ms loop timer (and stop()) copies them into the Prometheus objects: no
// scrape ever touches core or socket state. Counters are advanced by the
// delta since the previous copy, since Prometheus counters only go up.
//
// Metric names (base units; counters end in _total):
//   overline_relay_packets_received_total, overline_relay_bytes_received_total,
//   overline_relay_packets_sent_total, overline_relay_bytes_sent_total,
//   overline_relay_data_packets_received_total, overline_relay_data_packets_forwarded_total,
//   overline_relay_subscribes_received_total, overline_relay_subscribes_sent_total,
//   overline_relay_unsubscribes_received_total, overline_relay_unsubscribes_sent_total,
//   overline_relay_downstreams_expired_total, overline_relay_clients_expired_total
//   overline_relay_dropped_packets_total{reason}: one series per DropReason
//       and per wire::ParseError (their toString names), all created at 0
//   gauges overline_relay_streams, overline_relay_downstreams,
//       overline_relay_clients, overline_relay_upstream_subscriptions
//   per configured line {line="<name>"}: overline_relay_line_packets_received_total,
//       overline_relay_line_bytes_received_total, overline_relay_line_packets_sent_total,
//       overline_relay_line_bytes_sent_total, overline_relay_line_send_errors_total
//   overline_relay_info{node_id,region,version} = 1
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
// Controller session (relay/control; all 0 without a `controller:` section):
//   gauge overline_relay_controller_connected       1 while a session's hello is
//                                                   accepted and its stream is up
//   overline_relay_controller_sessions_total        sessions established (accepted hellos)
//   gauge overline_relay_route_table_version        version of the controller's route
//                                                   table in use; 0 before the first
//   gauge overline_relay_route_table_age_seconds    since the last table was applied
//                                                   (a resent table counts); 0 before any
//   overline_relay_route_tables_applied_total       route tables applied (resends included)
//   overline_relay_peer_lists_applied_total         peer lists applied

#include <uv.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "common/endpoint.h"
#include "common/result.h"
#include "common/types.h"
#include "relay/core/relay_core.h"
#include "relay/io/control_status.h"
#include "relay/io/relay_io.h"
#include "relay/io/repeating_timer.h"

namespace prometheus {
class Counter;
template <typename T>
class Family;
class Exposer;
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

  // Serves /metrics on `listen` (port 0 = ephemeral) and starts copying
  // every 250 ms. The error names the address, e.g.
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
  const Endpoint& listenEndpoint() const { return bound_; }
  // Copies the current values once more and stops the timer. The exposer
  // keeps serving those final values until this object is destroyed.
  void stop();

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
  // Adds and removes link series so they match `links`.
  void syncLinkSeries(const std::vector<LinkSnapshot>& links);
  // overline_relay_link_state's value for `state`.
  static double stateValue(LinkState state);
  void copy();

  const RelayCore& core_;
  const RelayIo& io_;
  const ControlStatus* control_;  // null: no controller
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<prometheus::Exposer> exposer_;
  Endpoint bound_;
  RepeatingTimer copy_timer_;

  CopiedCounter packets_received_, bytes_received_, packets_sent_, bytes_sent_;
  CopiedCounter data_received_, data_forwarded_;
  CopiedCounter subscribes_received_, subscribes_sent_, unsubscribes_received_, unsubscribes_sent_;
  CopiedCounter downstreams_expired_, clients_expired_;
  CopiedCounter path_switches_, failovers_, failbacks_;
  CopiedCounter probes_sent_, probe_acks_sent_, probe_bytes_sent_, redundant_copies_sent_;
  std::vector<CopiedCounter> dropped_;    // index == DropReason
  std::vector<CopiedCounter> malformed_;  // index == wire::ParseError
  prometheus::Gauge* streams_ = nullptr;
  prometheus::Gauge* downstreams_ = nullptr;
  prometheus::Gauge* clients_ = nullptr;
  prometheus::Gauge* upstream_subscriptions_ = nullptr;
  std::vector<LineMetrics> lines_;  // index == LineIndex
  prometheus::Family<prometheus::Gauge>* link_rtt_ = nullptr;
  prometheus::Family<prometheus::Gauge>* link_jitter_ = nullptr;
  prometheus::Family<prometheus::Gauge>* link_loss_ = nullptr;
  prometheus::Family<prometheus::Gauge>* link_state_ = nullptr;
  prometheus::Family<prometheus::Gauge>* link_active_ = nullptr;
  std::map<LinkKey, LinkMetrics> links_;  // one per link in core_.links()
  prometheus::Gauge* controller_connected_ = nullptr;
  CopiedCounter controller_sessions_, route_tables_applied_, peer_lists_applied_;
  prometheus::Gauge* route_table_version_ = nullptr;
  prometheus::Gauge* route_table_age_ = nullptr;
};

}  // namespace overline::relay
