#include "sdk/core/clock_offset_estimator.h"

#include <algorithm>

namespace overline::sdk {

void ClockOffsetEstimator::onSample(TimeUs now, std::int64_t offset_us) {
  if (current_min_ && now - window_start_ < window_us_) {
    current_min_ = std::min(*current_min_, offset_us);
    return;
  }
  // A new window. The one that just ended stays in the estimate only if it
  // was the immediately preceding one (no silence of a whole window since).
  previous_min_ = current_min_ && now - window_start_ < 2 * window_us_ ? current_min_ : std::nullopt;
  current_min_ = offset_us;
  window_start_ = now;
}

std::optional<std::int64_t> ClockOffsetEstimator::offset() const {
  if (!current_min_) return std::nullopt;
  return previous_min_ ? std::min(*current_min_, *previous_min_) : *current_min_;
}

void ClockOffsetEstimator::reset() {
  current_min_.reset();
  previous_min_.reset();
}

}  // namespace overline::sdk
