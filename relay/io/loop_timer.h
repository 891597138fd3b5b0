#pragma once
// A uv_timer_t that calls a function on the loop thread: once, `timeout_ms`
// after arm() (arming again replaces the pending call), or every
// `interval_ms` after start(). Loop thread only.

#include <uv.h>

#include <cstdint>
#include <functional>

namespace overline::relay {

class LoopTimer {
 public:
  // `loop` must outlive this timer. uv_timer_init cannot fail on a live loop.
  LoopTimer(uv_loop_t& loop, std::function<void()> on_fire);
  ~LoopTimer();  // close()
  LoopTimer(const LoopTimer&) = delete;
  LoopTimer& operator=(const LoopTimer&) = delete;

  // Calls on_fire once after `timeout_ms` (0 = on the next loop turn).
  void arm(std::uint64_t timeout_ms);
  // Calls on_fire after `interval_ms`, then every `interval_ms` (>= 1).
  void start(std::uint64_t interval_ms);
  // Cancels the pending call(s); arm() or start() again to resume.
  void disarm();
  // Stops and closes the timer; on_fire is never called again. Idempotent.
  void close();

 private:
  static void onTimer(uv_timer_t* handle);

  uv_timer_t* handle_;  // owned; freed by closeAndFree's close callback
  std::function<void()> on_fire_;
};

}  // namespace overline::relay
