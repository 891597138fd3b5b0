#include "sdk/core/delivery_stats.h"

namespace overline::sdk {

void DeliveryStats::onDelivered(std::uint64_t send_timestamp_us, std::uint64_t delivered_us,
                                DurationUs budget_us) {
  const std::uint64_t latency_us = delivered_us > send_timestamp_us ? delivered_us - send_timestamp_us : 0;
  ++delivered_;
  if (budget_us >= 0 && latency_us <= static_cast<std::uint64_t>(budget_us)) ++within_budget_;
  latency_.record(latency_us);
}

DeliverySnapshot DeliveryStats::snapshot() const {
  return {delivered_, within_budget_, latency_.percentile(0.50), latency_.percentile(0.99)};
}

}  // namespace overline::sdk
