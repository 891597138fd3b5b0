#include "relay/core/nack_tracker.h"

#include <catch2/catch.hpp>
#include <vector>

namespace overline::relay {
namespace {

using Sequences = std::vector<std::uint32_t>;

constexpr TimeUs kStart = 1000 * kSecond;
constexpr DurationUs kBudget = 400 * kMillisecond;

struct Tracker {
  Sequences due(TimeUs now, DurationUs srtt_us) {
    Sequences out;
    tracker.collectDue(now, srtt_us, config, out);
    return out;
  }
  NackTracker::Arrival data(std::uint32_t sequence, TimeUs now) {
    return tracker.onData(sequence, now, kBudget, config);
  }

  RecoveryConfig config;  // allowance 5 ms, min interval 15 ms
  NackTracker tracker;
};

TEST_CASE("A gap is NACKed once the reorder allowance has passed") {
  Tracker t;
  CHECK(t.data(110, kStart) == NackTracker::Arrival::kNew);
  CHECK(t.data(113, kStart + 1000) == NackTracker::Arrival::kNew);
  CHECK(t.tracker.missingCount() == 2);
  CHECK(t.due(kStart + 1000 + 5 * kMillisecond - 1, 0).empty());
  CHECK(t.due(kStart + 1000 + 5 * kMillisecond, 0) == Sequences{111, 112});
}

TEST_CASE("A stream first seen at a small sequence misses its start; later first sequences start clean") {
  Tracker t;
  CHECK(t.data(3, kStart) == NackTracker::Arrival::kNew);
  CHECK(t.due(kStart + 5 * kMillisecond, 0) == Sequences{0, 1, 2});

  Tracker mid;  // joined a running stream
  mid.data(NackTracker::kStartWindow, kStart);
  CHECK_FALSE(mid.tracker.hasMissing());
  Tracker zero;
  zero.data(0, kStart);
  CHECK_FALSE(zero.tracker.hasMissing());
}

TEST_CASE("A reordered packet arriving within the allowance is never NACKed") {
  Tracker t;
  t.data(101, kStart);
  t.data(103, kStart);
  CHECK(t.data(102, kStart + 2 * kMillisecond) == NackTracker::Arrival::kFilled);
  CHECK_FALSE(t.tracker.hasMissing());
  CHECK(t.due(kStart + kSecond, 0).empty());
  CHECK(t.data(102, kStart + 3 * kMillisecond) == NackTracker::Arrival::kOld);
}

TEST_CASE("Repeated NACKs are paced by max(1.25 x srtt + allowance, min interval)") {
  Tracker t;
  t.data(101, kStart);
  t.data(103, kStart);
  const DurationUs srtt = 40 * kMillisecond;  // retry = 50 + 5 = 55 ms
  const TimeUs first = kStart + 5 * kMillisecond;
  CHECK(t.due(first, srtt) == Sequences{102});
  CHECK(t.due(first + 55 * kMillisecond - 1, srtt).empty());
  CHECK(t.due(first + 55 * kMillisecond, srtt) == Sequences{102});

  Tracker fast;  // srtt 0: the 15 ms floor
  fast.data(101, kStart);
  fast.data(103, kStart);
  CHECK(fast.due(first, 0) == Sequences{102});
  CHECK(fast.due(first + 15 * kMillisecond - 1, 0).empty());
  CHECK(fast.due(first + 15 * kMillisecond, 0) == Sequences{102});
}

TEST_CASE("A sequence is no longer asked for when an answer could not arrive in time, and given up at its budget") {
  Tracker t;
  t.data(101, kStart);
  t.data(103, kStart);
  const DurationUs srtt = 100 * kMillisecond;
  // No NACK once now + srtt / 2 > detected + budget, i.e. after kStart + 350 ms.
  TimeUs now = kStart + 5 * kMillisecond;
  std::size_t nacks = 0;
  for (; now <= kStart + 400 * kMillisecond; now += kMillisecond) nacks += t.due(now, srtt).size();
  CHECK(nacks == 3);  // at 5, 135 and 265 ms (retry 130 ms); none at 395 ms
  // Until the budget itself has passed, an answer to an earlier NACK is a recovery.
  CHECK(t.tracker.hasMissing());
  CHECK(t.tracker.takeUnrecovered() == 0);
  SECTION("an answer within the budget fills the gap") {
    CHECK(t.data(102, now) == NackTracker::Arrival::kFilled);
    CHECK_FALSE(t.tracker.hasMissing());
    CHECK(t.tracker.takeUnrecovered() == 0);
  }
  SECTION("past the budget it is given up, and a later arrival is no recovery") {
    now += kMillisecond;  // kStart + 401 ms > detected + 400 ms
    CHECK(t.due(now, srtt).empty());
    CHECK_FALSE(t.tracker.hasMissing());
    CHECK(t.tracker.takeUnrecovered() == 1);
    CHECK(t.tracker.takeUnrecovered() == 0);
    CHECK(t.data(102, now) == NackTracker::Arrival::kOld);
  }
}

TEST_CASE("A huge jump is a restart, not thousands of NACKs") {
  Tracker t;
  t.data(100, kStart);
  t.data(102, kStart);
  CHECK(t.data(102 + NackTracker::kMaxGap + 2, kStart) == NackTracker::Arrival::kNew);
  CHECK_FALSE(t.tracker.hasMissing());
  CHECK(t.tracker.takeUnrecovered() == 1);  // 101, still missing at the restart

  // A publisher restarting at 0 far behind: tracking restarts there.
  CHECK(t.data(0, kStart) == NackTracker::Arrival::kNew);
  t.data(2, kStart);
  CHECK(t.due(kStart + kSecond / 10, 0) == Sequences{1});

  // The largest gap still tracked, across the 32-bit wrap.
  Tracker wrap;
  wrap.data(0xFFFFFF00u, kStart);
  wrap.data(0xFFFFFF00u + NackTracker::kMaxGap + 1, kStart);
  CHECK(wrap.tracker.missingCount() == NackTracker::kMaxGap);
}

TEST_CASE("At most kMaxMissing sequences are tracked; the oldest are given up") {
  Tracker t;
  t.data(0, kStart);  // sequence 0: nothing before it
  t.data(NackTracker::kMaxGap + 1, kStart);  // 512 missing
  t.data(NackTracker::kMaxGap + 12, kStart);  // 10 more
  CHECK(t.tracker.missingCount() == NackTracker::kMaxMissing);
  CHECK(t.tracker.takeUnrecovered() == 10);
  const Sequences due = t.due(kStart + kSecond / 100, 0);
  REQUIRE(due.size() == NackTracker::kMaxMissing);
  CHECK(due.front() == 11);
}

}  // namespace
}  // namespace overline::relay
