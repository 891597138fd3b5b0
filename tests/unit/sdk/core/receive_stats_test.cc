#include "sdk/core/receive_stats.h"

#include <catch2/catch.hpp>
#include <initializer_list>

namespace overline::sdk {
namespace {

constexpr std::uint64_t kSendBaseUs = 1'700'000'000'000'000;  // a wall-clock time
constexpr std::uint64_t kLatencyUs = 20'000;

// Feeds sequences with a constant 20 ms one-way latency and 1 ms spacing.
ReceiveSnapshot feed(ReceiveStats& stats, std::initializer_list<std::uint32_t> sequences) {
  std::uint64_t t = kSendBaseUs;
  for (const std::uint32_t sequence : sequences) {
    stats.onPacket(sequence, t, t + kLatencyUs);
    t += 1000;
  }
  return stats.snapshot();
}

TEST_CASE("ReceiveStats: an empty stream reports nothing") {
  const ReceiveSnapshot s = ReceiveStats().snapshot();
  CHECK(s.received == 0);
  CHECK(s.unique == 0);
  CHECK(s.lost == 0);
  CHECK(s.latency_max_us == 0);
  CHECK_FALSE(s.first_sequence);
  CHECK_FALSE(s.last_sequence);
}

TEST_CASE("ReceiveStats: in-order stream") {
  ReceiveStats stats;
  for (std::uint32_t i = 0; i < 1000; ++i) stats.onPacket(i, kSendBaseUs + i, kSendBaseUs + i + kLatencyUs);
  const ReceiveSnapshot s = stats.snapshot();
  CHECK(s.received == 1000);
  CHECK(s.unique == 1000);
  CHECK(s.lost == 0);
  CHECK(s.duplicates == 0);
  CHECK(s.reordered == 0);
  CHECK(s.late == 0);
  CHECK(s.first_sequence == 0u);
  CHECK(s.last_sequence == 999u);
}

TEST_CASE("ReceiveStats: max_gap is the longest silence between unique arrivals") {
  ReceiveStats stats;
  stats.onPacket(0, kSendBaseUs, kSendBaseUs + 1000);
  CHECK(stats.snapshot().max_gap_us == 0);  // one arrival: no gap yet
  stats.onPacket(1, kSendBaseUs, kSendBaseUs + 2000);
  stats.onPacket(2, kSendBaseUs, kSendBaseUs + 152000);  // 150 ms outage
  stats.onPacket(2, kSendBaseUs, kSendBaseUs + 400000);  // a late duplicate is no arrival
  stats.onPacket(3, kSendBaseUs, kSendBaseUs + 153000);
  CHECK(stats.snapshot().max_gap_us == 150000);
}

TEST_CASE("ReceiveStats: loss is the gaps between lowest and highest") {
  ReceiveStats stats;
  const ReceiveSnapshot s = feed(stats, {10, 11, 13, 15, 16, 20});
  CHECK(s.unique == 6);
  CHECK(s.lost == 5);  // 12, 14, 17, 18, 19
  CHECK(s.first_sequence == 10u);
  CHECK(s.last_sequence == 20u);
}

TEST_CASE("ReceiveStats: duplicates are counted once as unique") {
  ReceiveStats stats;
  const ReceiveSnapshot s = feed(stats, {0, 1, 1, 2, 2, 2, 0});
  CHECK(s.received == 7);
  CHECK(s.unique == 3);
  CHECK(s.duplicates == 4);
  CHECK(s.lost == 0);
  CHECK(s.reordered == 0);  // a duplicate is not a reordering
}

TEST_CASE("ReceiveStats: a reordered packet fills its gap") {
  ReceiveStats stats;
  CHECK(feed(stats, {0, 2, 3}).lost == 1);
  const ReceiveSnapshot s = feed(stats, {1});
  CHECK(s.lost == 0);
  CHECK(s.reordered == 1);
  CHECK(s.unique == 4);
}

TEST_CASE("ReceiveStats: a packet below the first one lowers first_seq") {
  ReceiveStats stats;
  const ReceiveSnapshot s = feed(stats, {5, 6, 3});
  CHECK(s.first_sequence == 3u);
  CHECK(s.lost == 1);  // 4
  CHECK(s.reordered == 1);
}

TEST_CASE("ReceiveStats: sequences extend across the 32-bit wrap") {
  SECTION("forward") {
    ReceiveStats stats;
    const ReceiveSnapshot s = feed(stats, {0xFFFFFFFDu, 0xFFFFFFFEu, 0xFFFFFFFFu, 0, 2});
    CHECK(s.unique == 5);
    CHECK(s.lost == 1);  // 1
    CHECK(s.reordered == 0);
    CHECK(s.first_sequence == 0xFFFFFFFDu);
    CHECK(s.last_sequence == 2u);
  }
  SECTION("backward, a late packet from before the wrap") {
    ReceiveStats stats;
    const ReceiveSnapshot s = feed(stats, {0, 1, 0xFFFFFFFFu, 0xFFFFFFFEu, 0xFFFFFFFFu});
    CHECK(s.unique == 4);
    CHECK(s.duplicates == 1);
    CHECK(s.reordered == 2);
    CHECK(s.lost == 0);
    CHECK(s.first_sequence == 0xFFFFFFFEu);
    CHECK(s.last_sequence == 1u);
  }
  SECTION("duplicates across the wrap") {
    ReceiveStats stats;
    const ReceiveSnapshot s = feed(stats, {0xFFFFFFFFu, 0, 0xFFFFFFFFu, 0});
    CHECK(s.unique == 2);
    CHECK(s.duplicates == 2);
  }
}

TEST_CASE("ReceiveStats: packets older than the window are late, not duplicates") {
  constexpr auto kWindow = static_cast<std::uint32_t>(ReceiveStats::kWindow);
  ReceiveStats stats;
  SECTION("the oldest sequence still in the window is a duplicate") {
    const ReceiveSnapshot s = feed(stats, {0, kWindow - 1, 0});
    CHECK(s.duplicates == 1);
    CHECK(s.late == 0);
  }
  SECTION("one more and it has left the window") {
    const ReceiveSnapshot s = feed(stats, {0, kWindow, 0});
    CHECK(s.duplicates == 0);
    CHECK(s.late == 1);
    CHECK(s.unique == 2);
    CHECK(s.received == 3);
    CHECK(s.lost == kWindow - 1);
  }
  SECTION("a never-seen packet that far back is late and stays lost") {
    const ReceiveSnapshot s = feed(stats, {0, 2 * kWindow, 5});
    CHECK(s.late == 1);
    CHECK(s.unique == 2);
    CHECK(s.first_sequence == 0u);
    CHECK(s.lost == 2 * kWindow - 1);
  }
  SECTION("slots reused by the window are cleared") {
    // kWindow + 5 shares a bitmap slot with 5: it must count as new, and a
    // later repeat of it as a duplicate.
    const ReceiveSnapshot s = feed(stats, {5, kWindow + 4, kWindow + 5, kWindow + 5});
    CHECK(s.unique == 3);
    CHECK(s.duplicates == 1);
  }
  SECTION("a jump of more than a window clears everything") {
    const ReceiveSnapshot s = feed(stats, {1, 2, 3, 3 * kWindow + 1, 3 * kWindow + 2, 3 * kWindow + 3});
    CHECK(s.unique == 6);
    CHECK(s.duplicates == 0);
  }
}

TEST_CASE("ReceiveStats: RFC 3550 jitter") {
  SECTION("constant transit time gives zero jitter") {
    ReceiveStats stats;
    CHECK(feed(stats, {0, 1, 2, 3, 4}).jitter_us == 0.0);
  }
  SECTION("J += (|D| - J) / 16") {
    ReceiveStats stats;
    stats.onPacket(0, 1'000'000, 1'010'000);  // transit 10 ms
    CHECK(stats.snapshot().jitter_us == 0.0);
    stats.onPacket(1, 1'020'000, 1'031'600);  // transit 11.6 ms: D = 1600
    CHECK(stats.snapshot().jitter_us == Approx(100.0));
    stats.onPacket(2, 1'040'000, 1'050'000);  // transit 10 ms: D = 1600
    CHECK(stats.snapshot().jitter_us == Approx(100.0 + (1600.0 - 100.0) / 16.0));
  }
  SECTION("converges to a steady alternation's |D|") {
    ReceiveStats stats;
    for (std::uint32_t i = 0; i < 500; ++i) {
      const std::uint64_t send_us = kSendBaseUs + i * 20'000;
      stats.onPacket(i, send_us, send_us + (i % 2 == 0 ? 10'000 : 12'000));
    }
    CHECK(stats.snapshot().jitter_us == Approx(2000.0).epsilon(0.001));
  }
  SECTION("duplicates do not feed jitter") {
    ReceiveStats stats;
    stats.onPacket(0, 1'000'000, 1'010'000);
    stats.onPacket(0, 1'000'000, 1'500'000);  // a late duplicate
    stats.onPacket(1, 1'020'000, 1'030'000);
    CHECK(stats.snapshot().jitter_us == 0.0);
  }
}

TEST_CASE("ReceiveStats: latency percentiles") {
  SECTION("small values are exact") {
    ReceiveStats stats;
    for (std::uint32_t i = 0; i < 100; ++i) stats.onPacket(i, kSendBaseUs, kSendBaseUs + i);  // 0..99 us
    const ReceiveSnapshot s = stats.snapshot();
    CHECK(s.latency_p50_us == 49);
    CHECK(s.latency_p90_us == 89);
    CHECK(s.latency_p99_us == 98);
    CHECK(s.latency_max_us == 99);
  }
  SECTION("milliseconds within the histogram's resolution, max exact") {
    ReceiveStats stats;
    // Arrival order shuffled by a stride so the percentiles do not depend on it.
    for (std::uint32_t k = 0; k < 1000; ++k) {
      const std::uint32_t i = (k * 7) % 1000;
      stats.onPacket(i, kSendBaseUs, kSendBaseUs + (i + 1) * 100);  // 0.1 .. 100 ms
    }
    const ReceiveSnapshot s = stats.snapshot();
    CHECK(s.latency_p50_us == Approx(50'000).epsilon(0.016));
    CHECK(s.latency_p90_us == Approx(90'000).epsilon(0.016));
    CHECK(s.latency_p99_us == Approx(99'000).epsilon(0.016));
    CHECK(s.latency_max_us == 100'000);
  }
  SECTION("arrival before send (clock skew) counts as 0 and is reported") {
    ReceiveStats stats;
    stats.onPacket(0, kSendBaseUs, kSendBaseUs - 500);
    const ReceiveSnapshot s = stats.snapshot();
    CHECK(s.negative_latency == 1);
    CHECK(s.latency_max_us == 0);
    CHECK(s.unique == 1);
  }
}

}  // namespace
}  // namespace overline::sdk
