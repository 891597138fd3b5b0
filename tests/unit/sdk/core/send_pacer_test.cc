#include "sdk/core/send_pacer.h"

#include <catch2/catch.hpp>
#include <vector>

namespace overline::sdk {
namespace {

constexpr TimeUs kStartUs = 5'000'000;

// Runs an on-time sender (sends exactly at nextSendAt) until `end_us`;
// returns the send times.
std::vector<TimeUs> runOnTime(SendPacer& pacer, TimeUs end_us) {
  std::vector<TimeUs> times;
  while (pacer.nextSendAt() < end_us) {
    times.push_back(pacer.nextSendAt());
    pacer.onSent(pacer.nextSendAt());
  }
  return times;
}

TEST_CASE("SendPacer: 2 Mbit/s of 1000-byte payloads at 30 fps") {
  SendPacer pacer({2'000'000, 1000, 30}, kStartUs);
  CHECK(pacer.packetsPerFrame() == Approx(250.0 / 30.0));

  SECTION("the first frame starts now and is spread over the frame interval") {
    CHECK(pacer.nextSendAt() == kStartUs);
    REQUIRE(pacer.packetsInCurrentFrame() == 9);  // ceil(8.33): never an empty first frame
    const DurationUs interval_us = 33'333;
    for (int j = 0; j < 9; ++j) {
      CHECK(pacer.nextSendAt() == kStartUs + interval_us * j / 9);
      pacer.onSent(pacer.nextSendAt());
    }
    CHECK(pacer.frameIndex() == 1);
    CHECK(pacer.nextSendAt() == kStartUs + interval_us);
  }

  SECTION("exactly the bitrate over whole seconds, times strictly increasing") {
    const std::vector<TimeUs> times = runOnTime(pacer, kStartUs + 10 * kSecond);
    CHECK(times.size() == 2500);  // 250 packets/s
    for (std::size_t i = 1; i < times.size(); ++i) REQUIRE(times[i] > times[i - 1]);
    CHECK(pacer.skippedPackets() == 0);
  }
}

TEST_CASE("SendPacer: per-frame counts alternate to keep the average") {
  SendPacer pacer({2'000'000, 1000, 30}, 0);
  std::uint64_t total = 0;
  for (int frame = 0; frame < 30; ++frame) {
    REQUIRE(pacer.frameIndex() == static_cast<std::uint64_t>(frame));
    const std::uint64_t n = pacer.packetsInCurrentFrame();
    CHECK((n == 8 || n == 9));
    total += n;
    for (std::uint64_t j = 0; j < n; ++j) pacer.onSent(pacer.nextSendAt());
  }
  CHECK(total == 250);
}

TEST_CASE("SendPacer: below one packet per frame, frames without packets are skipped") {
  // 100 kbit/s of 1000-byte payloads = 12.5 packets/s, at 30 fps.
  SendPacer pacer({100'000, 1000, 30}, 0);
  CHECK(pacer.nextSendAt() == 0);
  const std::vector<TimeUs> times = runOnTime(pacer, 2 * kSecond);
  CHECK(times.size() == 25);
  for (std::size_t i = 1; i < times.size(); ++i) {
    // Never two packets in one frame, and at most three frames apart.
    CHECK(times[i] - times[i - 1] >= 33'333);
    CHECK(times[i] - times[i - 1] <= 3 * 33'334);
  }
}

TEST_CASE("SendPacer: a late sender catches up within a frame but skips passed frames") {
  SendPacer pacer({2'400'000, 1000, 10}, 0);  // 30 packets per 100 ms frame
  REQUIRE(pacer.packetsInCurrentFrame() == 30);

  SECTION("late within the frame: nothing is skipped, the backlog is due at once") {
    pacer.onSent(50'000);  // packet 0, sent 50 ms late
    CHECK(pacer.skippedPackets() == 0);
    CHECK(pacer.nextSendAt() < 50'000);
    CHECK(pacer.frameIndex() == 0);
  }

  SECTION("a stall past whole frames skips them and resumes in the current frame") {
    pacer.onSent(0);        // packet 0 of frame 0 on time
    pacer.onSent(350'000);  // packet 1 sent in frame 3
    CHECK(pacer.frameIndex() == 3);
    CHECK(pacer.skippedPackets() == 28 + 30 + 30);  // rest of frame 0, frames 1 and 2
    CHECK(pacer.nextSendAt() == 300'000);           // frame 3's first packet, due now
    // Frame 3's remaining schedule is kept from here.
    pacer.onSent(350'000);
    CHECK(pacer.nextSendAt() == 300'000 + 100'000 / 30);
  }
}

TEST_CASE("SendPacer: frame starts do not drift with a non-integral interval") {
  SendPacer pacer({24'000, 1000, 3}, 0);  // one packet per frame, interval 333333.3 us
  for (int frame = 0; frame < 3; ++frame) pacer.onSent(pacer.nextSendAt());
  CHECK(pacer.nextSendAt() == kSecond);
}

}  // namespace
}  // namespace overline::sdk
