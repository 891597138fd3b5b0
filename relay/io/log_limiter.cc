#include "relay/io/log_limiter.h"

namespace overline::relay {

std::optional<std::uint64_t> LogLimiter::admit(const std::string& key, TimeUs now_us) {
  const auto [it, first] = entries_.try_emplace(key, Entry{now_us, 0});
  if (first) return 0;
  Entry& entry = it->second;
  if (now_us - entry.logged_at_us < interval_us_) {
    ++entry.suppressed;
    return std::nullopt;
  }
  const std::uint64_t suppressed = entry.suppressed;
  entry = Entry{now_us, 0};
  return suppressed;
}

}  // namespace overline::relay
