#pragma once
// MainLoopWaiter: lets a tool's main thread wait for "SIGINT/SIGTERM, or a
// wake-up from another thread, or a deadline" in a single ppoll().
//
// Signals arrive through a signalfd, never through a handler, so nothing runs
// in signal context. create() blocks SIGINT and SIGTERM in the calling thread;
// threads started afterwards inherit the mask, so call it first in main(),
// before the SDK client starts its thread.

#include <string>

#include "common/result.h"
#include "common/types.h"
#include "sdk/unique_fd.h"

namespace overline::sdk::tools {

TimeUs monotonicUs();

class MainLoopWaiter {
 public:
  enum class Wake { kDeadline, kSignal, kNotified };

  static Result<MainLoopWaiter, std::string> create();

  // Waits until `deadline_us` (monotonicUs() clock); returns early on a
  // signal (checked first) or a notify(). A notify() stays pending until a
  // waitUntil() returns kNotified.
  Wake waitUntil(TimeUs deadline_us);

  // Wakes waitUntil(). Callable from any thread.
  void notify();

 private:
  MainLoopWaiter(UniqueFd signal_fd, UniqueFd event_fd)
      : signal_fd_(std::move(signal_fd)), event_fd_(std::move(event_fd)) {}

  UniqueFd signal_fd_;
  UniqueFd event_fd_;
};

}  // namespace overline::sdk::tools
