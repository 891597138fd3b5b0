#pragma once
// A stream's latency budget: how long after the publisher sent a DATA packet
// it is still useful. It travels in the DATA header's latency_budget byte in
// units of wire::kLatencyBudgetUnitUs (10 ms), 1..255; 0 = not given.

#include <cstdint>
#include <string>

#include "common/result.h"
#include "common/types.h"
#include "common/wire/packet.h"

namespace overline::sdk {

constexpr DurationUs kDefaultLatencyBudgetUs = 400 * kMillisecond;
constexpr DurationUs kMinLatencyBudgetUs = wire::kLatencyBudgetUnitUs;          // 10 ms
constexpr DurationUs kMaxLatencyBudgetUs = 255 * wire::kLatencyBudgetUnitUs;    // 2,550 ms

// The header byte for `budget_us`, rounded up to whole 10 ms units; an error
// naming the valid range when budget_us is outside [10 ms, 2,550 ms].
Result<std::uint8_t, std::string> encodeLatencyBudget(DurationUs budget_us);

// The budget a header byte states, or `default_us` for 0 (not given).
constexpr DurationUs decodeLatencyBudget(std::uint8_t units, DurationUs default_us) {
  return units == 0 ? default_us : units * wire::kLatencyBudgetUnitUs;
}

}  // namespace overline::sdk
