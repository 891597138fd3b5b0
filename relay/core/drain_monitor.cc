#include "relay/core/drain_monitor.h"

#include "common/check/invariant.h"

namespace overline::relay {

DrainMonitor::DrainMonitor(TimeUs started_us, std::uint64_t transit_forwarded, DurationUs quiet_us,
                           DurationUs timeout_us)
    : started_us_(started_us),
      quiet_us_(quiet_us),
      timeout_us_(timeout_us),
      transit_forwarded_(transit_forwarded),
      last_transit_us_(started_us) {
  // Release: nothing to repair; update() then ends the drain at once (kQuiet or kTimedOut).
  OVERLINE_INVARIANT(quiet_us_ > 0 && timeout_us_ >= 0);
}

DrainMonitor::Verdict DrainMonitor::update(TimeUs now_us, std::uint64_t transit_forwarded) {
  if (transit_forwarded != transit_forwarded_) {
    transit_forwarded_ = transit_forwarded;
    last_transit_us_ = now_us;
  }
  if (now_us - last_transit_us_ >= quiet_us_) return Verdict::kQuiet;
  if (now_us - started_us_ >= timeout_us_) return Verdict::kTimedOut;
  return Verdict::kWait;
}

}  // namespace overline::relay
