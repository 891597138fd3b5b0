// DrainMonitor alone, with fake time.

#include "relay/core/drain_monitor.h"

#include <catch2/catch.hpp>

namespace overline::relay {
namespace {

using Verdict = DrainMonitor::Verdict;
constexpr DurationUs kQuiet = 500 * kMillisecond;
constexpr DurationUs kTimeout = 10 * kSecond;

TEST_CASE("a drain with no transit is quiet after the quiet period") {
  DrainMonitor drain(1'000'000, 42, kQuiet, kTimeout);
  CHECK(drain.update(1'000'000 + kQuiet - 1, 42) == Verdict::kWait);
  CHECK(drain.update(1'000'000 + kQuiet, 42) == Verdict::kQuiet);
}

TEST_CASE("each transit forward restarts the quiet period") {
  DrainMonitor drain(0, 0, kQuiet, kTimeout);
  CHECK(drain.update(400 * kMillisecond, 10) == Verdict::kWait);
  CHECK(drain.update(800 * kMillisecond, 10) == Verdict::kWait);  // 400 ms quiet
  CHECK(drain.lastTransitUs() == 400 * kMillisecond);
  CHECK(drain.update(900 * kMillisecond, 11) == Verdict::kWait);
  CHECK(drain.update(1399 * kMillisecond, 11) == Verdict::kWait);
  CHECK(drain.update(1400 * kMillisecond, 11) == Verdict::kQuiet);
}

TEST_CASE("transit that never stops ends at the timeout") {
  DrainMonitor drain(0, 0, kQuiet, kTimeout);
  std::uint64_t forwarded = 0;
  TimeUs now = 0;
  for (; now < kTimeout; now += 100 * kMillisecond) REQUIRE(drain.update(now, ++forwarded) == Verdict::kWait);
  CHECK(drain.update(kTimeout, ++forwarded) == Verdict::kTimedOut);
}

TEST_CASE("a zero timeout ends the drain at once") {
  DrainMonitor drain(5, 0, kQuiet, 0);
  CHECK(drain.update(5, 1) == Verdict::kTimedOut);
}

}  // namespace
}  // namespace overline::relay
