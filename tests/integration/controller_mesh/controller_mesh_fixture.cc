#include "tests/integration/controller_mesh/controller_mesh_fixture.h"

#include <catch2/catch.hpp>

namespace overline::localmesh::testing {

using namespace std::chrono_literals;

namespace {

// Links of `node` measured and up (overline_relay_link_state 2).
int linksUp(const MetricSamples& samples) {
  int up = 0;
  for (const auto& [key, value] : samples) {
    if (key.rfind("overline_relay_link_state{", 0) == 0 && value == 2) ++up;
  }
  return up;
}

}  // namespace

std::unique_ptr<LocalMesh> startControllerMesh() {
  MeshSpec spec = threeRegionMesh();
  spec.impaired = true;
  spec.with_controller = true;
  LocalMeshOptions options;
  options.bin_dir = OVERLINE_BIN_DIR;
  options.ready_timeout = 20s;
  auto mesh = LocalMesh::start(spec, options);
  INFO((mesh ? std::string() : mesh.error()));
  REQUIRE(mesh.ok());
  // The controller peers every relay with every other: 5 peers x 2 x 2 lines.
  const int links = static_cast<int>(spec.nodes.size() - 1) * spec.lines_per_node * spec.lines_per_node;
  for (const auto& node : spec.nodes) {
    INFO("relay " << node.id << " links up:\n" << mesh.value()->logTail(node.id));
    REQUIRE(mesh.value()->waitForMetrics(node.id, 10s, [&](const auto& s) { return linksUp(s) == links; }));
  }
  return std::move(mesh.value());
}

void impairBetween(LocalMesh& mesh, NodeId a, NodeId b, const std::string& knobs) {
  for (int la = 0; la < mesh.spec().lines_per_node; ++la) {
    for (int lb = 0; lb < mesh.spec().lines_per_node; ++lb) {
      REQUIRE(mesh.impair("pair-set " + lineName(a, la) + " " + lineName(b, lb) + " " + knobs) == "");
      REQUIRE(mesh.impair("pair-set " + lineName(b, lb) + " " + lineName(a, la) + " " + knobs) == "");
    }
  }
}

bool usesHop(const ControllerPath& path, NodeId a, NodeId b) {
  for (std::size_t i = 0; i + 1 < path.primary.size(); ++i) {
    const NodeId from = path.primary[i];
    const NodeId to = path.primary[i + 1];
    if ((from == a && to == b) || (from == b && to == a)) return true;
  }
  return false;
}

std::uint64_t receivedSoFar(SubscriberProcess& subscriber) {
  subscriber.poll();
  return subscriber.latest() ? subscriber.latest()->unique : 0;
}

Stream startStream(LocalMesh& mesh, std::uint32_t local_id, double seconds) {
  const StreamId stream = makeStreamId(kPublisherEdge, local_id);
  SubscriberOptions sub;
  sub.idle_exit_ms = 3000;
  sub.report_interval_ms = 200;
  auto subscriber = mesh.startSubscriber(kSubscriberEdge, stream, sub);
  REQUIRE(subscriber.ok());
  REQUIRE(subscriber.value().waitJoined(5s));
  REQUIRE(mesh.waitForTree({kSubscriberEdge}, kPublisherEdge, 10s) == "");

  PublisherOptions pub;
  pub.local_id = local_id;
  pub.packet_bytes = 1000;
  pub.fps = 50;
  pub.bitrate_kbps = kPacketsPerSecond * 8;  // 1000-byte packets
  pub.count = static_cast<std::uint64_t>(seconds * kPacketsPerSecond);
  pub.duration_s = seconds * 3;  // `count` ends it
  auto publisher = mesh.startPublisher(kPublisherEdge, pub);
  REQUIRE(publisher.ok());
  REQUIRE(publisher.value().waitJoined(5s) == stream);
  Stream result{std::move(publisher.value()), std::move(subscriber.value()), pub.count};
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (receivedSoFar(result.subscriber) < kPacketsPerSecond / 2) {
    REQUIRE(std::chrono::steady_clock::now() < deadline);
    std::this_thread::sleep_for(50ms);
  }
  return result;
}

SubscriberFigures finishStream(Stream& stream) {
  REQUIRE(stream.publisher.waitDone(60s) == stream.packets);
  const auto summary = stream.subscriber.waitSummary(10s);
  REQUIRE(summary.has_value());
  return *summary;
}

double relayMetric(LocalMesh& mesh, NodeId node, const std::string& key) {
  const auto samples = mesh.scrape(node);
  REQUIRE(samples.has_value());
  return valueOf(*samples, key).value_or(0);
}

namespace {
constexpr const char* kForwarded = "overline_relay_data_packets_forwarded_total";
double relayForwarded(LocalMesh& mesh, NodeId node) {
  const auto samples = mesh.scrape(node);
  REQUIRE(samples.has_value());
  return sumOf(*samples, kForwarded);
}
}  // namespace

std::optional<NodeId> transitCarryingStream(LocalMesh& mesh, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    const auto path = waitForPath(mesh, kSubscriberEdge, kPublisherEdge, left,
                                  [](const ControllerPath& p) { return p.primary.size() >= 3; });
    if (!path) return std::nullopt;
    const NodeId transit = path->primary[1];
    const double start = relayForwarded(mesh, transit);
    const bool forwarding = mesh
                                .waitForMetrics(transit, 2s,
                                                [&](const auto& s) {
                                                  return sumOf(s, kForwarded) >= start + kPacketsPerSecond / 2;
                                                })
                                .has_value();
    const auto now_path = mesh.path(kSubscriberEdge, kPublisherEdge);
    if (forwarding && now_path && now_path.value().primary.size() >= 3 && now_path.value().primary[1] == transit) {
      return transit;
    }
  }
  return std::nullopt;
}


}  // namespace overline::localmesh::testing
