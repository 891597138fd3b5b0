#pragma once
// Controller: the controller's state and decisions behind its three gRPC
// services — provisioning (mirrored from the store), the relays' latest
// reports, the connected sessions, the route tables last pushed — and the
// route worker thread that recomputes and pushes them.
//
// Threads and locking:
//  * gRPC threads call the public methods: admin and edge RPCs, and relay
//    session events. Each takes mutex_ for in-memory updates and store
//    commits only; none computes routes, so an RPC waits at most for one
//    store write (an fsync for the synced ones), never for a computation.
//  * The route worker (start() .. stop()) wakes `debounce` after a change
//    that affects routes (link state, provisioning, drain) and every
//    `recompute_interval` regardless. It copies a Topology under mutex_,
//    runs computeRoutes() WITHOUT the mutex, then takes it again to persist
//    the new route version (synced, BEFORE any relay sees it) and queue the
//    changed tables on the sessions. It is the only writer of routes_.
//  * The route worker also starts scheduled key epochs and retires old ones
//    (maintainKeysLocked) when their time comes.
//  * RelayChannel::send()/close() are called with mutex_ held; they only
//    queue (the reactor writes on gRPC's threads).
//
// Versions. One counter for all relays: a computation that changes any
// relay's table takes the next version and stamps every changed table with
// it; unchanged tables keep theirs. The counter is persisted before pushing
// and reloaded at start, so versions only grow across restarts.

#include <grpcpp/support/status.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/result.h"
#include "common/types.h"
#include "controller/controller_metrics.h"
#include "controller/controller_settings.h"
#include "controller/core/key_schedule.h"
#include "controller/core/route_computation.h"
#include "controller/core/topology.h"
#include "controller/relay_channel.h"
#include "controller/store/controller_store.h"
#include "overline/v1/admin.pb.h"
#include "overline/v1/edge.pb.h"
#include "overline/v1/relay_session.pb.h"

namespace overline::controller {

// Milliseconds since the Unix epoch: event times, last-seen times, link ages
// and token expiry. Tests pass a fake.
using UnixClockMs = std::function<std::int64_t()>;
std::int64_t systemUnixMs();
// Secrets of new data-plane key epochs. Tests pass a deterministic one.
using KeySecretSource = std::function<KeySecret()>;
KeySecret randomKeySecret();  // OpenSSL's RAND_bytes

class Controller {
 public:
  // Reports a relay may send at once (then two per report interval).
  static constexpr double kReportBurst = 5;

  // Loads the store's state; starts the first data-plane key epoch (synced)
  // when the store has none. `store` and `metrics` must outlive the
  // controller. The error names the unreadable record or the failed write.
  static Result<std::unique_ptr<Controller>, std::string> create(ControllerStore& store,
                                                                 ControllerSettings settings,
                                                                 ControllerMetrics& metrics,
                                                                 UnixClockMs clock = systemUnixMs,
                                                                 KeySecretSource secrets = randomKeySecret);
  ~Controller();
  Controller(const Controller&) = delete;
  Controller& operator=(const Controller&) = delete;

  // Starts the route worker; its first computation runs at once.
  void start();
  // Refuses new sessions, closes every session with UNAVAILABLE and joins
  // the route worker. Idempotent. Sessions still report their end
  // (onSessionEnded) afterwards.
  void stop();
  bool stopping() const;
  // After stop(): waits up to `timeout` until every closed session has
  // written its queued messages and ended. True when they all have.
  bool waitForSessionsEnded(std::chrono::milliseconds timeout);

  // Admin RPCs (admin.proto): NOT_FOUND "node 7 is not provisioned",
  // INVALID_ARGUMENT "<field>: <problem>", UNAVAILABLE when stopping or when
  // the store refuses the write. Every change is committed synced before
  // the reply.
  grpc::Status provisionNode(const v1::ProvisionNodeRequest& request, v1::ProvisionNodeResponse& response);
  grpc::Status setDrained(NodeId node, bool drained, bool& changed);
  grpc::Status removeNode(NodeId node);
  void listNodes(v1::ListNodesResponse& response) const;
  void listLinks(v1::ListLinksResponse& response) const;
  grpc::Status getPath(const v1::GetPathRequest& request, v1::GetPathResponse& response) const;
  // Starts a new key epoch (controller/core/key_schedule.h), persisted
  // synced, and pushes every connected relay its new peer list (with keys).
  grpc::Status rotateKeys(v1::RotateKeysResponse& response);
  void listKeyEpochs(v1::ListKeyEpochsResponse& response) const;

  // Edge RPC (edge.proto, edge_ranking.h). `peer` is the caller as gRPC
  // names it (ServerContext::peer(), e.g. "ipv4:203.0.113.5:5555"): the
  // token is bound to its IPv4 address (peer_address.h).
  grpc::Status allocateEdge(const v1::AllocateEdgeRequest& request, std::string_view peer,
                            v1::AllocateEdgeResponse& response) const;

  // Relay sessions. `channel` must stay valid until onSessionEnded() for it
  // has returned. An accepted hello queues HelloAck, ConfigPush, PeerList and
  // the node's current RouteTable (if computed) on `channel`, replaces any
  // older session of the node (closed with ABORTED) and returns the node id.
  // A rejected one queues HelloAck{accepted: false} and returns the status
  // to end the session with; a hello for another node than `certified_node`
  // (the one the caller's certificate names) is rejected with
  // PERMISSION_DENIED before anything else, so the real node's session is
  // untouched. `peer` names the remote end for the event log.
  Result<NodeId, grpc::Status> onHello(const v1::RelayHello& hello, NodeId certified_node, std::string_view peer,
                                       RelayChannel& channel);
  // Reports from a session that is not (or no longer) `node`'s current one
  // are ignored; so are reports beyond a burst of kReportBurst and then two
  // per report interval, and reports with more links than the node can
  // have (both counted: overline_controller_ignored_reports_total).
  void onReport(NodeId node, const v1::RelayReport& report, RelayChannel& channel);
  // The relay announced a graceful shutdown (RelayDrain): from now until its
  // next accepted hello the node carries no transit and gets no new
  // clients, like an operator's drain but kept in memory only (it is the
  // relay's state, not the operator's intent). Routes are recomputed at once,
  // without the debounce. Ignored from a session that is not `node`'s current one.
  void onDrain(NodeId node, RelayChannel& channel);
  // `node` is kNoNode when the hello was never accepted.
  void onSessionEnded(NodeId node, RelayChannel& channel);

