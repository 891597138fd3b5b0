#pragma once
// DeliveryStats: what a subscriber's application was handed, measured at
// delivery (after the SDK's playout), against the stream's latency budget.
//
// Delivery latency = delivery wall clock - the publisher's send timestamp:
// exact only when publisher and subscriber share a clock (one machine), as
// in local tests; across machines it is off by their clock difference. A
// delivery that precedes its send timestamp counts as latency 0. Pure; not
// thread-safe.

#include <cstdint>

#include "common/types.h"
#include "sdk/core/latency_histogram.h"

namespace overline::sdk {

struct DeliverySnapshot {
  std::uint64_t delivered = 0;
  std::uint64_t within_budget = 0;  // delivered with latency <= the packet's budget
  std::uint64_t latency_p50_us = 0;
  std::uint64_t latency_p99_us = 0;
};

class DeliveryStats {
 public:
  void onDelivered(std::uint64_t send_timestamp_us, std::uint64_t delivered_us, DurationUs budget_us);
  DeliverySnapshot snapshot() const;

 private:
  std::uint64_t delivered_ = 0;
  std::uint64_t within_budget_ = 0;
  LatencyHistogram latency_;
};

}  // namespace overline::sdk
