#pragma once
// Turns SIGINT and SIGTERM into a clean stop on the loop thread.
//
// libuv delivers the signal through the loop (uv_signal_t), so the stop runs
// as an ordinary callback: no async-signal-safety concerns and no global
// flag. After the last watched signal (the first, by default) the watchers
// close themselves, restoring the default action, so one more Ctrl-C kills a
// process that hangs on stop.

#include <uv.h>

#include <array>
#include <functional>

namespace overline::relay {

class StopSignals {
 public:
  // Calls `on_stop(signum)` on the loop thread at each of the first
  // `signal_count` (>= 1) SIGINTs or SIGTERMs (a graceful stop, then an
  // immediate one), then stops watching. `loop` must outlive this object.
  StopSignals(uv_loop_t& loop, std::function<void(int signum)> on_stop, int signal_count = 1);
  ~StopSignals();  // close()
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

  // Stops watching. Idempotent.
  void close();

 private:
  static void onSignal(uv_signal_t* handle, int signum);

  std::array<uv_signal_t*, 2> handles_{};  // owned; freed by closeAndFree's close callback
  std::function<void(int signum)> on_stop_;
  int signals_left_;  // calls of on_stop_ still to come
};

}  // namespace overline::relay
