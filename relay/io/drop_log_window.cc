#include "relay/io/drop_log_window.h"

namespace overline::relay {

std::optional<DropLogWindow::Report> DropLogWindow::poll(const RelayCounters& counters, TimeUs now_us) {
  if (!started_) {
    started_ = true;
    window_start_us_ = now_us;
    dropped_ = counters.dropped;
    malformed_ = counters.malformed;
    return std::nullopt;
  }
  if (now_us - window_start_us_ < window_us_) return std::nullopt;
  Report report;
  report.window_us = now_us - window_start_us_;
  for (std::size_t i = 0; i < kDropReasonCount; ++i) {
    if (counters.dropped[i] > dropped_[i]) {
      report.growth.push_back({toString(static_cast<DropReason>(i)), counters.dropped[i] - dropped_[i]});
    }
  }
  for (std::size_t i = 0; i < wire::kParseErrorCount; ++i) {
    if (counters.malformed[i] > malformed_[i]) {
      report.growth.push_back({wire::toString(static_cast<wire::ParseError>(i)), counters.malformed[i] - malformed_[i]});
    }
  }
  window_start_us_ = now_us;
  dropped_ = counters.dropped;
  malformed_ = counters.malformed;
  if (report.growth.empty()) return std::nullopt;
  return report;
}

}  // namespace overline::relay
