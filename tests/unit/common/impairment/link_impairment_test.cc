// LinkImpairment driven with a virtual clock: every decision is checked
// against the settings, with fixed seeds so the statistical checks are
// reproducible (tolerances are still several standard deviations wide, so a
// change of seed would pass too).

#include "common/impairment/link_impairment.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

namespace imp = overline::impairment;
using overline::DurationUs;
using overline::kMillisecond;
using overline::kSecond;
using overline::TimeUs;
using imp::DropReason;

namespace {

constexpr std::size_t kPacketBytes = 1200;

struct Sent {
  TimeUs admitted_at_us;
  imp::Decision decision;
};

// Admits `count` packets, one every `spacing_us` starting at `start_us`.
std::vector<Sent> sendEvenly(imp::LinkImpairment& link, int count, DurationUs spacing_us, TimeUs start_us = 0,
                             std::size_t bytes = kPacketBytes) {
  std::vector<Sent> sent;
  sent.reserve(static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) {
    const TimeUs now = start_us + i * spacing_us;
    sent.push_back({now, link.admit(now, bytes)});
  }
  return sent;
}

std::vector<TimeUs> deliverTimes(const std::vector<Sent>& sent) {
  std::vector<TimeUs> times;
  for (const Sent& s : sent) {
    if (s.decision.delivered()) times.push_back(s.decision.deliver_at_us);
  }
  return times;
}

}  // namespace

TEST_CASE("without impairment every packet is delivered at once") {
  imp::LinkImpairment link({}, 1);
  for (const Sent& s : sendEvenly(link, 100, 1000)) {
    REQUIRE(s.decision.delivered());
    CHECK(s.decision.deliver_at_us == s.admitted_at_us);
  }
  CHECK(link.counters().admitted == 100);
  CHECK(link.counters().delivered == 100);
}

