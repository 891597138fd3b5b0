// PathSelector alone: link qualities in, active and second link out.
// Two local lines x two neighbour lines: index = local * 2 + remote.

#include "relay/core/path_selector.h"

#include <array>
#include <catch2/catch.hpp>

namespace overline::relay {
namespace {

constexpr std::size_t kLinks = 4;
using Links = std::array<LinkQuality, kLinks>;

LinkQuality up(double score_ms) { return {LinkState::kUp, score_ms * 1000}; }
LinkQuality degraded(double score_ms) { return {LinkState::kDegraded, score_ms * 1000}; }
LinkQuality down() { return {LinkState::kDown, 1e9}; }
const LinkQuality kUnknown{};

struct Selector {
  explicit Selector(PathChoiceConfig config = {}) : path(config, kLinks, 2) {}
  bool update(const Links& links) { return path.update(links, now); }
  // Updates every 5 ms for `duration_us`; returns the number of counted switches.
  int run(const Links& links, DurationUs duration_us) {
    int switches = 0;
    for (const TimeUs end = now + duration_us; now < end;) {
      now += 5 * kMillisecond;
      switches += update(links) ? 1 : 0;
    }
    return switches;
  }

  PathSelector path;
  TimeUs now = 10 * kSecond;
};

TEST_CASE("the default pair stays active while nothing is measured") {
  Selector s;
  CHECK(s.path.active() == 0);
  CHECK_FALSE(s.update({kUnknown, kUnknown, kUnknown, kUnknown}));
  CHECK(s.path.active() == 0);
  // The disjoint link of 0 -> 0 is 1 -> 1.
  CHECK(s.path.second() == 3u);
}

TEST_CASE("the first measured link is taken at once, uncounted") {
  Selector s;
  CHECK_FALSE(s.update({kUnknown, kUnknown, up(10), kUnknown}));
  CHECK(s.path.active() == 2);
}

TEST_CASE("an active link going DOWN switches at once to the best non-DOWN link, counted") {
  Selector s;
  s.update({up(10), up(20), up(12), up(30)});
  REQUIRE(s.path.active() == 0);
  CHECK(s.update({down(), up(20), up(12), up(30)}));
  CHECK(s.path.active() == 2);
  // A DEGRADED link beats a DOWN one too.
  CHECK_FALSE(s.update({down(), down(), degraded(50), down()}));  // 2 stays: nothing better
  CHECK(s.path.active() == 2);
}

TEST_CASE("all links DOWN: stay") {
  Selector s;
  s.update({up(10), up(20), up(12), up(30)});
  CHECK_FALSE(s.update({down(), down(), down(), down()}));
  CHECK(s.path.active() == 0);
  CHECK_FALSE(s.path.second().has_value());
}

TEST_CASE("a better class is taken at once") {
  Selector s;
  s.update({up(10), up(20), up(12), up(30)});
  s.update({degraded(10), up(20), up(12), up(30)});
  CHECK(s.path.active() == 2);
  // Back UP but no better by the margins: no switch back.
  CHECK(s.run({up(11), up(20), up(12), up(30)}, 5 * kSecond) == 0);
  CHECK(s.path.active() == 2);
}

TEST_CASE("same class: a switch needs both margins held for switch_hold") {
  Selector s;
  s.update({up(20), up(30), up(30), up(30)});
  REQUIRE(s.path.active() == 0);

  SECTION("better by 20% and 2 ms for 1 s: switch") {
    const Links better{up(20), up(30), up(15.9), up(30)};  // 20.5% and 4.1 ms better
    CHECK(s.run(better, 995 * kMillisecond) == 0);
    CHECK(s.path.active() == 0);
    CHECK(s.run(better, 10 * kMillisecond) == 1);
    CHECK(s.path.active() == 2);
  }
  SECTION("better by 19%: no switch") {
    CHECK(s.run({up(20), up(30), up(16.2), up(30)}, 5 * kSecond) == 0);
    CHECK(s.path.active() == 0);
  }
  SECTION("better by 50% but under 2 ms: no switch") {
    Selector fast;
    fast.update({up(3), up(9), up(9), up(9)});
    CHECK(fast.run({up(3), up(9), up(1.5), up(9)}, 5 * kSecond) == 0);
    CHECK(fast.path.active() == 0);
  }
  SECTION("a break in the advantage restarts the hold") {
    const Links better{up(20), up(30), up(15), up(30)};
    const Links same{up(20), up(30), up(19), up(30)};
    for (int i = 0; i < 5; ++i) {
      CHECK(s.run(better, 900 * kMillisecond) == 0);
      CHECK(s.run(same, 5 * kMillisecond) == 0);
    }
    CHECK(s.path.active() == 0);
  }
}

TEST_CASE("scores wandering by less than the margin never switch") {
  // Two links whose scores wander up to 1.5 ms around the same 20 ms swap
  // places all the time; neither is ever 20% better than the other.
  Selector s;
  s.update({up(20), up(40), up(20), up(40)});
  REQUIRE(s.path.active() == 0);
  int switches = 0;
  for (int i = 0; i < 2000; ++i) {
    const double wobble = ((i % 7) - 3) * 0.5;  // -1.5..1.5 ms
    switches += s.run({up(20 + wobble), up(40), up(20 - wobble), up(40)}, 5 * kMillisecond);
  }
  CHECK(switches == 0);
  CHECK(s.path.active() == 0);
}

TEST_CASE("second link: disjoint first, else any other non-DOWN link") {
  Selector s;
  s.update({up(10), up(20), up(12), up(30)});
  REQUIRE(s.path.active() == 0);
  CHECK(s.path.second() == 3u);  // the only link sharing neither line with 0 -> 0
  s.update({up(10), up(20), up(12), down()});
  CHECK(s.path.second() == 2u);  // 1 -> 0 (12 ms) beats 0 -> 1 (20 ms)
  s.update({up(10), down(), down(), down()});
  CHECK_FALSE(s.path.second().has_value());
}

TEST_CASE("qualityOf scores srtt + 2 x jitter, +inf without samples") {
  ProbingConfig config;
  LinkMonitor link(config, 0);
  CHECK(qualityOf(link).state == LinkState::kUnknown);
  CHECK(qualityOf(link).score_us == std::numeric_limits<double>::infinity());
  const TimeUs t0 = 1 * kSecond;
  REQUIRE(link.probeDue(t0));
  const std::uint32_t sequence = link.onProbeSent(t0);
  REQUIRE(link.onAck(sequence, static_cast<std::uint64_t>(t0), t0 + 8 * kMillisecond));
  CHECK(qualityOf(link).state == LinkState::kUp);
  CHECK(qualityOf(link).score_us == Approx(8000));
}

TEST_CASE("qualityOf: loss above 2% scales the score by 5% per 1%") {
  ProbingConfig config;
  config.loss_window = 10;
  LinkMonitor link(config, 0);
  TimeUs t = 1 * kSecond;
  for (int i = 0; i < 10; ++i) {
    const std::uint32_t sequence = link.onProbeSent(t);
    if (i % 2 == 0) REQUIRE(link.onAck(sequence, static_cast<std::uint64_t>(t), t + 8 * kMillisecond));
    t += 20 * kMillisecond;
    link.onTick(t);
  }
  link.onTick(t + kSecond);
  REQUIRE(link.lossRatio() == Approx(0.5));
  REQUIRE(link.jitterUs() == 0);
  CHECK(qualityOf(link).score_us == Approx(8000 * (1 + 5 * (0.5 - 0.02))));
}

}  // namespace
}  // namespace overline::relay
