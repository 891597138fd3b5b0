#include "sdk/core/latency_budget.h"

#include <catch2/catch.hpp>

namespace overline::sdk {
namespace {

TEST_CASE("encodeLatencyBudget: 10 ms units, rounded up, 10..2550 ms") {
  CHECK(encodeLatencyBudget(10 * kMillisecond).value() == 1);
  CHECK(encodeLatencyBudget(15 * kMillisecond).value() == 2);
  CHECK(encodeLatencyBudget(10 * kMillisecond + 1).value() == 2);
  CHECK(encodeLatencyBudget(kDefaultLatencyBudgetUs).value() == 40);
  CHECK(encodeLatencyBudget(2550 * kMillisecond).value() == 255);
  for (const DurationUs bad : {DurationUs{-1}, DurationUs{0}, 9 * kMillisecond, 2550 * kMillisecond + 1}) {
    const auto encoded = encodeLatencyBudget(bad);
    REQUIRE_FALSE(encoded);
    CHECK(encoded.error().find("10..2550 ms") != std::string::npos);
  }
}

TEST_CASE("decodeLatencyBudget: 0 means the default") {
  CHECK(decodeLatencyBudget(0, 123) == 123);
  CHECK(decodeLatencyBudget(1, 123) == 10 * kMillisecond);
  CHECK(decodeLatencyBudget(255, 123) == 2550 * kMillisecond);
}

}  // namespace
}  // namespace overline::sdk
