#pragma once
// ControlBridge: the loop-thread side of the controller session.
//
// The control threads (ControlSession) call its Listener methods; each one
// stores the update in a mutex-guarded mailbox (route table and peer list as
// immutable snapshots, latest wins) and wakes the loop with uv_async_send
// (STYLE rule 4). Route tables pass a RouteFence first, in arrival order: a
// table older than the newest taken is ignored, counted and logged at warn
// with both versions; a resend of the newest is counted as applied but not
// handed to the core again. On the loop thread the bridge then applies the
// updates to the core — neighbours first, then routes, so a table may name
// new peers — and keeps the ControlStatus that /metrics shows. A pushed
// neighbour without a usable key (none pushed, no mesh keys, auth on) is
// left out with a warning and counted: the core could not tag packets to
// it. Nothing is cleared when the session ends: a headless relay keeps its
// last neighbours, keys and routes. Every report interval it also
// copies the core's links and gauges into a RelayStateSnapshot and hands it
// to the session (publishState), so the control threads never read the core.

#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include "relay/control/control_session.h"
#include "relay/control/route_fence.h"
#include "relay/core/relay_core.h"
#include "relay/io/control_status.h"
#include "relay/io/loop_timer.h"

namespace overline::relay {

class ControlBridge final : public ControlSession::Listener {
 public:
  // `loop` and `core` must outlive this bridge; construct, start and
  // close it on the loop thread. `capacity_bps` (> 0) turns bytes sent into
  // the reported load.
  ControlBridge(uv_loop_t& loop, RelayCore& core, std::uint32_t report_interval_ms,
                std::uint64_t capacity_bps);
  ~ControlBridge() override;  // close()
  ControlBridge(const ControlBridge&) = delete;
  ControlBridge& operator=(const ControlBridge&) = delete;

  // Publishes a first snapshot to `session` and then one every report
  // interval. `session` must stay alive until close().
  void start(ControlSession& session);
  // Stops publishing and closes the async handle; updates still in the
  // mailbox are dropped. Call after the session's stop(). Idempotent.
  void close();

  const ControlStatus& status() const { return status_; }  // loop thread

  // ControlSession::Listener: any thread.
  void onSessionChanged(bool connected) override;
  void onRouteTable(std::uint64_t version, RouteTablePtr routes) override;
  void onPeerList(std::vector<NeighbourConfig> neighbours, std::uint64_t keys_ignored) override;
  void onReportInterval(std::uint32_t report_interval_ms) override;

 private:
  struct Mailbox {
    std::optional<std::pair<std::uint64_t, RouteTablePtr>> routes;  // version, table; passed the fence
    std::uint64_t routes_resent = 0;   // resends of the newest version
    std::uint64_t routes_ignored = 0;  // stale tables
    std::optional<std::vector<NeighbourConfig>> neighbours;
    std::uint64_t keys_ignored = 0;
    std::optional<std::uint32_t> report_interval_ms;
    std::optional<bool> connected;      // the latest session state
    std::uint64_t sessions_established = 0;  // accepted hellos since the last drain
  };

  static void onAsync(uv_async_t* handle);
  void post(const std::function<void(Mailbox&)>& update);
  void drain();  // loop thread
  void publish();  // loop thread

  uv_loop_t& loop_;
  RelayCore& core_;
  const std::uint64_t capacity_bps_;
  uv_async_t* async_;  // owned; freed by closeAndFree
  LoopTimer publish_timer_;
  ControlSession* session_ = nullptr;  // set by start()
  std::uint32_t report_interval_ms_;   // loop thread
  std::uint64_t bytes_sent_at_publish_ = 0;
  TimeUs published_at_us_ = 0;
  ControlStatus status_;               // loop thread

  std::mutex mutex_;
  Mailbox mailbox_;   // guarded by mutex_
  // Judges tables in arrival order, before the mailbox (where the latest
  // wins) could let an older one replace a newer; guarded by mutex_. It
  // outlives sessions: a reconnect does not reset the newest version.
  RouteFence fence_;
};

}  // namespace overline::relay
