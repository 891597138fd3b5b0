#pragma once
// Which line pair carries traffic to a neighbour.
//
// For now always the first pair: local line 0 to the neighbour's line 0. Link
// probing and per-hop path choice (DESIGN.md, "Path choice per hop") replace
// this function with a per-neighbour selector; callers already go through it
// for every packet so nothing else changes then.

#include "common/endpoint.h"
#include "common/types.h"
#include "relay/core/relay_config.h"

namespace overline::relay {

struct LinePair {
  LineIndex local_line = 0;
  Endpoint remote;  // the neighbour's line address
};

// `neighbour` must have at least one line (RelayCore checks its config).
inline LinePair chooseLinePair(const NeighbourConfig& neighbour) {
  return LinePair{0, neighbour.lines.front()};
}

}  // namespace overline::relay
