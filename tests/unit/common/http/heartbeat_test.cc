// Heartbeat alone, with fake time: when /healthz calls a thread stuck.

#include "common/http/heartbeat.h"

#include <catch2/catch.hpp>

namespace overline::http {
namespace {

constexpr DurationUs kLimit = 5 * kSecond;

TEST_CASE("a thread that has not beaten yet is starting up, hence alive") {
  const Heartbeat heartbeat;
  CHECK(heartbeat.check(1'000 * kSecond, "loop").ok);
}

TEST_CASE("a beat keeps the thread alive for exactly its limit") {
  Heartbeat heartbeat;
  heartbeat.beat(10 * kSecond, kLimit);
  CHECK(heartbeat.check(10 * kSecond, "loop").ok);
  CHECK(heartbeat.check(10 * kSecond + kLimit, "loop").ok);
  const ProbeResult stuck = heartbeat.check(10 * kSecond + kLimit + 1, "loop");
  CHECK_FALSE(stuck.ok);
  CHECK(stuck.reason == "loop silent for 5.0 s (limit 5.0 s)");
}

TEST_CASE("the next beat revives a stuck thread") {
  Heartbeat heartbeat;
  heartbeat.beat(0, kLimit);
  REQUIRE_FALSE(heartbeat.check(6200 * kMillisecond, "route worker").ok);
  CHECK(heartbeat.check(6200 * kMillisecond, "route worker").reason == "route worker silent for 6.2 s (limit 5.0 s)");
  heartbeat.beat(6300 * kMillisecond, kLimit);
  CHECK(heartbeat.check(6400 * kMillisecond, "route worker").ok);
}

TEST_CASE("each beat sets the limit until the next one") {
  Heartbeat heartbeat;
  heartbeat.beat(0, 30 * kSecond);  // a long turn announced
  CHECK(heartbeat.check(29 * kSecond, "worker").ok);
  heartbeat.beat(29 * kSecond, kLimit);  // back to short turns
  CHECK(heartbeat.check(34 * kSecond, "worker").ok);
  CHECK_FALSE(heartbeat.check(35 * kSecond, "worker").ok);
}

}  // namespace
}  // namespace overline::http
