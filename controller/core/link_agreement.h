#pragma once
// Don't believe a single relay: where both ends of a line pair report it,
// route computation uses the worse of the two reports (docs/architecture.md,
// "Control-plane trust").
//
// Relay a reports a's line i -> b's line j; b reports b's line j -> a's line
// i. Both are round-trip measurements of the same pair of lines, so a relay
// that lies about its links (to attract routes, or to push traffic away)
// cannot make a link look better than its other end sees it: the figures of
// each direction become max(rtt), max(jitter), max(loss) and the worse state
// (down > degraded > up) of the two. A link only one end reports is used as
// reported (the other end may not have measured it yet). Pure.

#include <vector>

#include "controller/core/topology.h"

namespace overline::controller {

// `links`: at most one per (from, from_line, to, to_line). Returns them in
// the same order with each one's figures merged with its reverse, if any.
std::vector<LinkMeasurement> agreeOnLinks(const std::vector<LinkMeasurement>& links);

}  // namespace overline::controller
