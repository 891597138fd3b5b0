// LinkMonitor alone, with fake time: a probe is "sent" whenever one is due,
// and the test decides which are answered, when.

#include "relay/core/link_monitor.h"

#include <catch2/catch.hpp>
#include <cstdint>
#include <deque>
#include <random>

namespace overline::relay {
namespace {

constexpr DurationUs kInterval = 20 * kMillisecond;

struct Sent {
  std::uint32_t sequence;
  TimeUs sent_us;
};

// Drives one monitor every millisecond. Each probe is answered after `rtt`
// unless `answer` says otherwise.
class Harness {
 public:
  explicit Harness(ProbingConfig config = {}, DurationUs phase_us = 0) : monitor(config, phase_us) {}

  // Runs until `until_us`, answering each probe `rtt_us` after it was sent
  // when `answered(sequence)` holds.
  template <typename Answered>
  void runUntil(TimeUs until_us, Answered answered) {
    while (now < until_us) {
      now += kMillisecond;
      while (!in_flight.empty() && in_flight.front().sent_us + rtt_us <= now) {
        const Sent ack = in_flight.front();
        in_flight.pop_front();
        monitor.onAck(ack.sequence, static_cast<std::uint64_t>(ack.sent_us), now);
      }
      monitor.onTick(now);
      if (monitor.probeDue(now)) {
        const std::uint32_t sequence = monitor.onProbeSent(now);
        if (answered(sequence)) in_flight.push_back({sequence, now});
      }
    }
  }
  void runUntil(TimeUs until_us) {
    runUntil(until_us, [](std::uint32_t) { return true; });
  }
  void silentUntil(TimeUs until_us) {
    runUntil(until_us, [](std::uint32_t) { return false; });
  }

