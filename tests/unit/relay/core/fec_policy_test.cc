// FecPolicy: the target table and the hysteresis around it.

#include "relay/core/fec_policy.h"

#include <catch2/catch.hpp>
#include <cmath>

namespace overline::relay {
namespace {

FecPolicyInput input(double loss, DurationUs srtt_us, DurationUs budget_us, double rate_pps = 0.0) {
  return {loss, srtt_us, budget_us, rate_pps};
}

constexpr DurationUs kMs = kMillisecond;

TEST_CASE("target table: loss, RTT against the budget, and rate") {
  const FecPolicyConfig config;
  struct Row {
    FecPolicyInput in;
    FecProtection expected;
  };
  // 40 ms RTT in a 400 ms budget: 400 / (40 + 20) = 6.7 NACK rounds.
  // 120 ms RTT in a 400 ms budget: 400 / 140 = 2.9 rounds: FEC does the work.
  const Row rows[] = {
      {input(0.0, 40 * kMs, 400 * kMs), {0, 0}},
      {input(0.009, 40 * kMs, 400 * kMs), {0, 0}},        // below 1%: off
      {input(0.01, 40 * kMs, 400 * kMs), {8, 2}},         // ceil(0.08) + 1
      {input(0.05, 40 * kMs, 400 * kMs), {8, 2}},         // ceil(0.4) + 1
      {input(0.10, 40 * kMs, 400 * kMs), {8, 2}},         // ceil(0.8) + 1
      {input(0.10, 120 * kMs, 400 * kMs), {8, 3}},        // ceil(1.6) + 1
      {input(0.25, 40 * kMs, 400 * kMs), {8, 3}},         // 8 x 0.25 = 2 exactly, + 1
      {input(0.30, 40 * kMs, 400 * kMs), {8, 4}},         // ceil(2.4) + 1
      {input(0.30, 120 * kMs, 400 * kMs), {8, 6}},        // ceil(4.8) + 1
      {input(0.30, 40 * kMs, 0), {8, 6}},                 // budget unknown: no NACK room assumed
      {input(0.60, 120 * kMs, 400 * kMs), {8, 8}},        // capped at k
      {input(1.5, 40 * kMs, 400 * kMs), {8, 8}},          // nonsense loss clamps
      {input(0.30, 40 * kMs, 400 * kMs, 400.0), {4, 3}},  // 400 pps x 10 ms = 4 per group
      {input(0.30, 40 * kMs, 400 * kMs, 50.0), {1, 1}},   // a slow stream: k = 1 (repetition)
      {input(0.30, 40 * kMs, 400 * kMs, 5000.0), {8, 4}}, // fast: k stays at max_k
      {input(std::nan(""), 40 * kMs, 400 * kMs), {0, 0}},
  };
  for (const Row& row : rows) {
    INFO("loss " << row.in.loss_ratio << " srtt " << row.in.srtt_us << " budget " << row.in.latency_budget_us
                 << " rate " << row.in.packet_rate_pps);
    const FecProtection got = fecTarget(row.in, config, false);
    CHECK(int{got.k} == int{row.expected.k});
    CHECK(int{got.m} == int{row.expected.m});
  }
}

TEST_CASE("once on, FEC stays on down to the lower disable threshold") {
  const FecPolicyConfig config;
  CHECK_FALSE(fecTarget(input(0.007, 40 * kMs, 400 * kMs), config, false).enabled());
  CHECK(fecTarget(input(0.007, 40 * kMs, 400 * kMs), config, true) == FecProtection{8, 2});
  CHECK_FALSE(fecTarget(input(0.004, 40 * kMs, 400 * kMs), config, true).enabled());
}

TEST_CASE("more protection applies at once, less only after the hold time") {
  FecPolicy policy;
  CHECK(policy.update(input(0.0, 40 * kMs, 400 * kMs), 0) == FecProtection{});
  CHECK(policy.update(input(0.30, 40 * kMs, 400 * kMs), 100 * kMs) == FecProtection{8, 4});
  // Loss falls: the weaker target waits 2 s.
  CHECK(policy.update(input(0.05, 40 * kMs, 400 * kMs), 200 * kMs) == FecProtection{8, 4});
  CHECK(policy.update(input(0.05, 40 * kMs, 400 * kMs), 2199 * kMs) == FecProtection{8, 4});
  CHECK(policy.update(input(0.05, 40 * kMs, 400 * kMs), 2200 * kMs) == FecProtection{8, 2});
  // Loss rises again: immediately.
  CHECK(policy.update(input(0.30, 120 * kMs, 400 * kMs), 2300 * kMs) == FecProtection{8, 6});
}

TEST_CASE("a target back at the current one restarts the hold") {
  FecPolicy policy;
  policy.update(input(0.30, 40 * kMs, 400 * kMs), 0);
  policy.update(input(0.05, 40 * kMs, 400 * kMs), 1000 * kMs);
  policy.update(input(0.30, 40 * kMs, 400 * kMs), 2000 * kMs);  // loss back up for one window
  CHECK(policy.update(input(0.05, 40 * kMs, 400 * kMs), 3500 * kMs) == FecProtection{8, 4});
  CHECK(policy.update(input(0.05, 40 * kMs, 400 * kMs), 5500 * kMs) == FecProtection{8, 2});
}

TEST_CASE("after the hold the strongest of the weaker targets applies, and FEC turns off last") {
  FecPolicy policy;
  policy.update(input(0.30, 120 * kMs, 400 * kMs), 0);  // {8, 6}
  policy.update(input(0.0, 40 * kMs, 400 * kMs), 1000 * kMs);
  policy.update(input(0.10, 120 * kMs, 400 * kMs), 2000 * kMs);  // {8, 3}
  CHECK(policy.update(input(0.0, 40 * kMs, 400 * kMs), 3000 * kMs) == FecProtection{8, 3});
  CHECK(policy.update(input(0.0, 40 * kMs, 400 * kMs), 4999 * kMs) == FecProtection{8, 3});
  CHECK(policy.update(input(0.0, 40 * kMs, 400 * kMs), 5000 * kMs) == FecProtection{});
}

TEST_CASE("one quiet window does not switch FEC off") {
  FecPolicy policy;
  REQUIRE(policy.update(input(0.02, 40 * kMs, 400 * kMs), 0).enabled());
  for (int tick = 1; tick < 100; ++tick) {
    const double loss = tick % 5 == 0 ? 0.0 : 0.02;  // every fifth window shows no loss
    CHECK(policy.update(input(loss, 40 * kMs, 400 * kMs), tick * 200 * kMs).enabled());
  }
}

}  // namespace
}  // namespace overline::relay
