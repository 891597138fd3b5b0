#pragma once
// pickFastestEdge: which of the controller's candidate edges answers fastest
// from here. Blocking; any thread; no state kept between calls.

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/types.h"
#include "sdk/client.h"

namespace overline::sdk {

struct MeasuredEdge {
  EdgeCandidate candidate;
  std::optional<DurationUs> rtt_us;  // HELLO -> HELLO reply; nullopt: no reply in time
};

// Within this much of the fastest reply, candidates keep the given order:
// the controller's ranking (region, ISP, load) beats measurement noise.
constexpr DurationUs kDefaultRttMarginUs = 2 * kMillisecond;

// Sends one HELLO, with the candidate's join token, to every candidate from
// one UDP socket and times the replies (matched by source address: an edge
// answers from the line it was sent to). Waits until every candidate
// answered or `timeout_us` passed. Returns every candidate: first those that
// answered within `rtt_margin_us` of the fastest, in their given order; then
// the other answering ones, fastest first; then the silent ones in their
// given order (a HELLO may just have been lost). Ready for Client::connect.
//
// An edge that answers has admitted this socket as a client; it forgets it
// after its client expiry (5 s by default). The error is a socket failure.
Result<std::vector<MeasuredEdge>, std::string> pickFastestEdge(std::span<const EdgeCandidate> candidates,
                                                                DurationUs timeout_us,
                                                                DurationUs rtt_margin_us = kDefaultRttMarginUs);

// The candidates of `measured`, in its order.
std::vector<EdgeCandidate> candidatesOf(std::span<const MeasuredEdge> measured);

}  // namespace overline::sdk
