#include "relay/io/loop_timer.h"

#include <cassert>

#include "relay/io/uv_handle.h"

namespace overline::relay {

LoopTimer::LoopTimer(uv_loop_t& loop, std::function<void()> on_fire)
    : handle_(new uv_timer_t{}), on_fire_(std::move(on_fire)) {
  [[maybe_unused]] const int rc = uv_timer_init(&loop, handle_);
  assert(rc == 0);  // libuv documents no failure for uv_timer_init
  handle_->data = this;
}

LoopTimer::~LoopTimer() { close(); }

void LoopTimer::arm(std::uint64_t timeout_ms) {
  if (handle_ == nullptr) return;
  uv_timer_start(handle_, &LoopTimer::onTimer, timeout_ms, 0);
}

void LoopTimer::start(std::uint64_t interval_ms) {
  assert(interval_ms >= 1);
  if (handle_ == nullptr) return;
  uv_timer_start(handle_, &LoopTimer::onTimer, interval_ms, interval_ms);
}

void LoopTimer::disarm() {
  if (handle_ != nullptr) uv_timer_stop(handle_);
}

void LoopTimer::close() {
  if (handle_ == nullptr) return;
  uv_timer_stop(handle_);
  closeAndFree(handle_);
  handle_ = nullptr;
}

void LoopTimer::onTimer(uv_timer_t* handle) {
  auto* self = static_cast<LoopTimer*>(handle->data);
  if (self != nullptr) self->on_fire_();
}

}  // namespace overline::relay
