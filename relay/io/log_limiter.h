#pragma once
// LogLimiter: at most one log line per key per interval for problems that
// can repeat per packet (a send failure, a receive error), so a flood costs
// a line every interval instead of a line per packet. What it holds back is
// still counted in metrics by the caller; the next admitted line reports how
// many occurrences were suppressed. Pure: time is passed in. One thread.

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>

#include "common/types.h"

namespace overline::relay {

class LogLimiter {
 public:
  static constexpr DurationUs kDefaultIntervalUs = 10 * kSecond;

  explicit LogLimiter(DurationUs interval_us = kDefaultIntervalUs) : interval_us_(interval_us) {}

  // Records one occurrence of `key` (a small, bounded set: error names,
  // drop reasons) at `now_us`. Returns the number of occurrences suppressed
  // since the key's last line when this one should be logged (the first
  // occurrence, then the first one at least interval_us after the last
  // logged one); nullopt when it should not.
  std::optional<std::uint64_t> admit(const std::string& key, TimeUs now_us);

 private:
  struct Entry {
    TimeUs logged_at_us = 0;
    std::uint64_t suppressed = 0;
  };

  const DurationUs interval_us_;
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace overline::relay
