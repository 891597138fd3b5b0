#include "sdk/core/delivery_stats.h"

#include <catch2/catch.hpp>

namespace overline::sdk {
namespace {

TEST_CASE("DeliveryStats: counts deliveries within their budget") {
  DeliveryStats s;
  CHECK(s.snapshot().delivered == 0);
  CHECK(s.snapshot().latency_p50_us == 0);
  const std::uint64_t sent = 1'000'000'000;
  s.onDelivered(sent, sent + 20'000, 400'000);
  s.onDelivered(sent, sent + 400'000, 400'000);  // exactly at the budget: within
  s.onDelivered(sent, sent + 400'001, 400'000);
  s.onDelivered(sent, sent - 5, 400'000);  // clocks apart: latency 0
  s.onDelivered(sent, sent + 60'000, 50'000);
  const DeliverySnapshot snap = s.snapshot();
  CHECK(snap.delivered == 5);
  CHECK(snap.within_budget == 3);
  CHECK(snap.latency_p50_us == Approx(60'000).epsilon(0.02));
  CHECK(snap.latency_p99_us == Approx(400'001).epsilon(0.02));
}

}  // namespace
}  // namespace overline::sdk
