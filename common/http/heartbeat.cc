#include "common/http/heartbeat.h"

#include <cstdio>

namespace overline::http {

void Heartbeat::beat(TimeUs now_us, DurationUs max_silence_us) {
  // The limit first: a check that sees the new beat also sees its limit.
  max_silence_us_.store(max_silence_us, std::memory_order_relaxed);
  last_beat_us_.store(now_us, std::memory_order_release);
}

ProbeResult Heartbeat::check(TimeUs now_us, const char* what) const {
  const TimeUs last_us = last_beat_us_.load(std::memory_order_acquire);
  if (last_us == kNeverBeaten) return {};
  const DurationUs max_silence_us = max_silence_us_.load(std::memory_order_relaxed);
  const DurationUs silent_us = now_us - last_us;
  if (silent_us <= max_silence_us) return {};
  char reason[128];
  std::snprintf(reason, sizeof reason, "%s silent for %.1f s (limit %.1f s)", what,
                static_cast<double>(silent_us) / kSecond, static_cast<double>(max_silence_us) / kSecond);
  return {false, reason};
}

}  // namespace overline::http
