#include "relay/control/control_bridge.h"

#include <spdlog/spdlog.h>

#include <cassert>

#include "common/process/log_fields.h"
#include "relay/io/uv_handle.h"

namespace overline::relay {
namespace {

TimeUs loopNowUs() { return static_cast<TimeUs>(uv_hrtime() / 1000); }

}  // namespace

ControlBridge::ControlBridge(uv_loop_t& loop, RelayCore& core, std::uint32_t report_interval_ms,
                             std::uint64_t capacity_bps)
    : loop_(loop),
      core_(core),
      capacity_bps_(capacity_bps),
      async_(new uv_async_t{}),
      publish_timer_(loop, [this] { publish(); }),
      report_interval_ms_(report_interval_ms) {
  assert(capacity_bps_ > 0 && report_interval_ms_ >= 1);
  [[maybe_unused]] const int rc = uv_async_init(&loop_, async_, &ControlBridge::onAsync);
  assert(rc == 0);  // fails only without a live loop
  async_->data = this;
}

ControlBridge::~ControlBridge() { close(); }

void ControlBridge::start(ControlSession& session) {
  session_ = &session;
  publish();
  publish_timer_.start(report_interval_ms_);
}

void ControlBridge::close() {
  publish_timer_.close();
  session_ = nullptr;
  if (async_ == nullptr) return;
  closeAndFree(async_);
  async_ = nullptr;
}

void ControlBridge::post(const std::function<void(Mailbox&)>& update) {
  std::lock_guard lock(mutex_);
  update(mailbox_);
  // The session, the only caller, is stopped before close(): async_ is alive.
  uv_async_send(async_);
}

void ControlBridge::onSessionChanged(bool connected) {
  post([&](Mailbox& m) {
    m.connected = connected;
    if (connected) ++m.sessions_established;
  });
}

void ControlBridge::onRouteTable(std::uint64_t version, RouteTablePtr routes) {
  post([&](Mailbox& m) {
    const std::optional<std::uint64_t> newest = fence_.newest();
    switch (fence_.offer(version)) {
      case RouteFence::Verdict::kApply: m.routes.emplace(version, std::move(routes)); return;
      case RouteFence::Verdict::kResent: ++m.routes_resent; return;
      case RouteFence::Verdict::kStale:
        ++m.routes_ignored;
        logEvent(spdlog::level::warn, "route table ignored: older than the one this relay runs",
                 {{"version", version}, {"running_version", newest.value_or(0)}});
        return;
    }
  });
}

void ControlBridge::onPeerList(std::vector<NeighbourConfig> neighbours, std::uint64_t keys_ignored) {
  post([&](Mailbox& m) {
    m.neighbours = std::move(neighbours);
    m.keys_ignored += keys_ignored;
  });
}

void ControlBridge::onReportInterval(std::uint32_t report_interval_ms) {
  post([&](Mailbox& m) { m.report_interval_ms = report_interval_ms; });
}

void ControlBridge::onAsync(uv_async_t* handle) {
  auto* self = static_cast<ControlBridge*>(handle->data);
  if (self != nullptr) self->drain();
}

void ControlBridge::drain() {
  Mailbox mail;
  {
    std::lock_guard lock(mutex_);
    mail = std::exchange(mailbox_, Mailbox{});
  }
  if (mail.connected) status_.connected = *mail.connected;
  status_.sessions_established += mail.sessions_established;
  status_.pushed_keys_ignored += mail.keys_ignored;
  if (mail.neighbours) {
    std::vector<NeighbourConfig>& neighbours = *mail.neighbours;
    std::erase_if(neighbours, [&](const NeighbourConfig& neighbour) {
      if (core_.canKey(neighbour)) return false;
      logEvent(spdlog::level::warn,
               "peer left out: no usable key from the controller and no auth.mesh_keys to derive one",
               {{"peer", neighbour.node_id}});
      ++status_.peers_without_key;
      return true;
    });
    spdlog::info("peer list applied: {} neighbours", neighbours.size());
    core_.setNeighbours(std::move(neighbours));
    ++status_.peer_lists_applied;
  }
  if (mail.routes) {
    auto& [version, routes] = *mail.routes;
    spdlog::info("route table {} applied: {} routes", version, routes->entries.size());
    core_.setRoutes(std::move(routes));
    status_.route_table_version = version;
    status_.route_table_applied_at_us = loopNowUs();
    ++status_.route_tables_applied;
  }
  if (mail.routes_resent > 0) {
    // The table in use again: it is current as of now.
    status_.route_table_applied_at_us = loopNowUs();
    status_.route_tables_applied += mail.routes_resent;
  }
  status_.route_tables_ignored += mail.routes_ignored;
  if (mail.report_interval_ms && *mail.report_interval_ms != report_interval_ms_ && session_ != nullptr) {
    report_interval_ms_ = *mail.report_interval_ms;
    publish_timer_.start(report_interval_ms_);
  }
}

void ControlBridge::publish() {
  if (session_ == nullptr) return;
  auto state = std::make_shared<RelayStateSnapshot>();
  state->links = core_.links();
  state->gauges = core_.gauges();
  state->applied_route_version = status_.route_table_version;
  const TimeUs now_us = loopNowUs();
  const std::uint64_t bytes_sent = core_.counters().bytes_sent;
  if (published_at_us_ != 0 && now_us > published_at_us_) {
    const double bits = static_cast<double>(bytes_sent - bytes_sent_at_publish_) * 8;
    const double seconds = static_cast<double>(now_us - published_at_us_) / static_cast<double>(kSecond);
    state->load = bits / seconds / static_cast<double>(capacity_bps_);
  }
  bytes_sent_at_publish_ = bytes_sent;
  published_at_us_ = now_us;
  session_->publishState(std::move(state));
}

}  // namespace overline::relay
