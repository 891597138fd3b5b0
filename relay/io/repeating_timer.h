#pragma once
// A uv_timer_t that calls a function every `interval_ms` on the loop thread.

#include <uv.h>

#include <cstdint>
#include <functional>

namespace overline::relay {

class RepeatingTimer {
 public:
  // `loop` must outlive this timer. uv_timer_init cannot fail on a live loop.
  RepeatingTimer(uv_loop_t& loop, std::function<void()> on_fire);
  ~RepeatingTimer();  // close()
  RepeatingTimer(const RepeatingTimer&) = delete;
  RepeatingTimer& operator=(const RepeatingTimer&) = delete;

  // First call after `interval_ms`, then every `interval_ms` (>= 1).
  void start(std::uint64_t interval_ms);
  // Stops and closes the timer; on_fire is never called again. Idempotent.
  void close();

 private:
  static void onTimer(uv_timer_t* handle);

  uv_timer_t* handle_;  // owned; freed by closeAndFree's close callback
  std::function<void()> on_fire_;
};

}  // namespace overline::relay
