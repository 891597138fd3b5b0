#include "relay/core/nack_tracker.h"

#include <algorithm>

namespace overline::relay {

NackTracker::Arrival NackTracker::onData(std::uint32_t sequence, TimeUs now, DurationUs budget_us,
                                         const RecoveryConfig& config) {
  if (!started_) {
    started_ = true;
    highest_ = sequence;
    if (sequence < kStartWindow) {
      for (std::uint32_t s = 0; s < sequence; ++s) {
        missing_.push_back(Missing{s, now + budget_us, now + config.reorder_allowance_us});
      }
    }
    return Arrival::kNew;
  }
  const auto ahead = static_cast<std::int32_t>(sequence - highest_);
  if (ahead > 0) {
    const auto skipped = static_cast<std::uint32_t>(ahead) - 1;
    if (skipped > kMaxGap) {
      restart(sequence);
      return Arrival::kNew;
    }
    for (std::uint32_t s = highest_ + 1; s != sequence; ++s) {
      if (missing_.size() == kMaxMissing) {
        missing_.erase(missing_.begin());
        ++unrecovered_;
      }
      missing_.push_back(Missing{s, now + budget_us, now + config.reorder_allowance_us});
    }
    highest_ = sequence;
    return Arrival::kNew;
  }
  if (ahead == 0) return Arrival::kOld;
  const auto it = std::find_if(missing_.begin(), missing_.end(),
                               [&](const Missing& m) { return m.sequence == sequence; });
  if (it != missing_.end()) {
    missing_.erase(it);
    return Arrival::kFilled;
  }
  if (static_cast<std::uint32_t>(-static_cast<std::int64_t>(ahead)) > kMaxGap) {
    restart(sequence);
    return Arrival::kNew;
  }
  return Arrival::kOld;
}

void NackTracker::restart(std::uint32_t sequence) {
  unrecovered_ += missing_.size();
  missing_.clear();
  highest_ = sequence;
}

void NackTracker::collectDue(TimeUs now, DurationUs srtt_us, const RecoveryConfig& config,
                             std::vector<std::uint32_t>& due) {
  const DurationUs retry_us =
      std::max(srtt_us + srtt_us / 4 + config.reorder_allowance_us, config.min_nack_interval_us);
  // Past its budget a sequence is given up. Shortly before (a NACK's answer
  // could no longer arrive in time) it is no longer asked for, but an answer
  // to an earlier NACK that arrives within the budget still counts as filled.
  const auto past_budget = [&](const Missing& m) { return now > m.give_up_at_us; };
  const auto given_up = std::remove_if(missing_.begin(), missing_.end(), past_budget);
  unrecovered_ += static_cast<std::uint64_t>(missing_.end() - given_up);
  missing_.erase(given_up, missing_.end());
  for (Missing& m : missing_) {
    if (now < m.next_nack_us || now + srtt_us / 2 > m.give_up_at_us) continue;
    due.push_back(m.sequence);
    m.next_nack_us = now + retry_us;
  }
}

}  // namespace overline::relay
