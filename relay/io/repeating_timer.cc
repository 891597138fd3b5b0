#include "relay/io/repeating_timer.h"

#include <cassert>

#include "relay/io/uv_handle.h"

namespace overline::relay {

RepeatingTimer::RepeatingTimer(uv_loop_t& loop, std::function<void()> on_fire)
    : handle_(new uv_timer_t{}), on_fire_(std::move(on_fire)) {
  [[maybe_unused]] const int rc = uv_timer_init(&loop, handle_);
  assert(rc == 0);  // libuv documents no failure for uv_timer_init
  handle_->data = this;
}

RepeatingTimer::~RepeatingTimer() { close(); }

void RepeatingTimer::start(std::uint64_t interval_ms) {
  assert(handle_ != nullptr && interval_ms >= 1);
  uv_timer_start(handle_, &RepeatingTimer::onTimer, interval_ms, interval_ms);
}

void RepeatingTimer::close() {
  if (handle_ == nullptr) return;
  uv_timer_stop(handle_);
  closeAndFree(handle_);
  handle_ = nullptr;
}

void RepeatingTimer::onTimer(uv_timer_t* handle) {
  auto* self = static_cast<RepeatingTimer*>(handle->data);
  if (self != nullptr) self->on_fire_();
}

}  // namespace overline::relay
