#pragma once
// ClockOffsetEstimator: the offset from a publisher's clock to the local
// clock, as the minimum of (local arrival - publisher timestamp) over recent
// packets (SRT's TSBPD idea). The minimum includes the path's smallest
// one-way delay, which cannot be told apart from the clock offset without a
// round trip; queueing and retransmission only ever add to a sample, so the
// minimum is the least disturbed estimate.
//
// "Recent" is the current and the previous window of `window_us` local time:
// an old minimum ages out, so the estimate follows slow drift between the two
// clocks and a path whose delay floor rose. Pure; not thread-safe.

#include <cstdint>
#include <optional>

#include "common/types.h"

namespace overline::sdk {

class ClockOffsetEstimator {
 public:
  explicit ClockOffsetEstimator(DurationUs window_us) : window_us_(window_us) {}

  // `offset_us` = local arrival time - publisher timestamp of one packet.
  void onSample(TimeUs now, std::int64_t offset_us);
  // Empty until the first sample.
  std::optional<std::int64_t> offset() const;
  void reset();

 private:
  DurationUs window_us_;
  TimeUs window_start_ = 0;
  std::optional<std::int64_t> current_min_;
  std::optional<std::int64_t> previous_min_;
};

}  // namespace overline::sdk
