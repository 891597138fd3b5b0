#pragma once
// DeadlineQueue: when each of many keys (streams, client sessions) next
// needs attention, so a tick visits only the keys that are due instead of
// scanning them all (with 100,000 idle streams a scan every 5 ms tick is 20
// million visits a second; this is a few hundred).
//
// Contract: a key scheduled at time T is returned by popDue(now) for some
// now >= T, at most once per schedule, unless cancelled first. Scheduling a
// key again at a later time than it already has is ignored: it still fires
// at the earlier time, and the owner, which then recomputes what is due,
// schedules it again. So an owner whose deadlines only move later (soft
// state refreshed) never touches the queue until the old deadline passes.
//
// A binary heap with lazy deletion: a superseded entry stays in the heap
// until it surfaces and is recognised by its time; the heap is rebuilt when
// stale entries outnumber the live ones. Pure; times are the caller's clock.

#include <cstddef>
#include <functional>
#include <limits>
#include <queue>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/types.h"

namespace overline::relay {

template <typename Key, typename Hash = std::hash<Key>>
class DeadlineQueue {
 public:
  // Schedules `key` at `at`, unless it is already scheduled no later.
  void schedule(const Key& key, TimeUs at) {
    const auto [it, inserted] = scheduled_.try_emplace(key, at);
    if (!inserted) {
      if (it->second <= at) return;
      it->second = at;
    }
    heap_.push(Entry{at, key});
    if (heap_.size() > 2 * scheduled_.size() + kSlack) rebuild();
  }

  // Forgets `key` (its entry goes stale). No-op if it is not scheduled.
  void cancel(const Key& key) { scheduled_.erase(key); }

  // Appends every key due at `now` (scheduled at <= now) to `due`, in
  // deadline order, and unschedules them.
  void popDue(TimeUs now, std::vector<Key>& due) {
    while (!heap_.empty() && heap_.top().at <= now) {
      const Entry entry = heap_.top();
      heap_.pop();
      const auto it = scheduled_.find(entry.key);
      if (it == scheduled_.end() || it->second != entry.at) continue;  // stale
      scheduled_.erase(it);
      due.push_back(entry.key);
    }
  }

  // The earliest scheduled time (max when nothing is). Stale entries on top
  // may make it early: a tick then finds nothing due, which is harmless.
  TimeUs next() const { return heap_.empty() ? std::numeric_limits<TimeUs>::max() : heap_.top().at; }

  std::size_t size() const { return scheduled_.size(); }

 private:
  static constexpr std::size_t kSlack = 64;
  struct Entry {
    TimeUs at;
    Key key;
    bool operator>(const Entry& other) const { return at > other.at; }
  };

  void rebuild() {
    std::vector<Entry> live;
    live.reserve(scheduled_.size());
    for (const auto& [key, at] : scheduled_) live.push_back(Entry{at, key});
    heap_ = Heap(std::greater<Entry>(), std::move(live));
  }

  using Heap = std::priority_queue<Entry, std::vector<Entry>, std::greater<Entry>>;
  Heap heap_;
  std::unordered_map<Key, TimeUs, Hash> scheduled_;
};

}  // namespace overline::relay
