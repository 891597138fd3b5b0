// Hot standby between two directly linked relays with two lines each: the
// line carrying the stream goes down and relay 1 moves the stream to its
// other line fast enough that the subscriber's largest gap between packets
// stays within 200 ms.
//
// Needs the relay's link probing and line-pair choice (DESIGN.md "Path
// choice per hop"; counter overline_relay_path_switches_total): without them
// relay 1 keeps sending into the dead line and this test fails.
//
//   publisher -> r1 ==line0== core ==line0== r2 -> subscriber
//                   ==line1==      ==line1==

#include <catch2/catch.hpp>

#include "tests/netlab/netlab_test_support.h"

namespace ol = overline;
namespace nl = overline::netlab;
namespace lm = overline::localmesh;
using namespace std::chrono_literals;
using nl::test::msSince;

namespace {

constexpr double kMaxGapMs = 200;
constexpr const char* kSent = "overline_relay_line_packets_sent_total";
constexpr const char* kPathSwitches = "overline_relay_path_switches_total";

}  // namespace

TEST_CASE("taking down the active line of a relay keeps the subscriber's largest gap within 200 ms") {
  nl::test::skipWithoutLab();
  auto lab = nl::test::startLab(2, 2);
  lm::MeshSpec spec;
  spec.nodes = {{1, "lab"}, {2, "lab"}};
  spec.links = {{1, 2}};
  auto mesh = nl::test::startLabMesh(*lab, spec);

  constexpr std::uint64_t kPackets = 9000;  // 9 s at 1000 packets/s
  lm::SubscriberOptions sub;
  sub.idle_exit_ms = 2000;  // after the stream ends (or if it never recovers)
  sub.report_interval_ms = 100;
  auto stream = nl::test::startStream(*mesh, 1, 2, 3, kPackets, sub, 2000);
  auto& publisher = stream.publisher;
  auto& subscriber = stream.subscriber;

  // The active line: the one whose sent counter grows with the stream
  // (probes, if any, grow both about equally).
  const auto before = mesh->scrape(1);
  REQUIRE(before);
  CHECK(nl::test::hasMetric(*before, kPathSwitches));  // else: the relay has no path choice yet
  const auto during = mesh->waitForMetrics(1, 5s, [&](const auto& s) {
    return lm::sumOf(s, kSent) >= lm::sumOf(*before, kSent) + 500;
  });
  REQUIRE(during);
  double delta[2];
  for (int l = 0; l < 2; ++l) delta[l] = nl::test::lineCounter(*during, kSent, l) - nl::test::lineCounter(*before, kSent, l);
  const int active = delta[1] > delta[0] ? 1 : 0;
  const int standby = 1 - active;
  INFO("relay 1 packets sent over the window: line0 " << delta[0] << ", line1 " << delta[1]);
  REQUIRE(delta[active] >= 5 * delta[standby]);

  subscriber.poll();
  const std::uint64_t unique_at_outage = subscriber.latest()->unique;
  const double switches_before = lm::sumOf(*during, kPathSwitches);
  const double standby_before = nl::test::lineCounter(*during, kSent, standby);
  REQUIRE(lab->lab().setLineUp({1, active}, false) == "");
  const auto outage_at = std::chrono::steady_clock::now();

  // Detection, as far as the relay's exported counters show it (they are
  // refreshed every 250 ms): a path switch, and the stream on the standby line.
  const auto switched = mesh->waitForMetrics(1, 5s, [&](const auto& s) {
    return lm::sumOf(s, kPathSwitches) > switches_before &&
           nl::test::lineCounter(s, kSent, standby) >= standby_before + 100;
  });
  const long long detected_ms = msSince(outage_at);
  WARN("line " << active << " of relay 1 down: "
               << (switched ? "switch to line " + std::to_string(standby) + " visible in metrics after " +
                                  std::to_string(detected_ms) + " ms (export period 250 ms)"
                            : std::string("no switch seen in 5 s")));
  CHECK(switched);

  const bool resumed = nl::test::waitForSubscriber(
      subscriber, 5s, [&](const auto& f) { return f.unique >= unique_at_outage + 1000; });
  REQUIRE(resumed);
  REQUIRE(publisher.waitDone(20s) == kPackets);
  const auto summary = subscriber.waitSummary(10s);
  REQUIRE(summary);
  // overline-subscribe reports max_gap_ms; 0 with thousands of packets means
  // this build's tool does not.
  INFO("overline-subscribe printed no max_gap_ms");
  REQUIRE(summary->max_gap_ms > 0);
  WARN("subscriber: largest gap " << summary->max_gap_ms << " ms, " << summary->lost << " lost of " << kPackets
                                  << ", " << summary->duplicates << " duplicates");
  CHECK(summary->max_gap_ms <= kMaxGapMs);
  CHECK(summary->duplicates == 0);
  CHECK(summary->unique >= kPackets - static_cast<std::uint64_t>(kMaxGapMs));  // at most the gap's worth lost
}
