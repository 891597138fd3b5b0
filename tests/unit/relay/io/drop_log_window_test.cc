// DropLogWindow with fake time and hand-set counters.

#include "relay/io/drop_log_window.h"

#include <catch2/catch.hpp>

namespace overline::relay {
namespace {

constexpr DurationUs kWindow = 10 * kSecond;

std::uint64_t& malformed(RelayCounters& counters, wire::ParseError error) {
  return counters.malformed[static_cast<std::size_t>(error)];
}

TEST_CASE("nothing is reported before a window has passed, nor when nothing grew") {
  DropLogWindow window(kWindow);
  RelayCounters counters;
  counters.drop(DropReason::kNoRoute) = 5;  // before the baseline: never reported
  CHECK_FALSE(window.poll(counters, 0).has_value());
  CHECK_FALSE(window.poll(counters, kWindow).has_value());
  counters.drop(DropReason::kNoRoute) = 9;
  CHECK_FALSE(window.poll(counters, kWindow + 1).has_value());       // window still open
  CHECK_FALSE(window.poll(counters, 2 * kWindow - 1).has_value());
  const auto report = window.poll(counters, 2 * kWindow);
  REQUIRE(report.has_value());
  REQUIRE(report->growth.size() == 1);
  CHECK(report->growth[0].reason == "no_route");
  CHECK(report->growth[0].count == 4);
  CHECK(report->window_us == kWindow);
}

TEST_CASE("each reason that grew gets its own delta, drop reasons then parse errors") {
  DropLogWindow window(kWindow);
  RelayCounters counters;
  CHECK_FALSE(window.poll(counters, 0).has_value());
  counters.drop(DropReason::kNotUpstream) = 123;
  counters.drop(DropReason::kDuplicate) = 2;
  malformed(counters, wire::ParseError::kBadMagic) = 7;
  const auto report = window.poll(counters, kWindow + 250 * kMillisecond);
  REQUIRE(report.has_value());
  CHECK(report->window_us == kWindow + 250 * kMillisecond);
  REQUIRE(report->growth.size() == 3);
  CHECK(report->growth[0].reason == "not_upstream");
  CHECK(report->growth[0].count == 123);
  CHECK(report->growth[1].reason == "duplicate");
  CHECK(report->growth[1].count == 2);
  CHECK(report->growth[2].reason == "bad_magic");
  CHECK(report->growth[2].count == 7);
}

TEST_CASE("a report starts the next window; a quiet window reports nothing but still moves on") {
  DropLogWindow window(kWindow);
  RelayCounters counters;
  CHECK_FALSE(window.poll(counters, 0).has_value());
  counters.drop(DropReason::kSendFailed) = 1;
  REQUIRE(window.poll(counters, kWindow).has_value());
  // Same counters a window later: nothing grew.
  CHECK_FALSE(window.poll(counters, 2 * kWindow).has_value());
  counters.drop(DropReason::kSendFailed) = 3;
  CHECK_FALSE(window.poll(counters, 2 * kWindow + kSecond).has_value());  // new window began at 2 * kWindow
  const auto report = window.poll(counters, 3 * kWindow);
  REQUIRE(report.has_value());
  REQUIRE(report->growth.size() == 1);
  CHECK(report->growth[0].count == 2);
  CHECK(report->window_us == kWindow);
}

}  // namespace
}  // namespace overline::relay
