#pragma once
// A uv_timer_t that calls a function once, `timeout_ms` after arm(); arming
// again replaces the pending call. Loop thread only.

#include <uv.h>

#include <cstdint>
#include <functional>

namespace overline::relay {

class OneShotTimer {
 public:
  // `loop` must outlive this timer.
  OneShotTimer(uv_loop_t& loop, std::function<void()> on_fire);
  ~OneShotTimer();  // close()
  OneShotTimer(const OneShotTimer&) = delete;
  OneShotTimer& operator=(const OneShotTimer&) = delete;

  // Calls on_fire once after `timeout_ms` (0 = on the next loop turn).
  void arm(std::uint64_t timeout_ms);
  void disarm();
  // Stops and closes the timer; on_fire is never called again. Idempotent.
  void close();

 private:
  static void onTimer(uv_timer_t* handle);

  uv_timer_t* handle_;  // owned; freed by closeAndFree's close callback
  std::function<void()> on_fire_;
};

}  // namespace overline::relay
