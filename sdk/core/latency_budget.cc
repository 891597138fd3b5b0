#include "sdk/core/latency_budget.h"

namespace overline::sdk {

Result<std::uint8_t, std::string> encodeLatencyBudget(DurationUs budget_us) {
  if (budget_us < kMinLatencyBudgetUs || budget_us > kMaxLatencyBudgetUs) {
    return Err{"latency budget must be " + std::to_string(kMinLatencyBudgetUs / kMillisecond) + ".." +
               std::to_string(kMaxLatencyBudgetUs / kMillisecond) + " ms, got " + std::to_string(budget_us) +
               " us"};
  }
  const DurationUs units = (budget_us + wire::kLatencyBudgetUnitUs - 1) / wire::kLatencyBudgetUnitUs;
  return static_cast<std::uint8_t>(units);
}

}  // namespace overline::sdk
