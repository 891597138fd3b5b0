// PlayoutBuffer driven with a fake clock: packets are "sent" every
// millisecond on the local clock, stamped with a publisher clock that runs
// hours ahead (the offset must not matter), and arrive 20 ms later unless a
// test says otherwise.

#include "sdk/core/playout_buffer.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <vector>

namespace overline::sdk {
namespace {

constexpr std::uint64_t kPublisherAheadUs = 7ull * 3600 * kSecond;  // publisher clock - local clock
constexpr DurationUs kPathDelayUs = 20 * kMillisecond;
constexpr DurationUs kBudgetUs = 400 * kMillisecond;

TimeUs sentAt(std::int64_t sequence) { return 1 * kSecond + sequence * kMillisecond; }

struct Released {
  std::uint32_t sequence;
  bool held;
  TimeUs at;
  std::uint64_t arrival_us;
  std::vector<std::byte> payload;
};

class Harness : public PlayoutBuffer::Listener {
 public:
  explicit Harness(PlayoutConfig config = {}) : buffer(config) {}

  // Packet `sequence` (sent at sentAt(index)) arrives now.
  void arrive(std::uint32_t sequence, std::int64_t index, std::uint8_t budget_units = 0) {
    wire::Header header;
    header.sequence = sequence;
    header.timestamp_us = static_cast<std::uint64_t>(sentAt(index)) + kPublisherAheadUs;
    header.latency_budget = budget_units;
    const std::byte payload[] = {static_cast<std::byte>(sequence & 0xff)};
    buffer.onPacket(header, payload, /*arrival_us=*/static_cast<std::uint64_t>(now) + 5, now, *this);
  }
  void arrive(std::uint32_t sequence) { arrive(sequence, sequence); }
  // Arrives after the usual path delay.
  void arriveOnTime(std::uint32_t sequence) {
    now = std::max(now, sentAt(sequence) + kPathDelayUs);
    arrive(sequence);
  }
  void timer(TimeUs at) {
    now = at;
    buffer.onTimer(now, *this);
  }
  std::vector<std::uint32_t> sequences() const {
    std::vector<std::uint32_t> out;
    for (const auto& r : released) out.push_back(r.sequence);
    return out;
  }

  void onRelease(const PlayoutPacket& packet) override {
    released.push_back({packet.header.sequence, packet.held, now, packet.arrival_us,
                        {packet.payload.begin(), packet.payload.end()}});
  }