  // One computation and publication on the calling thread. The route worker
  // calls it; tests call it directly instead of start().
  void recomputeRoutes();

  // Replaces the settings at run time (config reload, any thread). Changed
  // route settings take effect with a computation started at once (the
  // worker's timers follow the new interval and debounce); changed relay
  // settings are pushed to every connected relay (ConfigPush); edge and
  // token settings apply to the next allocation.
  void updateSettings(ControllerSettings settings);

 private:
  struct TableRoute {
    NodeId destination = kNoNode;
    NodeId primary = kNoNode;
    LinePair primary_lines;
    NodeId backup = kNoNode;  // kNoNode: none
    LinePair backup_lines;

    friend bool operator==(const TableRoute&, const TableRoute&) = default;
  };
  // True when `a` and `b` route every destination through the same primary
  // and backup next hops. Line pairs are left out on purpose: relays choose
  // their own line pair from their probes (the pushed pairs are only hints),
  // so a line-pair difference alone — which RTT noise of microseconds
  // produces — must not cost a new route version and a push to every relay.
  static bool sameNextHops(const std::vector<TableRoute>& a, const std::vector<TableRoute>& b);
  struct NodeEntry {
    ProvisionedNode provisioned;
    NodeSighting sighting;
    RelayChannel* session = nullptr;  // the accepted session, if connected
    double load = 0.0;
    std::uint32_t streams = 0;
    std::uint64_t applied_route_version = 0;
    // Report rate bound: a token bucket, full at each accepted hello.
    double report_tokens = 0;
    std::int64_t report_tokens_at_unix_ms = 0;
    // The relay announced its shutdown (onDrain); cleared by its next
    // accepted hello. Kept past the session's end, so the dying relay is not
    // routed through again before its links are reported down.
    bool self_drained = false;
    std::uint64_t table_version = 0;  // 0: no table computed yet
    std::vector<TableRoute> table;    // ascending destination
  };
  struct LinkEntry {
    LinkMeasurement measurement;
    std::int64_t updated_unix_ms = 0;    // last report carrying it
    std::int64_t persisted_unix_ms = 0;  // last time it was written to the store
  };

  Controller(ControllerStore& store, ControllerSettings settings, ControllerMetrics& metrics, UnixClockMs clock,
             KeySecretSource secrets);

  // Everything below needs mutex_ held.
  v1::Event makeEvent(v1::EventType type, NodeId node, NodeId peer, std::string detail) const;
  // Commits and logs a failure; true on success.
  bool commitLocked(ControllerStore::Batch batch, ControllerStore::Durability durability,
                    std::string_view what);
  const NodeEntry* findNode(NodeId id) const;
  std::string effectiveAddress(const NodeEntry& node, std::size_t line) const;
  v1::ControllerMessage peerListFor(NodeId node) const;
  v1::ControllerMessage routeTableFor(const NodeEntry& node) const;
  v1::ControllerMessage configPush() const;
  void broadcastPeersLocked();
  // Starts the next key epoch and persists the schedule (synced); false when
  // the store refused it (nothing changed).
  bool rotateKeysLocked(std::string_view why);
  // Scheduled rotation and retirement; pushes peer lists when keys changed.
  void maintainKeysLocked();
  v1::KeyEpochInfo keyEpochInfo(const KeyEpoch& epoch) const;
  // Wakes the route worker to recompute after the debounce, or at once.
  enum class Urgency { kDebounced, kAtOnce };
  void markRoutesDirtyLocked(Urgency urgency = Urgency::kDebounced);
  // Transit and edge policy: the operator's drain or the relay's own.
  static bool isDrained(const NodeEntry& node) { return node.provisioned.drained || node.self_drained; }
  void updateConnectedLocked();
  bool isFresh(const LinkEntry& link, std::int64_t now_unix_ms) const;
  Topology topologyLocked(std::int64_t now_unix_ms) const;
  void publishLocked(Routes routes);
  std::string linkName(const LinkKey& key) const;
  v1::Path pathMessage(const std::vector<NodeId>& nodes, const LinePair& first_lines, NodeId destination,
                       CostUs cost_us) const;

  void routeWorkerLoop();

  ControllerStore& store_;
  ControllerSettings settings_;  // under mutex_ (updateSettings)
  ControllerMetrics& metrics_;
  const UnixClockMs clock_;
  const KeySecretSource secrets_;

  mutable std::mutex mutex_;
  std::condition_variable wake_worker_;
  std::condition_variable session_ended_;
  std::map<NodeId, NodeEntry> nodes_;
  std::map<LinkKey, LinkEntry> links_;
  std::shared_ptr<const Routes> routes_;  // last published; null before the first
  std::uint64_t route_version_ = 0;       // highest version persisted
  KeySchedule keys_;                      // as persisted
  bool routes_dirty_ = false;
  std::chrono::steady_clock::time_point dirty_since_;
  bool stopping_ = false;
  std::thread worker_;
};

}  // namespace overline::controller
