// Two relays (1 — 2, two lines each) behind the overline-impair switchboard,
// a publisher on relay 1 at 1,000 packets/s and a subscriber on relay 2.
// Mid-stream, the line relay 1 is sending the stream on goes down
// (`line-down` in the switchboard: it neither sends nor receives):
//   * redundant mode (overline-publish --redundant): each packet also goes on
//     a link of relay 1's other line, so the subscriber gets every packet
//     exactly once;
//   * plain mode (hot standby): probing declares the line's links down within
//     down_after_ms (default 100 ms) and traffic moves to a link of the other
//     line; the subscriber's longest silence stays within 200 ms.

#include <catch2/catch.hpp>

#include "deploy/localmesh/local_mesh.h"

namespace ol = overline;
namespace lm = overline::localmesh;
using namespace std::chrono_literals;

namespace {

constexpr ol::NodeId kPublisherEdge = 1;
constexpr ol::NodeId kSubscriberEdge = 2;
constexpr std::uint64_t kPackets = 6000;  // 6 s at 1,000 packets/s
// Default probing: 20 ms between probes, DOWN after 100 ms without an ACK.
// The rest is the relay's tick and the last packets sent into the dead line.
constexpr double kMaxGapMs = 200;

std::unique_ptr<lm::LocalMesh> startMesh() {
  lm::MeshSpec spec;
  spec.nodes = {{1, "a"}, {2, "b"}};
  spec.links = {{1, 2}};
  spec.impaired = true;
  lm::LocalMeshOptions options;
  options.bin_dir = OVERLINE_BIN_DIR;
  auto mesh = lm::LocalMesh::start(spec, options);
  INFO((mesh ? std::string() : mesh.error()));
  REQUIRE(mesh.ok());
  return std::move(mesh.value());
}

// Every link of `node` (2 x 2 line pairs) is measured and up.
bool allLinksUp(const lm::MetricSamples& samples) {
  int up = 0;
  for (const auto& [key, value] : samples) {
    if (key.rfind("overline_relay_link_state{", 0) == 0 && value == 2) ++up;
  }
  return up == 4;
}

struct Run {
  lm::SubscriberFigures summary;
  int failed_line = 0;
};

// Streams kPackets from relay 1 to a subscriber on relay 2 and takes down the
// line relay 1 sends most on, about two seconds in.
Run streamThroughLineFailure(lm::LocalMesh& mesh, bool redundant) {
  const ol::StreamId stream = ol::makeStreamId(kPublisherEdge, 3);
  lm::SubscriberOptions sub;
  sub.expect_count = kPackets;
  sub.idle_exit_ms = 3000;
  sub.report_interval_ms = 200;
  auto subscriber = mesh.startSubscriber(kSubscriberEdge, stream, sub);
  REQUIRE(subscriber.ok());
  REQUIRE(subscriber.value().waitJoined(5s));
  REQUIRE(mesh.waitForTree({kSubscriberEdge}, kPublisherEdge, 5s) == "");
  // Probing has measured every link, so relay 1 has chosen its active link
  // (and, redundant, the second one) before the stream starts.
  REQUIRE(mesh.waitForMetrics(kPublisherEdge, 5s, allLinksUp));
  REQUIRE(mesh.waitForMetrics(kSubscriberEdge, 5s, allLinksUp));

  lm::PublisherOptions pub;
  pub.local_id = 3;
  pub.count = kPackets;
  pub.duration_s = 30;
  pub.packet_bytes = 1000;
  pub.fps = 50;
  pub.bitrate_kbps = 8000;  // 1000 packets/s
  pub.redundant = redundant;
  auto publisher = mesh.startPublisher(kPublisherEdge, pub);
  REQUIRE(publisher.ok());
  REQUIRE(publisher.value().waitJoined(5s) == stream);

  // The line relay 1 is using: the one whose sent count grows most while the
  // stream flows (a second's worth of packets).
  const auto flowing = mesh.waitForMetrics(kPublisherEdge, 5s, [](const auto& s) {
    return lm::sumOf(s, "overline_relay_data_packets_forwarded_total") >= 1000;
  });
  REQUIRE(flowing);
  const auto later = mesh.waitForMetrics(kPublisherEdge, 5s, [&](const auto& s) {
    return lm::sumOf(s, "overline_relay_data_packets_forwarded_total") >=
           lm::sumOf(*flowing, "overline_relay_data_packets_forwarded_total") + 1000;
  });
  REQUIRE(later);
  const double grew0 = lm::linePacketsSent(*later, 0) - lm::linePacketsSent(*flowing, 0);
  const double grew1 = lm::linePacketsSent(*later, 1) - lm::linePacketsSent(*flowing, 1);
  Run run;
  run.failed_line = grew1 > grew0 ? 1 : 0;
  REQUIRE(mesh.impair("line-down " + lm::lineName(kPublisherEdge, run.failed_line)) == "");

  REQUIRE(publisher.value().waitDone(20s) == kPackets);
  const auto summary = subscriber.value().waitSummary(15s);
  REQUIRE(summary.has_value());
  run.summary = *summary;
  return run;
}

}  // namespace

TEST_CASE("redundant mode: a line failing mid-stream loses and duplicates nothing") {
  auto mesh = startMesh();
  const Run run = streamThroughLineFailure(*mesh, /*redundant=*/true);
  WARN("redundant: line r1.l" << run.failed_line << " down; unique " << run.summary.unique << ", lost "
                              << run.summary.lost << ", duplicates " << run.summary.duplicates
                              << ", max gap " << run.summary.max_gap_ms << " ms");
  CHECK(run.summary.unique == kPackets);
  CHECK(run.summary.lost == 0);
  CHECK(run.summary.duplicates == 0);
  // Relay 1 really sent second copies.
  const auto samples = mesh->scrape(kPublisherEdge);
  REQUIRE(samples);
  CHECK(lm::sumOf(*samples, "overline_relay_redundant_copies_sent_total") > 0);
}

TEST_CASE("hot standby: a line failing mid-stream costs at most a detection gap") {
  auto mesh = startMesh();
  const Run run = streamThroughLineFailure(*mesh, /*redundant=*/false);
  WARN("plain: line r1.l" << run.failed_line << " down; detection gap (max_gap_ms) " << run.summary.max_gap_ms
                          << " ms, lost " << run.summary.lost << " of " << kPackets);
  CHECK(run.summary.max_gap_ms <= kMaxGapMs);
  // The stream carried on after the gap: at most the gap's packets are missing.
  CHECK(run.summary.unique + static_cast<std::uint64_t>(kMaxGapMs) >= kPackets);
  CHECK(run.summary.duplicates == 0);
  // Relay 1 moved its active link off the dead line.
  const auto samples = mesh->scrape(kPublisherEdge);
  REQUIRE(samples);
  CHECK(lm::sumOf(*samples, "overline_relay_path_switches_total") >= 1);
}
