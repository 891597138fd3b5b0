#pragma once
// DrainMonitor: decides when a draining relay (SIGTERM with a controller
// session) may exit without costing its streams anything.
//
// The relay has asked the controller to route transit around it and keeps
// forwarding meanwhile: downstream relays move their subscriptions to the
// new next hop make-before-break, and each UNSUBSCRIBEs from this relay only
// once the new branch delivers. So once no transit DATA has been forwarded
// for `quiet_us`, nothing depends on this relay any more. `timeout_us` bounds
// the wait (no controller answer, a stream with no alternative path).
//
// Pure: fed the core's transit counter and `now` by its caller (relay/main.cc
// polls it on the loop thread).

#include <cstdint>

#include "common/types.h"

namespace overline::relay {

class DrainMonitor {
 public:
  enum class Verdict {
    kWait,      // transit still flows (or did within quiet_us)
    kQuiet,     // no transit forwarded for quiet_us: exit
    kTimedOut,  // timeout_us since the start: exit anyway
  };

  // `transit_forwarded` is RelayCounters::transit_data_forwarded at the
  // start. quiet_us > 0; timeout_us >= 0.
  DrainMonitor(TimeUs started_us, std::uint64_t transit_forwarded, DurationUs quiet_us, DurationUs timeout_us);

  // Call periodically (say every tenth of quiet_us) with the current counter.
  Verdict update(TimeUs now_us, std::uint64_t transit_forwarded);

  // When transit was last seen moving (the start, before any movement).
  TimeUs lastTransitUs() const { return last_transit_us_; }

 private:
  const TimeUs started_us_;
  const DurationUs quiet_us_;
  const DurationUs timeout_us_;
  std::uint64_t transit_forwarded_;
  TimeUs last_transit_us_;
};

}  // namespace overline::relay