  LinkMonitor monitor;
  TimeUs now = 5 * kSecond;
  DurationUs rtt_us = 10 * kMillisecond;
  std::deque<Sent> in_flight;
};

TEST_CASE("a link starts UNKNOWN and is UP after its first answered probe, with srtt from it") {
  Harness h;
  CHECK(h.monitor.state() == LinkState::kUnknown);
  CHECK_FALSE(h.monitor.hasRttSample());
  h.runUntil(h.now + 5 * kMillisecond);
  CHECK(h.monitor.probesSent() == 1);
  CHECK(h.monitor.state() == LinkState::kUnknown);
  h.runUntil(h.now + 10 * kMillisecond);
  CHECK(h.monitor.state() == LinkState::kUp);
  CHECK(h.monitor.srttUs() == Approx(10'000));
  CHECK(h.monitor.jitterUs() == 0);
  CHECK(h.monitor.acksReceived() == 1);
}

TEST_CASE("probes go out every interval, starting at the link's phase") {
  Harness h({}, 7 * kMillisecond);
  const TimeUs start = h.now;
  h.runUntil(start + kSecond);
  CHECK(h.monitor.probesSent() == 50);
  CHECK(h.monitor.nextProbeAt() == start + kMillisecond + 7 * kMillisecond + 50 * kInterval);
}

TEST_CASE("srtt is an EWMA with gain 1/8 and jitter the mean deviation with gain 1/4") {
  Harness h;
  h.runUntil(h.now + 30 * kMillisecond);  // first sample: 10 ms
  REQUIRE(h.monitor.acksReceived() == 1);
  h.rtt_us = 18 * kMillisecond;
  h.runUntil(h.now + 20 * kMillisecond);
  REQUIRE(h.monitor.acksReceived() == 2);
  // jitter = 0 + (|18 - 10| - 0) / 4 = 2 ms; srtt = 10 + (18 - 10) / 8 = 11 ms.
  CHECK(h.monitor.jitterUs() == Approx(2'000));
  CHECK(h.monitor.srttUs() == Approx(11'000));

  // A steady RTT pulls srtt to it and jitter to 0.
  h.runUntil(h.now + 10 * kSecond);
  CHECK(h.monitor.srttUs() == Approx(18'000).epsilon(0.001));
  CHECK(h.monitor.jitterUs() < 10);
}

TEST_CASE("an ACK that matches no probe changes nothing") {
  Harness h;
  h.runUntil(h.now + 100 * kMillisecond);
  const std::uint64_t acks = h.monitor.acksReceived();
  const double srtt = h.monitor.srttUs();
  CHECK_FALSE(h.monitor.onAck(9999, 0, h.now));                   // never sent
  CHECK_FALSE(h.monitor.onAck(0, 12345, h.now));                  // wrong timestamp echo
  CHECK(h.monitor.acksReceived() == acks);
  CHECK(h.monitor.srttUs() == srtt);
}

TEST_CASE("DOWN after down_after without an ACK; UP again only after up_after_acks consecutive ACKs") {
  Harness h;
  h.runUntil(h.now + kSecond);
  REQUIRE(h.monitor.state() == LinkState::kUp);

  // The last answered probe went out at most one interval before the cut.
  const TimeUs cut = h.now;
  h.silentUntil(cut + 100 * kMillisecond - kMillisecond);
  CHECK(h.monitor.state() == LinkState::kUp);
  h.silentUntil(cut + 100 * kMillisecond + kInterval);
  CHECK(h.monitor.state() == LinkState::kDown);

  // A short outage keeps the window's loss under 10%, so it comes back UP.
  const std::uint64_t acks = h.monitor.acksReceived();
  while (h.monitor.acksReceived() < acks + 4) {
    h.runUntil(h.now + kMillisecond);
    REQUIRE(h.monitor.state() == LinkState::kDown);
  }
  while (h.monitor.acksReceived() < acks + 5) h.runUntil(h.now + kMillisecond);
  CHECK(h.monitor.state() == LinkState::kUp);
}

TEST_CASE("an unanswered probe in the middle of the recovery restarts the ACK count") {
  ProbingConfig config;
  config.loss_window = 1000;  // the loss rule stays out of the way (it needs 500 probes)
  Harness h(config);
  h.runUntil(h.now + kSecond);
  h.silentUntil(h.now + 200 * kMillisecond);
  REQUIRE(h.monitor.state() == LinkState::kDown);

  // From the next probe on: 3 answered, 1 not, then all answered.
  const auto first = static_cast<std::uint32_t>(h.monitor.probesSent());
  auto answered = [&](std::uint32_t sequence) { return sequence != first + 3; };
  const std::uint64_t acks = h.monitor.acksReceived();
  // 3 before the gap and 4 after it: 7 ACKs, never 5 in a row.
  while (h.monitor.acksReceived() < acks + 7) {
    h.runUntil(h.now + kMillisecond, answered);
    REQUIRE(h.monitor.state() == LinkState::kDown);
  }
  while (h.monitor.acksReceived() < acks + 8) h.runUntil(h.now + kMillisecond, answered);
  CHECK(h.monitor.state() == LinkState::kUp);
}

TEST_CASE("UNKNOWN goes DOWN when nothing ever answers") {
  Harness h;
  h.silentUntil(h.now + 99 * kMillisecond);
  CHECK(h.monitor.state() == LinkState::kUnknown);
  h.silentUntil(h.now + 2 * kMillisecond);
  CHECK(h.monitor.state() == LinkState::kDown);
}

TEST_CASE("a probe counts as lost after max(4 x srtt, 2 x interval, 50 ms)") {
  // srtt settles at 30 ms: the timeout is 120 ms.
  for (const DurationUs answer_after : {110 * kMillisecond, 130 * kMillisecond}) {
    CAPTURE(answer_after);
    Harness h;
    h.rtt_us = 30 * kMillisecond;
    h.runUntil(h.now + 2 * kSecond);
    REQUIRE(h.monitor.lossRatio() == 0);
    const auto slow = static_cast<std::uint32_t>(h.monitor.probesSent());
    TimeUs slow_sent = 0;
    while (slow_sent == 0) {
      h.runUntil(h.now + kMillisecond, [&](std::uint32_t sequence) {
        if (sequence == slow) slow_sent = h.now;
        return sequence != slow;
      });
    }
    h.runUntil(slow_sent + answer_after - kMillisecond);
    const double srtt = h.monitor.srttUs();
    h.runUntil(slow_sent + answer_after);
    // Answered either way: a late ACK still counts as an ACK.
    CHECK(h.monitor.onAck(slow, static_cast<std::uint64_t>(slow_sent), h.now));
    CHECK(h.monitor.srttUs() > srtt);
    h.runUntil(h.now + kSecond);
    if (answer_after < 120 * kMillisecond) {
      CHECK(h.monitor.lossRatio() == 0);
    } else {
      CHECK(h.monitor.lossRatio() > 0);
      CHECK(h.monitor.lossRatio() < 0.02);
    }
  }
  // Without RTT samples the floor is max(2 x interval, 50 ms) = 50 ms.
  Harness h;
  h.silentUntil(h.now + 50 * kMillisecond);
  CHECK(h.monitor.lossRatio() == 0);
  h.silentUntil(h.now + 2 * kMillisecond);
  CHECK(h.monitor.lossRatio() == 1);
}

TEST_CASE("late ACKs give RTT samples, so a link whose RTT jumps past the timeout recovers") {
  Harness h;
  h.rtt_us = 2 * kMillisecond;
  h.runUntil(h.now + 3 * kSecond);
  // From now on every ACK takes 300 ms, far past the 50 ms timeout: the
  // first probes count as lost (and 300 ms of silence is DOWN), but their
  // late ACKs raise srtt and with it the timeout.
  h.rtt_us = 300 * kMillisecond;
  h.runUntil(h.now + kSecond);
  CHECK(h.monitor.lossRatio() > 0);
  CHECK(h.monitor.srttUs() > 100'000);
  h.runUntil(h.now + 2 * kSecond);
  CHECK(h.monitor.state() == LinkState::kUp);
  CHECK(h.monitor.lossRatio() == 0);  // the early losses have left the window
  CHECK(h.monitor.srttUs() == Approx(300'000).epsilon(0.01));
}

TEST_CASE("20% loss makes a link DEGRADED within 2 s; 1% over a long run does not") {
  std::mt19937 random(20261121);
  SECTION("20%") {
    Harness h;
    h.runUntil(h.now + 3 * kSecond);
    REQUIRE(h.monitor.state() == LinkState::kUp);
    std::bernoulli_distribution lost(0.20);
    const TimeUs start = h.now;
    while (h.monitor.state() == LinkState::kUp && h.now < start + 2 * kSecond) {
      h.runUntil(h.now + kMillisecond, [&](std::uint32_t) { return !lost(random); });
    }
    CHECK(h.monitor.state() == LinkState::kDegraded);
    CHECK(h.now - start < 2 * kSecond);

    // Back to no loss: UP again once the window's loss falls under 3%.
    h.runUntil(h.now + 3 * kSecond);
    CHECK(h.monitor.state() == LinkState::kUp);
    CHECK(h.monitor.lossRatio() < 0.03);
  }
  SECTION("1%") {
    Harness h;
    std::bernoulli_distribution lost(0.01);
    h.runUntil(h.now + 100 * kMillisecond);
    const TimeUs end = h.now + 120 * kSecond;
    while (h.now < end) {
      h.runUntil(h.now + 10 * kMillisecond, [&](std::uint32_t) { return !lost(random); });
      REQUIRE(h.monitor.state() == LinkState::kUp);
    }
    CHECK(h.monitor.probesSent() == 6005);
  }
}

TEST_CASE("the loss rule waits for half a window, so one early loss does not mark a new link") {
  Harness h;
  h.runUntil(h.now + 200 * kMillisecond, [](std::uint32_t sequence) { return sequence != 1; });
  CHECK(h.monitor.lossRatio() >= 0.10);
  CHECK(h.monitor.state() == LinkState::kUp);
}

TEST_CASE("the optional RTT rule marks a slow link DEGRADED, with 10% hysteresis") {
  ProbingConfig config;
  config.degraded_rtt_us = 100 * kMillisecond;
  Harness h(config);
  h.rtt_us = 50 * kMillisecond;
  h.runUntil(h.now + kSecond);
  CHECK(h.monitor.state() == LinkState::kUp);
  h.rtt_us = 150 * kMillisecond;
  h.runUntil(h.now + 3 * kSecond);
  CHECK(h.monitor.state() == LinkState::kDegraded);
  h.rtt_us = 95 * kMillisecond;  // under the threshold, not under 90% of it
  h.runUntil(h.now + 3 * kSecond);
  CHECK(h.monitor.state() == LinkState::kDegraded);
  h.rtt_us = 80 * kMillisecond;
  h.runUntil(h.now + 3 * kSecond);
  CHECK(h.monitor.state() == LinkState::kUp);
}

TEST_CASE("every LinkState has a name") {
  CHECK(toString(LinkState::kUnknown) == "unknown");
  CHECK(toString(LinkState::kDown) == "down");
  CHECK(toString(LinkState::kDegraded) == "degraded");
  CHECK(toString(LinkState::kUp) == "up");
}

}  // namespace
}  // namespace overline::relay

namespace overline::relay {
namespace {

TEST_CASE("new probing settings change the probe rate and keep the link's state and figures") {
  Harness h;
  h.runUntil(h.now + kSecond);
  REQUIRE(h.monitor.state() == LinkState::kUp);
  const double srtt_us = h.monitor.srttUs();
  const std::uint64_t sent = h.monitor.probesSent();

  ProbingConfig slower;
  slower.interval_us = 100 * kMillisecond;
  slower.down_after_us = 500 * kMillisecond;
  h.monitor.setConfig(slower);
  CHECK(h.monitor.state() == LinkState::kUp);
  CHECK(h.monitor.srttUs() == srtt_us);
  h.runUntil(h.now + kSecond);
  CHECK(h.monitor.probesSent() - sent >= 9);
  CHECK(h.monitor.probesSent() - sent <= 11);
  CHECK(h.monitor.state() == LinkState::kUp);
}

}  // namespace
}  // namespace overline::relay
