#pragma once
// rankEdges: the order in which a client tries the controller's candidate
// edges, given the RTT it measured to each. Pure: no clock, no I/O; the
// measuring is pickFastestEdge's (sdk/edge_pick.h).
//
// The rule: the controller's ranking (region, ISP, load, all of which it
// knows and the client does not) stands, unless the client measured a later
// candidate to be clearly faster than an earlier one, i.e. faster by BOTH
//  * at least kMinRttGainUs (10 ms), and
//  * a factor of at least kMinRttRatio (2: at most half the RTT).
//
// Why these numbers. Edges of one region differ by a few ms of RTT (fibre
// costs ~1 ms of RTT per 100 km), and a single host's RTT measurement carries
// a few ms of its own noise: scheduler time slices on a busy machine, Wi-Fi
// and access-link queueing. A gain below 10 ms is within that noise and not
// worth overriding what the controller knows about load and ISPs. Across
// oceans RTTs differ by tens of ms, and on long or mobile paths the jitter
// grows with the path, so 10 ms alone would flip on noise there (150 ms vs
// 135 ms); halving the RTT means the other edge is roughly half as far away,
// i.e. in another region: the controller's picture of where the client is
// (geo-IP, a VPN exit, a wrong --region hint) is wrong, which is exactly what
// a measurement should correct (us 90 ms vs eu 12 ms). The ratio alone would
// flip on a LAN or loopback, where 0.2 ms vs 0.5 ms means nothing; hence both.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "common/types.h"

namespace overline::sdk {

constexpr DurationUs kMinRttGainUs = 10 * kMillisecond;
constexpr std::int64_t kMinRttRatio = 2;

// True when `rtt_us` is clearly faster than `than_us` by the rule above (both
// bounds inclusive). Equal RTTs never are.
constexpr bool clearlyFaster(DurationUs rtt_us, DurationUs than_us) {
  return rtt_us + kMinRttGainUs <= than_us && rtt_us * kMinRttRatio <= than_us;
}

// `min_rtt_us[i]` is candidate i's RTT (the minimum over its probes), in the
// controller's order; nullopt: it never answered. Returns the indices of all
// candidates in the order to try them:
//  * answering candidates first: repeatedly the earliest one (in the
//    controller's order) that no remaining candidate is clearly faster than.
//    So no candidate comes before one clearly faster than it, and candidates
//    within the margins of each other (equal RTTs included) keep the
//    controller's order;
//  * then the silent ones in the controller's order (a probe may just have
//    been lost; Client::connect still tries them).
std::vector<std::size_t> rankEdges(std::span<const std::optional<DurationUs>> min_rtt_us);

// True when rankEdges(min_rtt_us) puts some answering candidate before one
// the controller ranked above it: the measurement overrides the controller
// (which pickFastestEdge confirms with more probes before it believes it).
bool overridesController(std::span<const std::optional<DurationUs>> min_rtt_us);

}  // namespace overline::sdk
