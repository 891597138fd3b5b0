#pragma once
// --idle-streams N: what N idle streams cost the relay when nothing flows.
//
// One relay (mesh keys on) with the upstream fake neighbour U and one
// downstream fake neighbour D; subscriptions set to live through the whole
// measurement (refresh every 300 s, expiry after 600 s) and max_streams
// above N. First the relay's CPU time over `idle` with no stream (probes
// only: the baseline); then D subscribes to N streams homed at U, paced so
// that no socket overflows, until U has received all N SUBSCRIBEs the relay
// sends upstream; then the relay's CPU time over `idle` again. The fake
// neighbours answer probes throughout.

#include <cstddef>
#include <string>

#include "bench/relay_hop_target.h"

namespace overline::bench {

struct IdleFigures {
  std::size_t streams = 0;          // asked for
  std::size_t subscribed = 0;       // SUBSCRIBEs U received (distinct streams)
  double subscribe_seconds = 0;     // time to install them
  double measured_seconds = 0;      // each CPU measurement's length
  double baseline_cpu_percent = 0;  // no streams; % of one core
  double idle_cpu_percent = 0;      // with the streams
};

Result<IdleFigures, std::string> measureIdleStreams(const BenchSetup& setup, std::size_t streams, DurationUs idle);

}  // namespace overline::bench
