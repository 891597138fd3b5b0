#pragma once
// CandidateRotation: which of the client's candidate edges to join next.
//
// The candidates are tried in their given order (the controller's, or
// pickFastestEdge's), round and round: each pick starts after the previous
// pick and wraps around. A candidate in use (a session is joining or joined
// there) is never picked. A candidate that failed (its join timed out or
// its joined session died) is skipped for `backoff_us` while a candidate
// that has not failed that recently is free; when every free candidate
// failed within the backoff, the one that failed longest ago is picked
// anyway, so a client never stops trying (one with a single edge keeps
// rejoining it).
//
// Pure: the caller passes its monotonic clock. Not thread-safe.

#include <cstddef>
#include <optional>
#include <vector>

#include "common/types.h"

namespace overline::sdk {

class CandidateRotation {
 public:
  CandidateRotation(std::size_t candidates, DurationUs backoff_us);

  // The candidate to join now, marked in use; nullopt when all are in use.
  std::optional<std::size_t> acquire(TimeUs now);
  // The candidate's session ended: its join timed out or it died. It is
  // free again, in its backoff from `now`.
  void release(std::size_t candidate, TimeUs now);

  std::size_t size() const { return slots_.size(); }
  bool inUse(std::size_t candidate) const { return slots_[candidate].in_use; }

 private:
  struct Slot {
    bool in_use = false;
    std::optional<TimeUs> failed_at;
  };
  const DurationUs backoff_us_;
  std::vector<Slot> slots_;
  std::size_t cursor_ = 0;  // where the next search starts
};

}  // namespace overline::sdk
