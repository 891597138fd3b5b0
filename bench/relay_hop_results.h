#pragma once
// The figures of a whole bench run, as measured (relay_hop_bench.cc) and
// as reported (relay_hop_report.cc).

#include <map>
#include <optional>
#include <vector>

#include "bench/relay_hop_phases.h"

namespace overline::bench {

// One fanout K of one run.
struct FanoutRun {
  std::size_t fanout = 1;
  std::vector<TargetKind> throughput_order;
  std::vector<TargetKind> latency_order;
  double latency_rate_pps = 0;
  std::map<TargetKind, ThroughputFigures> throughput;  // forwarder, relay auth, relay lab
  std::map<TargetKind, LatencyFigures> latency;        // the same and the direct path

  enum class Rate : std::uint8_t { kOut, kDelivered, kOutPerCpuSecond };
  // target / forwarder of one rate.
  std::optional<double> ratioToForwarder(TargetKind target, Rate rate) const;
  // target's latency percentile minus `reference`'s: over the direct path,
  // what the hop adds; over the forwarder, what the relay adds beyond what
  // any hop costs (the kernel's path and waking a process on another CPU).
  std::optional<double> addedLatencyUs(TargetKind target, bool p99, TargetKind reference = TargetKind::kDirect) const;
};

struct RunResult {
  int run = 0;
  std::vector<FanoutRun> fanouts;
};

}  // namespace overline::bench
