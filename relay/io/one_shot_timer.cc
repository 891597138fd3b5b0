#include "relay/io/one_shot_timer.h"

#include <cassert>

#include "relay/io/uv_handle.h"

namespace overline::relay {

OneShotTimer::OneShotTimer(uv_loop_t& loop, std::function<void()> on_fire)
    : handle_(new uv_timer_t{}), on_fire_(std::move(on_fire)) {
  [[maybe_unused]] const int rc = uv_timer_init(&loop, handle_);
  assert(rc == 0);  // libuv documents no failure for uv_timer_init
  handle_->data = this;
}

OneShotTimer::~OneShotTimer() { close(); }

void OneShotTimer::arm(std::uint64_t timeout_ms) {
  if (handle_ == nullptr) return;
  uv_timer_start(handle_, &OneShotTimer::onTimer, timeout_ms, 0);
}

void OneShotTimer::disarm() {
  if (handle_ != nullptr) uv_timer_stop(handle_);
}

void OneShotTimer::close() {
  if (handle_ == nullptr) return;
  uv_timer_stop(handle_);
  relay::closeAndFree(handle_);
  handle_ = nullptr;
}

void OneShotTimer::onTimer(uv_timer_t* handle) {
  auto* self = static_cast<OneShotTimer*>(handle->data);
  if (self != nullptr) self->on_fire_();
}

}  // namespace overline::relay
