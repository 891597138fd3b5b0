#pragma once
// Turns every SIGHUP into a callback on the loop thread (a config reload),
// through a uv_signal_t like StopSignals: no async-signal-safety concerns.

#include <uv.h>

#include <functional>

namespace overline::relay {

class HangupSignal {
 public:
  // Calls `on_hangup()` on the loop thread at each SIGHUP until close().
  // `loop` must outlive this object.
  HangupSignal(uv_loop_t& loop, std::function<void()> on_hangup);
  ~HangupSignal();  // close()
  HangupSignal(const HangupSignal&) = delete;
  HangupSignal& operator=(const HangupSignal&) = delete;

  // Stops watching (SIGHUP gets its default action again). Idempotent.
  void close();

 private:
  static void onSignal(uv_signal_t* handle, int signum);

  uv_signal_t* handle_;  // owned; freed by closeAndFree's close callback
  std::function<void()> on_hangup_;
};

}  // namespace overline::relay
