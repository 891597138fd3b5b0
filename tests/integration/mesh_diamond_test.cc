// A diamond of four relay processes (two paths between the edges), one
// publisher and subscribers on two different edges:
//   * every packet reaches each subscriber exactly once, and every relay
//     sends exactly one copy per downstream;
//   * a subscriber killed with SIGKILL is pruned within the soft-state expiry
//     and the upstream relays stop forwarding toward it.
//
//   links 1-2, 1-3, 2-4, 3-4:
//     1 (publisher edge)  ->  2 and 3
//     2 and 3             ->  4 (subscriber edge A)
//     3 is also subscriber edge B

#include <catch2/catch.hpp>

#include <csignal>

#include "deploy/localmesh/local_mesh.h"

namespace ol = overline;
namespace lm = overline::localmesh;
using namespace std::chrono_literals;

namespace {

lm::MeshSpec diamond() {
  lm::MeshSpec spec;
  spec.nodes = {{1, "a"}, {2, "a"}, {3, "b"}, {4, "b"}};
  spec.links = {{1, 2}, {1, 3}, {2, 4}, {3, 4}};
  spec.refresh_interval_ms = 200;
  spec.expiry_ms = 600;
  return spec;
}

std::unique_ptr<lm::LocalMesh> startMesh(const lm::MeshSpec& spec) {
  lm::LocalMeshOptions options;
  options.bin_dir = OVERLINE_BIN_DIR;
  auto mesh = lm::LocalMesh::start(spec, options);
  INFO((mesh ? std::string() : mesh.error()));
  REQUIRE(mesh.ok());
  return std::move(mesh.value());
}

double metric(lm::LocalMesh& mesh, ol::NodeId node, const std::string& name) {
  auto samples = mesh.scrape(node);
  REQUIRE(samples.has_value());
  return lm::sumOf(*samples, name);
}

}  // namespace

TEST_CASE("diamond mesh delivers every packet exactly once to subscribers on two edges") {
  const auto spec = diamond();
  auto mesh = startMesh(spec);
  const ol::StreamId stream = ol::makeStreamId(1, 7);
  constexpr std::uint64_t kPackets = 3000;

  lm::SubscriberOptions sub;
  sub.expect_count = kPackets;
  sub.idle_exit_ms = 3000;
  auto a = mesh->startSubscriber(4, stream, sub);
  auto b = mesh->startSubscriber(3, stream, sub);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  REQUIRE(a.value().waitJoined(5s));
  REQUIRE(b.value().waitJoined(5s));
  // The tree must be 1 -> {2, 3}, 2 -> 4, and one client each on 3 and 4.
  REQUIRE(lm::expectedDownstreams(spec, {4, 3}, 1) == std::map<ol::NodeId, int>{{1, 2}, {2, 1}, {3, 1}, {4, 1}});
  REQUIRE(mesh->waitForTree({4, 3}, 1, 5s) == "");

  lm::PublisherOptions pub;
  pub.local_id = 7;
  pub.count = kPackets;
  pub.duration_s = 30;
  pub.packet_bytes = 1000;
  pub.fps = 50;
  pub.bitrate_kbps = 8000;  // 1000 packets/s
  auto publisher = mesh->startPublisher(1, pub);
  REQUIRE(publisher.ok());
  REQUIRE(publisher.value().waitJoined(5s) == stream);
  REQUIRE(publisher.value().waitDone(20s) == kPackets);

  for (auto* s : {&a.value(), &b.value()}) {
    const auto summary = s->waitSummary(10s);
    REQUIRE(summary.has_value());
    CHECK(summary->unique == kPackets);
    CHECK(summary->received == kPackets);
    CHECK(summary->duplicates == 0);
    CHECK(summary->lost == 0);
  }

  // One copy per downstream: relay 1 feeds 2 and 3; 2 feeds 4; 3 and 4 feed
  // their clients. Nothing else was forwarded anywhere. Relays export their
  // counters every 250 ms, so wait for the export to catch up first.
  const std::map<ol::NodeId, double> copies = {{1, 2.0 * kPackets}, {2, kPackets}, {3, kPackets}, {4, kPackets}};
  for (const auto& [node, want] : copies) {
    INFO("relay " << node);
    const auto settled = mesh->waitForMetrics(node, 3s, [want = want](const auto& s) {
      return lm::sumOf(s, "overline_relay_data_packets_forwarded_total") >= want;
    });
    REQUIRE(settled);
    CHECK(lm::sumOf(*settled, "overline_relay_data_packets_forwarded_total") == want);
  }
  for (ol::NodeId n : {1u, 2u, 3u, 4u}) {
    INFO("relay " << n);
    CHECK(metric(*mesh, n, "overline_relay_dropped_packets_total") == 0);
  }
}

