#pragma once
// Topology: what the controller knows about the overlay when it computes
// routes — the provisioned nodes and the latest link measurements reported by
// the relays. Plain data: the controller service fills it from hellos and link
// reports; tests and the bench build it directly.

#include <cstdint>
#include <string>
#include <vector>

#include "common/types.h"

namespace overline::controller {

// The state a relay reports for one link (see relay/core/link_monitor.h). A
// link the relay has not measured yet (UNKNOWN there) is simply not reported.
enum class LinkState : std::uint8_t { kUp, kDegraded, kDown };

struct NodeInfo {
  NodeId id = kNoNode;
  std::string region;                  // e.g. "eu-west"; region rules match it exactly
  std::vector<std::string> line_isps;  // ISP tag of each line, in line order: size = line count
  // Provisioned capacity. Input of edge allocation; routes see only `load`.
  std::uint64_t capacity_bps = 0;
  double load = 0.0;     // current load as a fraction of capacity, >= 0; above 1 counts as 1
  bool drained = false;  // carries no transit; still a source and a destination
};

// One directed link: `from`'s line `from_line` to `to`'s line `to_line`, as
// measured by `from` with probes and their ACKs. RTT and loss are round-trip
// figures of that line pair. Route computation uses them for the hop
// from -> to: `from` sends SUBSCRIBE on this line pair and the media comes
// back on the same pair.
struct LinkMeasurement {
  NodeId from = kNoNode;
  LineIndex from_line = 0;
  NodeId to = kNoNode;
  LineIndex to_line = 0;
  DurationUs rtt_us = 0;     // smoothed RTT, 0..60 s
  DurationUs jitter_us = 0;  // mean deviation of RTT samples, 0..60 s
  double loss = 0.0;         // lost / resolved probes, 0..1
  LinkState state = LinkState::kUp;
};

struct Topology {
  std::vector<NodeInfo> nodes;         // any order; ids unique and != kNoNode
  std::vector<LinkMeasurement> links;  // any order; at most one per (from, from_line, to, to_line)
};

}  // namespace overline::controller
