// Next-hop failover: relay 4 reaches the origin relay 1 through relay 2, with
// relay 3 as the configured backup next hop. The transit relay 2 dies
// (SIGKILL: no goodbye, only silence) and relay 4 moves the subscription to
// relay 3; the stream continues and the subscriber's gap is reported.
//
// Needs the relay's link probing (to notice relay 2 is gone) and failover
// tables (the `backup` key of a route): until they exist relay 4 either
// refuses the config or keeps waiting on relay 2, and this test fails.
//
//        1      publisher
//       / \     (2: primary transit, 3: backup)
//      2   3
//       \ /     (both neighbours of 4)
//        4      subscriber
// every relay has two lines into the lab's core.

#include <catch2/catch.hpp>

#include <csignal>

#include "tests/netlab/netlab_test_support.h"

namespace ol = overline;
namespace nl = overline::netlab;
namespace lm = overline::localmesh;
using namespace std::chrono_literals;
using nl::test::msSince;

namespace {

// Noticing a dead neighbour (a few missed probes, tens of ms apart) plus one
// SUBSCRIBE round trip through relay 3: well under a second.
constexpr double kMaxGapMs = 1000;
constexpr const char* kForwarded = "overline_relay_data_packets_forwarded_total";

}  // namespace

TEST_CASE("killing the transit relay moves the stream to the backup next hop") {
  nl::test::skipWithoutLab();
  auto lab = nl::test::startLab(4, 2);
  lm::MeshSpec spec;
  spec.nodes = {{1, "lab"}, {2, "lab"}, {3, "lab"}, {4, "lab"}};
  spec.links = {{1, 2}, {1, 3}, {2, 4}, {3, 4}};
  spec.backup_next_hops[4][1] = 3;
  REQUIRE(lm::shortestPathNextHops(spec, 4).at(1) == 2);  // primary: 4 -> 2 -> 1
  auto mesh = nl::test::startLabMesh(*lab, spec);

  constexpr std::uint64_t kPackets = 10000;  // 10 s at 1000 packets/s
  lm::SubscriberOptions sub;
  sub.idle_exit_ms = 3000;
  sub.report_interval_ms = 100;
  auto stream = nl::test::startStream(*mesh, 1, 4, 5, kPackets, sub, 2000);
  auto& publisher = stream.publisher;
  auto& subscriber = stream.subscriber;

  // The stream runs 1 -> 2 -> 4; the backup carries nothing yet.
  REQUIRE(mesh->waitForMetrics(2, 3s, [](const auto& s) { return lm::sumOf(s, kForwarded) >= 1000; }));
  const auto backup_before = mesh->scrape(3);
  REQUIRE(backup_before);
  CHECK(lm::sumOf(*backup_before, kForwarded) == 0);

  subscriber.poll();
  const std::uint64_t unique_at_kill = subscriber.latest()->unique;
  mesh->relay(2).process->signal(SIGKILL);
  const auto killed_at = std::chrono::steady_clock::now();

  const auto rerouted = mesh->waitForMetrics(3, 5s, [](const auto& s) { return lm::sumOf(s, kForwarded) >= 100; });
  const long long rerouted_ms = msSince(killed_at);
  WARN("relay 2 killed: "
       << (rerouted ? "relay 3 forwarding the stream, visible in metrics after " + std::to_string(rerouted_ms) +
                          " ms (export period 250 ms)"
                    : std::string("relay 3 carried nothing within 5 s")));
  REQUIRE(rerouted);
  REQUIRE(nl::test::waitForSubscriber(subscriber, 5s,
                                      [&](const auto& f) { return f.unique >= unique_at_kill + 1000; }));

  REQUIRE(publisher.waitDone(20s) == kPackets);
  const auto summary = subscriber.waitSummary(10s);
  REQUIRE(summary);
  INFO("overline-subscribe printed no max_gap_ms");
  REQUIRE(summary->max_gap_ms > 0);
  WARN("subscriber: largest gap " << summary->max_gap_ms << " ms, " << summary->lost << " lost of " << kPackets
                                  << ", " << summary->duplicates << " duplicates");
  CHECK(summary->max_gap_ms <= kMaxGapMs);
  CHECK(summary->duplicates == 0);
  CHECK(summary->unique >= kPackets - static_cast<std::uint64_t>(kMaxGapMs));  // at most the gap's worth lost
}