TEST_CASE("a killed subscriber is pruned within the soft-state expiry and upstream stops forwarding") {
  const auto spec = diamond();
  auto mesh = startMesh(spec);
  const ol::StreamId stream = ol::makeStreamId(1, 9);

  lm::SubscriberOptions sub;
  sub.report_interval_ms = 200;
  auto leaving = mesh->startSubscriber(4, stream, sub);
  auto staying = mesh->startSubscriber(3, stream, sub);
  REQUIRE(leaving.ok());
  REQUIRE(staying.ok());
  REQUIRE(leaving.value().waitJoined(5s));
  REQUIRE(staying.value().waitJoined(5s));
  REQUIRE(mesh->waitForTree({4, 3}, 1, 5s) == "");

  lm::PublisherOptions pub;
  pub.local_id = 9;
  pub.duration_s = 60;  // stopped by the test (destructor) long before
  pub.packet_bytes = 500;
  pub.fps = 50;
  pub.bitrate_kbps = 1600;  // 400 packets/s
  auto publisher = mesh->startPublisher(1, pub);
  REQUIRE(publisher.ok());
  REQUIRE(publisher.value().waitJoined(5s) == stream);
  // Both branches carry the stream before the subscriber leaves.
  REQUIRE(mesh->waitForMetrics(4, 5s, [](const auto& s) {
    return lm::sumOf(s, "overline_relay_data_packets_forwarded_total") > 100;
  }));

  // No UNSUBSCRIBE: only the soft-state expiry can prune it.
  leaving.value().process().signal(SIGKILL);
  const auto killed_at = std::chrono::steady_clock::now();
  auto gauge_is = [](double want) {
    return [want](const auto& s) { return lm::valueOf(s, "overline_relay_downstreams") == want; };
  };
  REQUIRE(mesh->waitForMetrics(4, 5s, gauge_is(0)));
  REQUIRE(mesh->waitForMetrics(2, 5s, gauge_is(0)));
  REQUIRE(mesh->waitForMetrics(1, 5s, gauge_is(1)));
  const auto pruned_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - killed_at).count();
  // Expiry (600 ms) + one refresh period of slack + metrics export period
  // (250 ms) + scrape polling; anything near 2 s means pruning is broken.
  CHECK(pruned_ms <= spec.expiry_ms + spec.refresh_interval_ms + 800);
  WARN("pruned " << pruned_ms << " ms after SIGKILL (expiry " << spec.expiry_ms << " ms)");

  // While the publisher keeps sending (relay 1 receives 200+ more packets),
  // relay 2 gets and forwards nothing more, and relay 1 forwards only to 3.
  const double relay2_received = metric(*mesh, 2, "overline_relay_data_packets_received_total");
  const double relay2_forwarded = metric(*mesh, 2, "overline_relay_data_packets_forwarded_total");
  const double relay1_received = metric(*mesh, 1, "overline_relay_data_packets_received_total");
  const double relay1_forwarded = metric(*mesh, 1, "overline_relay_data_packets_forwarded_total");
  REQUIRE(mesh->waitForMetrics(1, 5s, [&](const auto& s) {
    return lm::sumOf(s, "overline_relay_data_packets_received_total") >= relay1_received + 200;
  }));
  const auto after1 = mesh->scrape(1);
  REQUIRE(after1);
  const double received_since = lm::sumOf(*after1, "overline_relay_data_packets_received_total") - relay1_received;
  const double forwarded_since = lm::sumOf(*after1, "overline_relay_data_packets_forwarded_total") - relay1_forwarded;
  CHECK(forwarded_since == Approx(received_since).margin(5));  // one downstream (relay 3) left
  CHECK(metric(*mesh, 2, "overline_relay_data_packets_received_total") == relay2_received);
  CHECK(metric(*mesh, 2, "overline_relay_data_packets_forwarded_total") == relay2_forwarded);

  // The remaining subscriber is unaffected.
  publisher.value().process().signal(SIGTERM);
  REQUIRE(publisher.value().waitDone(5s));
  staying.value().process().signal(SIGTERM);
  const auto summary = staying.value().waitSummary(5s);
  REQUIRE(summary);
  CHECK(summary->lost == 0);
  CHECK(summary->duplicates == 0);
  CHECK(summary->unique > 200);
}
