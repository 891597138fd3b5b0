#include "sdk/core/candidate_rotation.h"

#include "common/check/invariant.h"

namespace overline::sdk {

CandidateRotation::CandidateRotation(std::size_t candidates, DurationUs backoff_us)
    : backoff_us_(backoff_us), slots_(candidates) {}

std::optional<std::size_t> CandidateRotation::acquire(TimeUs now) {
  std::optional<std::size_t> rested;   // first free one out of its backoff, in rotation order
  std::optional<std::size_t> oldest;   // free one whose failure is the oldest
  for (std::size_t step = 0; step < slots_.size() && !rested; ++step) {
    const std::size_t i = (cursor_ + step) % slots_.size();
    const Slot& slot = slots_[i];
    if (slot.in_use) continue;
    if (!slot.failed_at || now - *slot.failed_at >= backoff_us_) {
      rested = i;
    } else if (!oldest || *slot.failed_at < *slots_[*oldest].failed_at) {
      oldest = i;
    }
  }
  const std::optional<std::size_t> pick = rested ? rested : oldest;
  if (pick) {
    slots_[*pick].in_use = true;
    cursor_ = (*pick + 1) % slots_.size();
  }
  return pick;
}

void CandidateRotation::release(std::size_t candidate, TimeUs now) {
  if (!OVERLINE_INVARIANT(candidate < slots_.size() && slots_[candidate].in_use)) return;
  slots_[candidate] = Slot{.in_use = false, .failed_at = now};
}

}  // namespace overline::sdk
