#include "sdk/core/clock_offset_estimator.h"

#include <catch2/catch.hpp>

namespace overline::sdk {
namespace {

constexpr DurationUs kWindow = 10 * kSecond;

TEST_CASE("ClockOffsetEstimator: the minimum over recent samples") {
  ClockOffsetEstimator e(kWindow);
  CHECK_FALSE(e.offset());
  e.onSample(0, 500);
  e.onSample(1 * kSecond, 300);
  e.onSample(2 * kSecond, 900);
  CHECK(e.offset() == 300);
  e.reset();
  CHECK_FALSE(e.offset());
}

TEST_CASE("ClockOffsetEstimator: an old minimum ages out after two windows") {
  ClockOffsetEstimator e(kWindow);
  e.onSample(0, 100);  // window 1
  e.onSample(kWindow, 400);  // window 2: window 1 still counts
  CHECK(e.offset() == 100);
  e.onSample(2 * kWindow, 450);  // window 3: window 1 dropped
  CHECK(e.offset() == 400);
  e.onSample(5 * kWindow, 700);  // after a silence: only the new sample
  CHECK(e.offset() == 700);
}

TEST_CASE("ClockOffsetEstimator: negative offsets (publisher clock ahead)") {
  ClockOffsetEstimator e(kWindow);
  e.onSample(0, -5'000'000);
  e.onSample(1, -5'000'100);
  CHECK(e.offset() == -5'000'100);
}

}  // namespace
}  // namespace overline::sdk
