#pragma once
// Simulator: the virtual clock and event queue of the discrete-event network
// simulator (simulations/README.md).
//
// Time is simulated: now() moves only when runUntil() takes the next event,
// never with the wall clock, so a scenario of a minute of traffic runs in a
// fraction of a second and the same inputs always give the same run. Events
// are kept in a min-heap by time; events due at the same time run in the
// order they were scheduled (FIFO), which makes every run deterministic.
//
// Single-threaded. An action may schedule further events, including at now()
// (they run after every event already due at now()).

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "common/types.h"

namespace overline::sim {

class Simulator {
 public:
  using Action = std::function<void()>;
  // Called at each run of a periodic task; return false to stop it.
  using PeriodicAction = std::function<bool()>;

  explicit Simulator(TimeUs start_us = 0) : now_us_(start_us) {}

  TimeUs now() const { return now_us_; }

  // Runs `action` at `at_us`, which must not be earlier than now().
  void schedule(TimeUs at_us, Action action);
  void scheduleAfter(DurationUs delay_us, Action action) { schedule(now_us_ + delay_us, std::move(action)); }
  // Runs `action` at `first_at_us` and then every `interval_us` (> 0) for as
  // long as it returns true.
  void schedulePeriodic(TimeUs first_at_us, DurationUs interval_us, PeriodicAction action);

  // Runs, in order, every event due at or before `end_us` (also those that
  // events schedule on the way), then sets now() to `end_us` (>= now()).
  void runUntil(TimeUs end_us);
  void runFor(DurationUs duration_us) { runUntil(now_us_ + duration_us); }

  std::uint64_t eventsRun() const { return events_run_; }
  std::size_t pendingEvents() const { return queue_.size(); }

 private:
  struct Event {
    TimeUs at_us;
    std::uint64_t order;  // schedule() call count: FIFO among equal times
    Action action;
  };
  // Heap order for std::push_heap/pop_heap: the earliest event at the front.
  static bool later(const Event& a, const Event& b) {
    return a.at_us != b.at_us ? a.at_us > b.at_us : a.order > b.order;
  }
  struct PeriodicTask {
    DurationUs interval_us;
    PeriodicAction action;
  };
  void runPeriodic(const std::shared_ptr<PeriodicTask>& task);

  TimeUs now_us_;
  std::uint64_t next_order_ = 0;
  std::uint64_t events_run_ = 0;
  std::vector<Event> queue_;  // a heap under later()
};

}  // namespace overline::sim
