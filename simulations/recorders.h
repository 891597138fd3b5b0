#pragma once
// Recorders: what a scenario measures while it runs, on simulated time.
//
//  * CounterTrace samples a value (usually a relay counter) at a fixed
//    interval and keeps every change, so a test can ask when a switch
//    happened with the sampling interval as resolution.
//  * DataPathLog watches DATA between two relays and keeps every change of
//    the line pair it travels on, to the microsecond.
// Both must outlive the Simulator runs they record (their events and
// observers refer to them).

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "common/types.h"
#include "simulations/sim_network.h"
#include "simulations/simulator.h"

namespace overline::sim {

class CounterTrace {
 public:
  // Samples `read` at start_us and every interval_us after it. `read` may
  // return the last value for a relay that is down (the caller decides).
  CounterTrace(Simulator& simulator, TimeUs start_us, DurationUs interval_us, std::function<std::uint64_t()> read);
  CounterTrace(const CounterTrace&) = delete;
  CounterTrace& operator=(const CounterTrace&) = delete;

  struct Sample {
    TimeUs at_us = 0;
    std::uint64_t value = 0;
  };
  // The first sample, then one per change of value.
  const std::vector<Sample>& changes() const { return changes_; }
  // The first sample after `after_us` whose value differs from the value at
  // `after_us`, or nullopt.
  std::optional<TimeUs> firstChangeAfter(TimeUs after_us) const;
  // The value sampled last at or before `at_us` (0 before the first sample).
  std::uint64_t valueAt(TimeUs at_us) const;

 private:
  std::function<std::uint64_t()> read_;
  std::vector<Sample> changes_;
};

// The line pair one DATA packet took between two relays.
struct LinePairUse {
  TimeUs since_us = 0;  // send time of the first DATA on this pair
  LineIndex from_line = 0;
  LineIndex to_line = 0;
};

class DataPathLog {
 public:
  // Records DATA sent by relay `from` to relay `to`, whatever the path does
  // to it; retransmissions (kFlagRetransmit), which answer NACKs on another
  // link by design, are not the path and are left out.
  DataPathLog(SimNetwork& network, NodeId from, NodeId to);
  DataPathLog(const DataPathLog&) = delete;
  DataPathLog& operator=(const DataPathLog&) = delete;

  // The first pair used, then one entry each time a DATA packet takes a pair
  // different from the previous packet's. (In redundant mode the two copies
  // alternate, so every packet is a change: use it for single-path traffic.)
  const std::vector<LinePairUse>& changes() const { return changes_; }
  std::uint64_t packets() const { return packets_; }
  // The pair used last at or before `at_us`, or nullopt.
  std::optional<LinePairUse> pairAt(TimeUs at_us) const;
  // The first change after `after_us`, or nullopt.
  std::optional<LinePairUse> firstChangeAfter(TimeUs after_us) const;

 private:
  std::vector<LinePairUse> changes_;
  std::uint64_t packets_ = 0;
};

}  // namespace overline::sim