TEST_CASE("delay and jitter stay within delay +/- jitter") {
  imp::ImpairmentSettings settings;
  settings.delay_us = 20 * kMillisecond;
  settings.jitter_us = 5 * kMillisecond;

  SECTION("each packet's own delay is uniform in the window when order is not kept") {
    settings.keep_order = false;
    imp::LinkImpairment link(settings, 7);
    const auto sent = sendEvenly(link, 20'000, 100);
    DurationUs min_us = settings.delay_us;
    DurationUs max_us = settings.delay_us;
    double sum_us = 0;
    for (const Sent& s : sent) {
      REQUIRE(s.decision.delivered());
      const DurationUs delay = s.decision.deliver_at_us - s.admitted_at_us;
      REQUIRE(delay >= 15 * kMillisecond);
      REQUIRE(delay <= 25 * kMillisecond);
      min_us = std::min(min_us, delay);
      max_us = std::max(max_us, delay);
      sum_us += static_cast<double>(delay);
    }
    // The whole window is used, centred on the delay.
    CHECK(min_us < 15 * kMillisecond + 100);
    CHECK(max_us > 25 * kMillisecond - 100);
    CHECK(sum_us / static_cast<double>(sent.size()) == Approx(20.0 * kMillisecond).epsilon(0.01));
  }

  SECTION("kept in order, no packet arrives before delay - jitter or after delay + jitter") {
    imp::LinkImpairment link(settings, 7);
    for (const Sent& s : sendEvenly(link, 20'000, 100)) {
      const DurationUs delay = s.decision.deliver_at_us - s.admitted_at_us;
      REQUIRE(delay >= 15 * kMillisecond);
      REQUIRE(delay <= 25 * kMillisecond);
    }
  }

  SECTION("jitter larger than the delay is floored at zero delay") {
    settings.delay_us = 1 * kMillisecond;
    settings.keep_order = false;
    imp::LinkImpairment link(settings, 7);
    std::size_t at_once = 0;
    for (const Sent& s : sendEvenly(link, 10'000, 100)) {
      const DurationUs delay = s.decision.deliver_at_us - s.admitted_at_us;
      REQUIRE(delay >= 0);
      REQUIRE(delay <= 6 * kMillisecond);
      if (delay == 0) ++at_once;
    }
    CHECK(at_once > 3000);  // the 4 ms of the window below zero: ~40%
  }
}

TEST_CASE("packets stay in FIFO order unless reordering is asked for") {
  imp::ImpairmentSettings settings;
  settings.delay_us = 30 * kMillisecond;
  settings.jitter_us = 20 * kMillisecond;  // far wider than the 1 ms spacing

  SECTION("keep_order (the default) never lets jitter reorder") {
    imp::LinkImpairment link(settings, 3);
    const auto times = deliverTimes(sendEvenly(link, 10'000, kMillisecond));
    REQUIRE(times.size() == 10'000);
    CHECK(std::is_sorted(times.begin(), times.end()));
    CHECK(link.counters().reordered == 0);
  }

  SECTION("with keep_order off, the same jitter does reorder") {
    settings.keep_order = false;
    imp::LinkImpairment link(settings, 3);
    const auto times = deliverTimes(sendEvenly(link, 10'000, kMillisecond));
    CHECK_FALSE(std::is_sorted(times.begin(), times.end()));
  }

  SECTION("a delay cut does not let new packets overtake queued ones") {
    settings.jitter_us = 0;
    imp::LinkImpairment link(settings, 3);
    const imp::Decision before = link.admit(0, kPacketBytes);
    settings.delay_us = 1 * kMillisecond;
    link.setSettings(settings);
    const imp::Decision after = link.admit(kMillisecond, kPacketBytes);
    CHECK(before.deliver_at_us == 30 * kMillisecond);
    CHECK(after.deliver_at_us == 30 * kMillisecond);
  }
}

TEST_CASE("reordering holds a packet back so the next one overtakes it") {
  imp::ImpairmentSettings settings;
  settings.delay_us = 10 * kMillisecond;
  settings.reorder = 0.1;
  settings.reorder_delay_us = 5 * kMillisecond;
  imp::LinkImpairment link(settings, 11);
  const auto sent = sendEvenly(link, 50'000, kMillisecond);
  auto held_back = [&](std::size_t i) {
    return sent[i].decision.deliver_at_us - sent[i].admitted_at_us == 15 * kMillisecond;
  };
  std::size_t held = 0;
  for (std::size_t i = 0; i + 1 < sent.size(); ++i) {
    const DurationUs delay = sent[i].decision.deliver_at_us - sent[i].admitted_at_us;
    REQUIRE((delay == 10 * kMillisecond || delay == 15 * kMillisecond));
    if (!held_back(i)) continue;
    ++held;
    // The next packet overtakes it, unless it was held back as well.
    if (!held_back(i + 1)) REQUIRE(sent[i + 1].decision.deliver_at_us < sent[i].decision.deliver_at_us);
  }
  CHECK(link.counters().reordered >= held);
  CHECK(static_cast<double>(link.counters().reordered) / 50'000.0 == Approx(0.1).margin(0.005));
}

TEST_CASE("random loss rate matches the setting over 100k packets") {
  imp::ImpairmentSettings settings;
  settings.loss = 0.05;
  imp::LinkImpairment link(settings, 42);
  constexpr int kPackets = 100'000;
  sendEvenly(link, kPackets, 100);
  const auto& counters = link.counters();
  // Binomial standard deviation is 0.0007; allow over 4 of them.
  CHECK(static_cast<double>(counters.droppedBy(DropReason::kRandomLoss)) / kPackets == Approx(0.05).margin(0.003));
  CHECK(counters.delivered + counters.droppedBy(DropReason::kRandomLoss) == kPackets);
}

TEST_CASE("Gilbert-Elliott bursts have the configured mean loss and burst length") {
  const auto model = imp::GilbertElliott::fromMeanLoss(0.10, 5.0);
  REQUIRE(model.ok());
  CHECK(model->meanLoss() == Approx(0.10));
  CHECK(model->meanBadRunPackets() == Approx(5.0));

  imp::ImpairmentSettings settings;
  settings.burst = model.value();
  imp::LinkImpairment link(settings, 5);
  constexpr int kPackets = 400'000;
  std::size_t lost = 0;
  std::size_t bursts = 0;
  bool in_burst = false;
  for (const Sent& s : sendEvenly(link, kPackets, 100)) {
    const bool dropped = !s.decision.delivered();
    if (dropped) {
      REQUIRE(*s.decision.drop == DropReason::kBurstLoss);
      ++lost;
      if (!in_burst) ++bursts;
    }
    in_burst = dropped;
  }
  CHECK(static_cast<double>(lost) / kPackets == Approx(0.10).margin(0.01));
  CHECK(static_cast<double>(lost) / static_cast<double>(bursts) == Approx(5.0).margin(0.4));
  CHECK(link.counters().droppedBy(DropReason::kBurstLoss) == lost);
}

TEST_CASE("Gilbert-Elliott construction rejects impossible targets") {
  CHECK_FALSE(imp::GilbertElliott::fromMeanLoss(0.9, 1.0).ok());  // at most 50% in 1-packet bursts
  CHECK(imp::GilbertElliott::fromMeanLoss(0.5, 1.0).ok());
  CHECK_FALSE(imp::GilbertElliott::fromMeanLoss(1.0, 5.0).ok());
  CHECK_FALSE(imp::GilbertElliott::fromMeanLoss(0.1, 0.5).ok());
  const auto never = imp::GilbertElliott::fromMeanLoss(0.0, 3.0);
  REQUIRE(never.ok());
  CHECK(never->meanLoss() == 0.0);
}

TEST_CASE("an outage drops exactly the packets admitted inside its window") {
  imp::ImpairmentSettings settings;
  settings.delay_us = 5 * kMillisecond;
  settings.outages.push_back({1 * kSecond, 500 * kMillisecond});
  imp::LinkImpairment link(settings, 1);
  for (const Sent& s : sendEvenly(link, 2001, kMillisecond)) {
    const bool inside = s.admitted_at_us >= 1 * kSecond && s.admitted_at_us < 1500 * kMillisecond;
    INFO("admitted at " << s.admitted_at_us);
    if (inside) {
      REQUIRE_FALSE(s.decision.delivered());
      REQUIRE(*s.decision.drop == DropReason::kOutage);
    } else {
      REQUIRE(s.decision.delivered());
    }
  }
  CHECK(link.counters().droppedBy(DropReason::kOutage) == 500);
  CHECK(link.settings().outages.empty());  // past outages are forgotten
}

TEST_CASE("the down switch and added outages") {
  imp::LinkImpairment link({}, 1);
  CHECK_FALSE(link.isDownAt(0));
  link.setDown(true);
  CHECK(link.isDownAt(0));
  CHECK(*link.admit(0, 100).drop == DropReason::kOutage);
  link.setDown(false);
  CHECK(link.admit(1, 100).delivered());

  link.addOutage({10, 100});
  CHECK(link.admit(9, 100).delivered());
  CHECK(*link.admit(10, 100).drop == DropReason::kOutage);
  CHECK(link.isDownAt(109));
  CHECK_FALSE(link.isDownAt(110));
  link.clearOutages();
  CHECK(link.admit(50, 100).delivered());
}

TEST_CASE("a rate cap spaces packets by their serialisation time") {
  imp::ImpairmentSettings settings;
  settings.rate_bps = 1'000'000;  // 1250 bytes take 10 ms
  settings.delay_us = 20 * kMillisecond;
  imp::LinkImpairment link(settings, 1);

  SECTION("a burst leaves one packet per 10 ms") {
    for (int i = 0; i < 5; ++i) {
      const imp::Decision d = link.admit(0, 1250);
      REQUIRE(d.delivered());
      CHECK(d.deliver_at_us == (i + 1) * 10 * kMillisecond + 20 * kMillisecond);
    }
    CHECK(link.queuedBytesAt(0) == 5 * 1250);
    CHECK(link.queuedBytesAt(10 * kMillisecond) == 4 * 1250);
    CHECK(link.queuedBytesAt(50 * kMillisecond) == 0);
  }

  SECTION("packets slower than the rate are not delayed further") {
    for (const Sent& s : sendEvenly(link, 100, 20 * kMillisecond, 0, 1250)) {
      REQUIRE(s.decision.deliver_at_us == s.admitted_at_us + 30 * kMillisecond);
    }
  }

  SECTION("sending faster than the rate overflows the bounded queue") {
    settings.queue_limit_bytes = 5000;
    link.setSettings(settings);
    std::size_t accepted = 0;
    for (int i = 0; i < 10; ++i) accepted += link.admit(0, 1250).delivered() ? 1 : 0;
    CHECK(accepted == 4);
    CHECK(link.counters().droppedBy(DropReason::kRateLimit) == 6);
    // Once the first packet is serialised there is room for one more.
    CHECK_FALSE(link.admit(10 * kMillisecond - 1, 1250).delivered());
    const imp::Decision next = link.admit(10 * kMillisecond, 1250);
    REQUIRE(next.delivered());
    CHECK(next.deliver_at_us == 50 * kMillisecond + 20 * kMillisecond);
  }

  SECTION("a steady overload delivers at the cap") {
    // 2 Mbit/s offered into 1 Mbit/s for 10 s: what the link serialises in
    // 10 s (1000 packets) plus what the full queue holds at the end (52).
    const auto sent = sendEvenly(link, 2000, 5 * kMillisecond, 0, 1250);
    const auto times = deliverTimes(sent);
    CHECK(std::is_sorted(times.begin(), times.end()));
    for (std::size_t i = 1; i < times.size(); ++i) REQUIRE(times[i] - times[i - 1] >= 10 * kMillisecond);
    CHECK(static_cast<double>(times.size()) == Approx(1000 + 64 * 1024 / 1250).margin(2));
    CHECK(link.counters().droppedBy(DropReason::kRateLimit) == 2000 - times.size());
  }
}

TEST_CASE("the same seed gives the same decisions") {
  imp::ImpairmentSettings settings;
  settings.delay_us = 30 * kMillisecond;
  settings.jitter_us = 10 * kMillisecond;
  settings.loss = 0.05;
  settings.burst = imp::GilbertElliott::fromMeanLoss(0.05, 4.0).value();
  settings.reorder = 0.02;
  settings.rate_bps = 5'000'000;
  settings.queue_limit_bytes = 20'000;
  auto run = [&](std::uint64_t seed, const imp::ImpairmentSettings& s) {
    imp::LinkImpairment link(s, seed);
    std::vector<std::pair<int, TimeUs>> out;
    // Bursty offered load so the rate cap drops some too.
    for (int i = 0; i < 20'000; ++i) {
      const imp::Decision d = link.admit((i / 10) * 20 * kMillisecond, 1200);
      out.emplace_back(d.drop ? static_cast<int>(*d.drop) : -1, d.deliver_at_us);
    }
    return out;
  };
  CHECK(run(99, settings) == run(99, settings));
  CHECK(run(99, settings) != run(100, settings));

  SECTION("a feature's picks do not depend on another feature's setting") {
    imp::ImpairmentSettings loss_only;
    loss_only.loss = 0.1;
    imp::ImpairmentSettings loss_and_jitter = loss_only;
    loss_and_jitter.delay_us = 10 * kMillisecond;
    loss_and_jitter.jitter_us = 5 * kMillisecond;
    imp::LinkImpairment a(loss_only, 8);
    imp::LinkImpairment b(loss_and_jitter, 8);
    for (int i = 0; i < 10'000; ++i) {
      REQUIRE(a.admit(i * 100, 1200).delivered() == b.admit(i * 100, 1200).delivered());
    }
  }
}

TEST_CASE("deriveSeed separates streams of one seed") {
  CHECK(imp::deriveSeed(1, 0) != imp::deriveSeed(1, 1));
  CHECK(imp::deriveSeed(1, 0) != imp::deriveSeed(2, 0));
  CHECK(imp::deriveSeed(1, 3) == imp::deriveSeed(1, 3));
}

TEST_CASE("drop reasons have stable names") {
  CHECK(imp::toString(DropReason::kRandomLoss) == "random_loss");
  CHECK(imp::toString(DropReason::kBurstLoss) == "burst_loss");
  CHECK(imp::toString(DropReason::kOutage) == "outage");
  CHECK(imp::toString(DropReason::kRateLimit) == "rate_limit");
}
