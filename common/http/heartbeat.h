#pragma once
// Heartbeat: a thread's proof of life for /healthz. The watched thread (the
// relay's libuv loop, the controller's route worker) calls beat() on every
// turn, saying how long it may stay silent before it counts as stuck; a
// status-server thread calls check(). Before the first beat the thread
// counts as starting up, hence alive.
//
// Times are the caller's monotonic microseconds, passed in (tests use fake
// ones). Both methods may be called from any thread.

#include <atomic>

#include "common/http/probe.h"
#include "common/types.h"

namespace overline::http {

class Heartbeat {
 public:
  // max_silence_us > 0: the limit until the next beat (the watched thread
  // may lengthen its turns at run time, and says so here).
  void beat(TimeUs now_us, DurationUs max_silence_us);
  // ok, or not ok with "<what> silent for 6.2 s (limit 5.0 s)".
  ProbeResult check(TimeUs now_us, const char* what) const;

 private:
  static constexpr TimeUs kNeverBeaten = -1;

  std::atomic<TimeUs> last_beat_us_{kNeverBeaten};
  std::atomic<DurationUs> max_silence_us_{0};
};

}  // namespace overline::http