  PlayoutBuffer buffer;
  TimeUs now = 0;
  std::vector<Released> released;
};

using Seqs = std::vector<std::uint32_t>;

TEST_CASE("PlayoutBuffer: in-order packets pass through at once") {
  Harness h;
  for (std::uint32_t s = 0; s < 100; ++s) {
    h.arriveOnTime(s);
    REQUIRE(h.released.size() == s + 1);  // released inside the call that brought it
    CHECK(h.released.back().sequence == s);
    CHECK(h.released.back().at == h.now);
    CHECK_FALSE(h.released.back().held);
    CHECK_FALSE(h.buffer.nextDeadline());
  }
  CHECK(h.released[7].payload == std::vector<std::byte>{std::byte{7}});
  CHECK(h.released[7].arrival_us == static_cast<std::uint64_t>(sentAt(7) + kPathDelayUs) + 5);
  const PlayoutCounters c = h.buffer.counters();
  CHECK(c.delivered == 100);
  CHECK(c.reordered + c.lost + c.late + c.duplicates + c.overflows + c.resyncs == 0);
}

TEST_CASE("PlayoutBuffer: reordered packets are released in order") {
  Harness h;
  for (const std::uint32_t s : {0u, 1u, 3u, 2u, 5u, 4u, 6u}) h.arriveOnTime(s);
  CHECK(h.sequences() == Seqs{0, 1, 2, 3, 4, 5, 6});
  CHECK(h.released[3].held);  // 3 waited for 2
  CHECK(h.released[5].held);
  CHECK_FALSE(h.released[2].held);
  CHECK(h.buffer.counters().reordered == 2);
  CHECK(h.buffer.counters().lost == 0);
  CHECK(h.buffer.heldCount() == 0);
}

TEST_CASE("PlayoutBuffer: a gap filled late but within the budget") {
  Harness h;
  h.arriveOnTime(0);
  for (std::uint32_t s = 2; s <= 10; ++s) h.arriveOnTime(s);
  CHECK(h.sequences() == Seqs{0});
  CHECK(h.buffer.heldCount() == 9);
  // Packet 1's deadline: its send time (interpolated between 0 and 2) on the
  // local clock (+ the minimum path delay seen) + the budget.
  REQUIRE(h.buffer.nextDeadline() == sentAt(1) + kPathDelayUs + kBudgetUs);

  h.timer(sentAt(1) + 300 * kMillisecond);  // not due: nothing changes
  CHECK(h.released.size() == 1);
  h.arrive(1);  // a retransmission, 300 ms after it was sent
  CHECK(h.sequences() == Seqs{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
  CHECK_FALSE(h.released[1].held);
  CHECK(h.released[2].held);
  CHECK(h.buffer.counters().lost == 0);
  CHECK(h.buffer.counters().reordered == 9);
  CHECK_FALSE(h.buffer.nextDeadline());
}

TEST_CASE("PlayoutBuffer: an expired gap is given up, later packets released at its deadline") {
  Harness h;
  h.arriveOnTime(0);
  h.arriveOnTime(2);
  h.arriveOnTime(3);
  const TimeUs deadline = sentAt(1) + kPathDelayUs + kBudgetUs;
  REQUIRE(h.buffer.nextDeadline() == deadline);
  h.timer(deadline - 1);
  CHECK(h.sequences() == Seqs{0});
  h.timer(deadline);
  CHECK(h.sequences() == Seqs{0, 2, 3});
  CHECK(h.released[1].at == deadline);
  CHECK(h.buffer.counters().lost == 1);

  SECTION("the missing packet arriving afterwards is late, not delivered") {
    h.arrive(1);
    CHECK(h.buffer.counters().late == 1);
    CHECK(h.released.size() == 3);
  }
  SECTION("a packet arriving after its own deadline is late, and its gap is given up") {
    h.now = sentAt(4) + kBudgetUs + kPathDelayUs + 1;
    h.arrive(4);
    CHECK(h.buffer.counters().late == 1);
    h.arriveOnTime(5);  // on time for itself; 4's deadline has passed already
    CHECK(h.sequences() == Seqs{0, 2, 3, 5});
    CHECK(h.buffer.counters().lost == 2);
  }
}

TEST_CASE("PlayoutBuffer: missing timestamps are interpolated between neighbours") {
  Harness h;
  h.arriveOnTime(0);
  h.arriveOnTime(4);
  // 1, 2, 3 are missing; each falls due 1 ms after the one before.
  const TimeUs first = sentAt(1) + kPathDelayUs + kBudgetUs;
  REQUIRE(h.buffer.nextDeadline() == first);
  h.timer(first);
  CHECK(h.buffer.counters().lost == 1);
  CHECK(h.buffer.nextDeadline() == first + kMillisecond);
  h.timer(first + 2 * kMillisecond);
  CHECK(h.buffer.counters().lost == 3);
  CHECK(h.sequences() == Seqs{0, 4});
}

TEST_CASE("PlayoutBuffer: the budget comes from the header, else the default") {
  SECTION("header") {
    Harness h;
    h.now = sentAt(0) + kPathDelayUs;
    h.arrive(0, 0, /*budget_units=*/5);
    h.now = sentAt(2) + kPathDelayUs;
    h.arrive(2, 2, 5);
    CHECK(h.buffer.nextDeadline() == sentAt(1) + kPathDelayUs + 50 * kMillisecond);
  }
  SECTION("default") {
    Harness h(PlayoutConfig{.default_budget_us = 100 * kMillisecond});
    h.arriveOnTime(0);
    h.arriveOnTime(2);
    CHECK(h.buffer.nextDeadline() == sentAt(1) + kPathDelayUs + 100 * kMillisecond);
  }
}

TEST_CASE("PlayoutBuffer: the clock offset is the minimum delay seen") {
  Harness h;
  h.now = sentAt(0) + 80 * kMillisecond;  // the first packet was queued
  h.arrive(0);
  h.now = sentAt(1) + 10 * kMillisecond;  // a faster one lowers the estimate
  h.arrive(1);
  h.now = sentAt(3) + 30 * kMillisecond;
  h.arrive(3);
  CHECK(h.buffer.nextDeadline() == sentAt(2) + 10 * kMillisecond + kBudgetUs);
}

TEST_CASE("PlayoutBuffer: duplicates are dropped") {
  Harness h;
  h.arriveOnTime(0);
  h.arriveOnTime(1);
  h.arriveOnTime(1);  // already released
  h.arriveOnTime(3);
  h.arriveOnTime(3);  // already held
  h.arriveOnTime(2);
  CHECK(h.sequences() == Seqs{0, 1, 2, 3});
  CHECK(h.buffer.counters().duplicates == 2);
  CHECK(h.buffer.counters().late == 0);
}

TEST_CASE("PlayoutBuffer: a publisher restart resynchronises at once") {
  Harness h;
  for (std::uint32_t s = 0; s <= 10; ++s) h.arriveOnTime(s);
  h.arriveOnTime(12);  // held behind a gap

  SECTION("a jump far ahead") {
    const std::uint32_t far = 10 + PlayoutBuffer::kResyncDistance + 1;
    h.now += kMillisecond;
    h.arrive(far, 13);
    CHECK(h.sequences() == Seqs{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, far});  // no wait for 11
    h.now += kMillisecond;
    h.arrive(far + 1, 14);
    CHECK(h.released.back().sequence == far + 1);
  }
  SECTION("back to 0 with a newer timestamp") {
    h.now += kMillisecond;
    h.arrive(0, 13);
    h.now += kMillisecond;
    h.arrive(1, 14);
    CHECK(h.sequences() == Seqs{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 0, 1});
    CHECK(h.buffer.counters().late == 0);
  }
  CHECK(h.buffer.counters().resyncs == 1);
  CHECK(h.buffer.counters().lost == 1);  // 11, flushed with the old stream
  CHECK_FALSE(h.buffer.nextDeadline());
}

TEST_CASE("PlayoutBuffer: an old packet behind the next one is not a restart") {
  Harness h;
  for (std::uint32_t s = 0; s <= 5; ++s) h.arriveOnTime(s);
  h.arrive(2);  // its old timestamp: a duplicate
  CHECK(h.buffer.counters().resyncs == 0);
  CHECK(h.buffer.counters().duplicates == 1);
}

TEST_CASE("PlayoutBuffer: sequences wrap around 2^32") {
  Harness h;
  const std::uint32_t top = 0xFFFFFFFEu;
  for (const std::int64_t index : {0, 1, 3, 2}) {
    h.now = sentAt(index) + kPathDelayUs;
    h.arrive(static_cast<std::uint32_t>(top + index), index);
  }
  CHECK(h.sequences() == Seqs{0xFFFFFFFEu, 0xFFFFFFFFu, 0u, 1u});
  CHECK(h.buffer.counters().resyncs == 0);
  CHECK(h.buffer.counters().reordered == 1);
}

TEST_CASE("PlayoutBuffer: held packets are bounded") {
  Harness h(PlayoutConfig{.max_held_packets = 4});
  h.arriveOnTime(0);
  for (std::uint32_t s = 2; s <= 5; ++s) h.arriveOnTime(s);
  CHECK(h.buffer.heldCount() == 4);
  CHECK(h.sequences() == Seqs{0});
  h.arriveOnTime(6);  // one too many: 1 is given up before its deadline
  CHECK(h.sequences() == Seqs{0, 2, 3, 4, 5, 6});
  CHECK(h.buffer.heldCount() == 0);
  CHECK(h.buffer.counters().overflows == 1);
  CHECK(h.buffer.counters().lost == 1);
}

TEST_CASE("PlayoutBuffer: delivered + lost covers every sequence under random loss and reordering") {
  Harness h;
  // Deterministic pseudo-random pattern: every 7th packet lost, every 5th
  // delayed by 30 ms (reordered, within the budget).
  constexpr std::uint32_t kCount = 2000;
  std::vector<std::pair<TimeUs, std::uint32_t>> arrivals;
  for (std::uint32_t s = 0; s < kCount; ++s) {
    if (s % 7 == 3) continue;
    const DurationUs extra = s % 5 == 1 ? 30 * kMillisecond : 0;
    arrivals.emplace_back(sentAt(s) + kPathDelayUs + extra, s);
  }
  std::sort(arrivals.begin(), arrivals.end());
  for (const auto& [at, s] : arrivals) {
    while (const auto due = h.buffer.nextDeadline()) {
      if (*due > at) break;
      h.timer(*due);
    }
    h.now = at;
    h.arrive(s);
  }
  h.timer(sentAt(kCount) + kBudgetUs + kSecond);
  const PlayoutCounters c = h.buffer.counters();
  CHECK(c.delivered + c.lost == kCount);
  CHECK(c.lost == kCount / 7 + (kCount % 7 > 3 ? 1 : 0));
  const auto seqs = h.sequences();
  CHECK(std::is_sorted(seqs.begin(), seqs.end()));
  CHECK(c.late == 0);
}

}  // namespace
}  // namespace overline::sdk
