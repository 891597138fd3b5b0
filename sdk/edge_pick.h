#pragma once
// pickFastestEdge: measures the RTT to each of the controller's candidate
// edges and orders them for Client::connect by rankEdges
// (sdk/core/edge_ranking.h): the controller's order stands unless a later
// candidate is clearly faster. Blocking; any thread; no state kept between
// calls.

#include <cstdint>
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
  // The smallest HELLO -> CHALLENGE time over its probes (from just before
  // the send to the kernel's receive timestamp): queueing and scheduling only
  // ever add to an RTT. nullopt: no probe answered in time.
  std::optional<DurationUs> rtt_us;
  std::uint32_t replies = 0;  // probes answered, each counted once
};

// HELLO probes per candidate, kEdgeProbeSpacingUs apart: a scheduler time
// slice on a busy client (up to ~10 ms) or a burst of queueing delays one
// probe, rarely all three, and the minimum ignores the delayed ones.
constexpr int kEdgeProbesPerCandidate = 3;
constexpr DurationUs kEdgeProbeSpacingUs = 10 * kMillisecond;
// Further probes per candidate, sent only when the first ones would
// override the controller (overridesController): a stall that delayed one
// edge's first probes has usually passed by then, a slower path has not.
constexpr int kEdgeConfirmProbesPerCandidate = 3;

// Sends rounds of HELLOs (the first step of a join, without token: the edge
// answers with a stateless CHALLENGE), each with its own header sequence
// (unique within this call), to every candidate from one UDP
// socket, a round every kEdgeProbeSpacingUs: kEdgeProbesPerCandidate rounds,
// and kEdgeConfirmProbesPerCandidate more if every probe was answered and
// the RTTs would override the controller. A reply counts once, for the probe
// whose sequence it copies and only if it comes from that probe's
// destination (an edge answers from the line it was sent to); replies with
// an unknown sequence, from another address, or repeated are ignored.
// Returns when every probe wanted has been sent and answered, or
// `timeout_us` after the call, whichever is first (rounds not yet due by
// then are not sent): a silent candidate costs the whole timeout, and the
// ranking then takes no second look.
//
// Returns every candidate, in rankEdges's order of their minimum RTTs:
// answering ones first (the controller's order unless one is clearly faster
// than another), then the silent ones in the given order (a HELLO may just
// have been lost; Client::connect still tries them).
//
// Probing admits this socket nowhere and leaves no state on any edge. The
// error is a socket failure.
Result<std::vector<MeasuredEdge>, std::string> pickFastestEdge(std::span<const EdgeCandidate> candidates,
                                                                DurationUs timeout_us);

// The candidates of `measured`, in its order.
std::vector<EdgeCandidate> candidatesOf(std::span<const MeasuredEdge> measured);

}  // namespace overline::sdk
