#pragma once
// DropLogWindow: turns the core's drop counters into at most one log line
// per drop reason per window. Drops are per-packet problems — a flood of
// them must cost a few lines, not one per packet — and every one of them is
// already counted in metrics (overline_relay_dropped_packets_total{reason}).
// Each window (default 10 s) the relay logs, per reason whose counter grew,
//   msg="packets dropped" reason=not_upstream count=123 window_s=10
// and nothing when nothing grew. Pure: the caller passes the counters and
// the time. One thread.

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "common/types.h"
#include "common/wire/packet.h"
#include "relay/core/relay_counters.h"

namespace overline::relay {

class DropLogWindow {
 public:
  static constexpr DurationUs kDefaultWindowUs = 10 * kSecond;

  struct Growth {
    std::string_view reason;  // DropReason or ParseError name, as in the metric's reason label
    std::uint64_t count = 0;  // drops in the window
  };
  struct Report {
    DurationUs window_us = 0;    // time since the previous report (or the first poll)
    std::vector<Growth> growth;  // reasons that grew, DropReason order then ParseError order; never empty
  };

  explicit DropLogWindow(DurationUs window_us = kDefaultWindowUs) : window_us_(window_us) {}

  // Call as often as convenient (every tick). The first call takes the
  // baseline. Once window_us has passed since the window began, returns the
  // reasons whose counter grew in it, if any, and starts the next window.
  std::optional<Report> poll(const RelayCounters& counters, TimeUs now_us);

 private:
  const DurationUs window_us_;
  bool started_ = false;
  TimeUs window_start_us_ = 0;
  std::array<std::uint64_t, kDropReasonCount> dropped_{};
  std::array<std::uint64_t, wire::kParseErrorCount> malformed_{};
};

}  // namespace overline::relay
