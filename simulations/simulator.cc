#include "simulations/simulator.h"

#include <algorithm>
#include <cassert>
#include <utility>

namespace overline::sim {

void Simulator::schedule(TimeUs at_us, Action action) {
  assert(at_us >= now_us_ && "an event cannot be scheduled in the past");
  queue_.push_back(Event{at_us, next_order_++, std::move(action)});
  std::push_heap(queue_.begin(), queue_.end(), later);
}

void Simulator::schedulePeriodic(TimeUs first_at_us, DurationUs interval_us, PeriodicAction action) {
  assert(interval_us > 0);
  auto task = std::make_shared<PeriodicTask>(PeriodicTask{interval_us, std::move(action)});
  schedule(first_at_us, [this, task] { runPeriodic(task); });
}

void Simulator::runPeriodic(const std::shared_ptr<PeriodicTask>& task) {
  if (!task->action()) return;
  schedule(now_us_ + task->interval_us, [this, task] { runPeriodic(task); });
}

void Simulator::runUntil(TimeUs end_us) {
  assert(end_us >= now_us_);
  while (!queue_.empty() && queue_.front().at_us <= end_us) {
    std::pop_heap(queue_.begin(), queue_.end(), later);
    Event event = std::move(queue_.back());
    queue_.pop_back();
    now_us_ = event.at_us;
    ++events_run_;
    event.action();
  }
  now_us_ = end_us;
}

}  // namespace overline::sim
