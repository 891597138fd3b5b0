// LogLimiter with fake time.

#include "relay/io/log_limiter.h"

#include <catch2/catch.hpp>

namespace overline::relay {
namespace {

constexpr DurationUs kInterval = 10 * kSecond;

TEST_CASE("the first occurrence is logged, repeats within the interval are counted, not logged") {
  LogLimiter limiter(kInterval);
  CHECK(limiter.admit("ENOBUFS", 0) == std::optional<std::uint64_t>(0));
  for (int i = 1; i <= 99; ++i) CHECK_FALSE(limiter.admit("ENOBUFS", i * 50 * kMillisecond).has_value());
  // The next line after the interval reports the 99 held back, then starts over.
  CHECK(limiter.admit("ENOBUFS", kInterval) == std::optional<std::uint64_t>(99));
  CHECK_FALSE(limiter.admit("ENOBUFS", kInterval + 1).has_value());
  CHECK(limiter.admit("ENOBUFS", 2 * kInterval) == std::optional<std::uint64_t>(1));
}

TEST_CASE("keys are limited independently") {
  LogLimiter limiter(kInterval);
  CHECK(limiter.admit("send ENETUNREACH", 0).has_value());
  CHECK(limiter.admit("recv ECONNREFUSED", 1).has_value());
  CHECK_FALSE(limiter.admit("send ENETUNREACH", 2).has_value());
  CHECK_FALSE(limiter.admit("recv ECONNREFUSED", 3).has_value());
}

TEST_CASE("a quiet key is logged at once when it recurs after the interval, with nothing suppressed") {
  LogLimiter limiter(kInterval);
  CHECK(limiter.admit("x", 0).has_value());
  CHECK(limiter.admit("x", 5 * kInterval) == std::optional<std::uint64_t>(0));
}

}  // namespace
}  // namespace overline::relay
