#include "relay/io/relay_io.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <limits>

#include "common/process/log_fields.h"
#include "relay/io/uv_handle.h"

namespace overline::relay {
namespace {

TimeUs nowUs() { return static_cast<TimeUs>(uv_hrtime() / 1000); }

// Unix microseconds, for join-token expiry (RelayCore::setWallClockUs).
TimeUs wallClockUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Result<std::unique_ptr<RelayIo>, std::string> RelayIo::bind(uv_loop_t& loop,
                                                            const std::vector<LineConfig>& lines,
                                                            std::size_t socket_buffer_bytes) {
  std::vector<std::unique_ptr<UdpLine>> opened;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    auto line = UdpLine::open(loop, static_cast<LineIndex>(i), lines[i], socket_buffer_bytes);
    if (!line) return Err(line.error());  // already opened lines close as `opened` unwinds
    opened.push_back(std::move(line.value()));
  }
  return std::unique_ptr<RelayIo>(new RelayIo(loop, std::move(opened)));
}

RelayIo::RelayIo(uv_loop_t& loop, std::vector<std::unique_ptr<UdpLine>> lines)
    : lines_(std::move(lines)), tick_timer_(loop, [this] { onTick(); }), flush_check_(new uv_check_t{}) {
  uv_check_init(&loop, flush_check_);  // cannot fail on a live loop
  flush_check_->data = this;
}

RelayIo::~RelayIo() { stop(); }

void RelayIo::start(RelayCore& core) {
  core_ = &core;
  core.setWallClockUs(wallClockUs());
  for (auto& line : lines_) line->startReceiving(*this);
  uv_check_start(flush_check_, &RelayIo::onCheck);
  retime();
}

void RelayIo::retime() { armTick(true); }

void RelayIo::armTick(bool always) {
  if (core_ == nullptr) return;
  const TimeUs deadline_us = core_->nextDeadline();
  if (!always && deadline_us >= tick_armed_for_us_) return;
  tick_armed_for_us_ = deadline_us;
  if (deadline_us == std::numeric_limits<TimeUs>::max()) {
    tick_timer_.disarm();
    return;
  }
  // libuv timers have millisecond resolution: round up, so the tick is
  // never before the deadline by more than the loop's cached time lags.
  const DurationUs wait_us = std::max<DurationUs>(deadline_us - nowUs(), 0);
  tick_timer_.arm(static_cast<std::uint64_t>((wait_us + kMillisecond - 1) / kMillisecond));
}

void RelayIo::stop() {
  if (flush_check_ != nullptr) {
    flushLines();  // the core's last sends (UNSUBSCRIBEs on the way out) still leave
    uv_check_stop(flush_check_);
    closeAndFree(flush_check_);
    flush_check_ = nullptr;
  }
  tick_timer_.close();
  for (auto& line : lines_) line->close();
  lines_open_ = false;
  core_ = nullptr;
}

bool RelayIo::sendPacket(LineIndex line, const Endpoint& to, std::span<const std::byte> packet) {
  if (line >= lines_.size()) {
    // The core was configured with line_count == lines_.size(): a broken invariant.
    spdlog::critical("bug: core sent on line {} but only {} lines exist", line, lines_.size());
    std::abort();
  }
  return lines_[line]->send(to, packet);
}

void RelayIo::onDatagram(LineIndex line, const Endpoint& from, std::span<const std::byte> datagram) {
  if (core_ != nullptr) core_->onDatagram(line, from, datagram, nowUs());
}

void RelayIo::flushLines() {
  for (auto& line : lines_) {
    const std::size_t refused = line->flush();
    if (refused != 0 && core_ != nullptr) core_->countSendFailures(refused);
  }
}

void RelayIo::onReceiveBatchEnd() {
  flushLines();
  armTick(false);
}

void RelayIo::onCheck(uv_check_t* handle) {
  // Sends from other callbacks (a control-plane push) leave now, and any
  // work they brought forward re-arms the tick: what a batch end does.
  auto* self = static_cast<RelayIo*>(handle->data);
  if (self != nullptr) self->onReceiveBatchEnd();
}

void RelayIo::onTick() {
  if (core_ == nullptr) return;
  const TimeUs now_us = nowUs();
  core_->setWallClockUs(wallClockUs());
  core_->onTick(now_us);
  flushLines();
  armTick(true);
  logDrops(now_us);
}

void RelayIo::logDrops(TimeUs now_us) {
  const auto report = drop_log_.poll(core_->counters(), now_us);
  if (!report) return;
  const auto window_s = static_cast<std::int64_t>((report->window_us + kSecond / 2) / kSecond);
  for (const DropLogWindow::Growth& growth : report->growth) {
    logEvent(spdlog::level::warn, "packets dropped",
             {{"reason", growth.reason}, {"count", growth.count}, {"window_s", window_s}});
  }
}

}  // namespace overline::relay
