#pragma once
// rankEdges: which relays an SDK client should try, best first. Pure.
//
// Eligible: connected, not drained, load < max_load, with at least one line
// of known address. Order: same region and same ISP as the hints first, then
// same region, then same ISP, then the rest; within a class lower load, then
// lower node id. An empty hint matches nothing. The line offered is the
// first one of the hinted ISP when the relay has one, else its first line.

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/types.h"

namespace overline::controller {

struct EdgeLine {
  LineIndex index = 0;  // the relay's line index
  std::string isp;
};

struct EdgeOption {
  NodeId node = kNoNode;
  std::string region;
  std::vector<EdgeLine> lines;  // lines with a known address, ascending index
  double load = 0.0;
  bool connected = false;
  bool drained = false;
};

struct EdgePick {
  NodeId node = kNoNode;
  LineIndex line = 0;
};

std::vector<EdgePick> rankEdges(std::span<const EdgeOption> options, std::string_view region_hint,
                                std::string_view isp_hint, double max_load, std::size_t max_count);

}  // namespace overline::controller
