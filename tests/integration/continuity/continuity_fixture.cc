#include "tests/integration/continuity/continuity_fixture.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <limits>
#include <optional>
#include <sstream>
#include <thread>

#include "common/stream_id_text.h"

namespace overline::localmesh::testing {

using namespace std::chrono_literals;

namespace {

// Subscribers report every 20 ms: the connect time is read off the first
// line that counts a packet, and a kill's aftermath off the counts.
constexpr int kReportIntervalMs = 20;
// A subscriber ends by itself this long after its last packet, once the
// publishers stopped; a gap this long during a kill ends it too (and fails
// the repetition, being longer than kReceiveAgainMs anyway).
constexpr int kIdleExitMs = 1200;
// Packets a subscriber must get after a kill to count as receiving again:
// 0.75 s of stream, more than the kill can have left in flight (the longest
// one-way path, eu-ap plus two last miles, is ~100 ms).
constexpr std::uint64_t kPacketsAfterKill = kPacketsPerSecond * 3 / 4;

template <typename Condition>
bool waitFor(Condition condition, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

// Links measured and up (overline_relay_link_state 2).
int linksUp(const MetricSamples& samples) {
  int up = 0;
  for (const auto& [key, value] : samples) {
    if (key.rfind("overline_relay_link_state{", 0) == 0 && value == 2) ++up;
  }
  return up;
}

// Every relay runs the controller's latest table for it and has all its
// links up: the controller peers every relay with every other on every
// line pair.
void waitMeshHealthy(LocalMesh& mesh) {
  const MeshSpec& spec = mesh.spec();
  const int links = static_cast<int>(spec.nodes.size() - 1) * spec.lines_per_node * spec.lines_per_node;
  for (const auto& node : spec.nodes) {
    INFO("relay " << node.id << " links up:\n" << mesh.logTail(node.id));
    REQUIRE(mesh.waitForMetrics(node.id, 15s, [&](const auto& s) { return linksUp(s) == links; }));
  }
  const std::string routes = mesh.waitForRoutes(1, 15s);
  INFO(routes);
  REQUIRE(routes.empty());
}

bool contains(const std::vector<NodeId>& nodes, NodeId node) {
  return std::find(nodes.begin(), nodes.end(), node) != nodes.end();
}

// "1, 2": every edge the tool joined.
std::string joinedList(const EdgeLog& edges) {
  std::string text;
  for (NodeId node : edges.joined) text += (text.empty() ? "" : ", ") + std::to_string(node);
  return text.empty() ? "none" : text;
}

// The streams a tool's output named, other than `stream`.
std::string foreignStreams(const EdgeLog& edges, StreamId stream) {
  std::string text;
  for (StreamId named : edges.streams) {
    if (named != stream) text += (text.empty() ? "" : ", ") + formatStreamId(named);
  }
  return text;
}

struct TrialSubscriber {
  SubscriberProcess process;
  std::size_t publisher = 0;  // whose stream
  // The kill reaches this subscriber's stream through a tool with one edge
  // (the subscriber itself, or its publisher); else through a dual-homed one.
  bool single_homed_path = true;
  std::uint64_t unique_at_kill = 0;
  bool received_again = false;
};

std::uint64_t uniqueSoFar(SubscriberProcess& subscriber) {
  subscriber.poll();
  return subscriber.latest() ? subscriber.latest()->unique : 0;
}

void runOneTrial(LocalMesh& mesh, const KillTrial& trial, int repetition, KillFigures& figures) {
  INFO("repetition " << repetition + 1);
  const bool publisher_edge = trial.victim == Victim::kPublisherEdge;

  // Publishers in eu: a single-homed one (index 0) and, when their edge
  // dies, a dual-homed one beside it.
  std::vector<PublisherProcess> publishers;
  std::vector<StreamId> streams;
  const std::vector<int> publisher_homes = publisher_edge ? std::vector<int>{1, 2} : std::vector<int>{1};
  for (std::size_t i = 0; i < publisher_homes.size(); ++i) {
    PublisherOptions pub;
    pub.local_id = static_cast<std::uint32_t>(100 * (repetition + 1) + i);  // a fresh stream every repetition
    pub.packet_bytes = 1000;
    pub.fps = 50;
    pub.bitrate_kbps = kPacketsPerSecond * 8;  // 1000-byte packets
    pub.duration_s = 60;                       // a bound: the repetition stops it
    pub.homes = publisher_homes[i];
    auto started = mesh.startPublisher(EdgeSelection::allocated("eu"), pub);
    INFO((started ? std::string() : started.error()));
    REQUIRE(started.ok());
    const auto stream = started.value().waitJoined(10s);
    INFO("publisher with --homes " << pub.homes << " did not join");
    REQUIRE(stream.has_value());
    publishers.push_back(std::move(started.value()));
    streams.push_back(*stream);
  }

  // Subscribers, each timed from its start to its first packet.
  struct Wanted {
    std::size_t publisher;
    const char* region;
    int homes;
  };
  const std::vector<Wanted> wanted =
      publisher_edge ? std::vector<Wanted>{{0, "us", 1}, {0, "ap", 1}, {1, "us", 1}, {1, "ap", 1}}
                     : std::vector<Wanted>{{0, "us", 1}, {0, "us", 2}};
  std::vector<TrialSubscriber> subscribers;
  for (const Wanted& w : wanted) {
    SubscriberOptions sub;
    sub.report_interval_ms = kReportIntervalMs;
    sub.idle_exit_ms = kIdleExitMs;
    sub.homes = w.homes;
    auto started = mesh.startSubscriber(EdgeSelection::allocated(w.region), streams[w.publisher], sub);
    INFO((started ? std::string() : started.error()));
    REQUIRE(started.ok());
    const auto connect = started.value().waitFirstPacket(5s);
    INFO("subscriber in " << w.region << " (--homes " << w.homes << ") got no packet of "
                          << formatStreamId(streams[w.publisher]) << " within 5 s of its start");
    REQUIRE(connect.has_value());
    figures.connect_ms.push_back(connect->count());
    const bool single_homed_path = publisher_edge ? publisher_homes[w.publisher] == 1 : w.homes == 1;
    subscribers.push_back({std::move(started.value()), w.publisher, single_homed_path});
  }
  REQUIRE(waitFor(
      [&] {
        return std::all_of(subscribers.begin(), subscribers.end(),
                           [](TrialSubscriber& s) { return uniqueSoFar(s.process) >= kPacketsPerSecond / 2; });
      },
      5s));

  if (trial.headless) {
    mesh.killController();
    REQUIRE(waitFor(
        [&] {
          return std::all_of(mesh.spec().nodes.begin(), mesh.spec().nodes.end(), [&](const MeshNode& node) {
            const auto samples = mesh.scrape(node.id);
            return samples && valueOf(*samples, "overline_relay_controller_connected") == 0;
          });
        },
        5s));
  }

  // The victim: the single-homed tool's first edge, which its dual-homed
  // twin, on both of its region's relays, must share (or the kill would
  // not test it).
  const bool dual_on_two = publisher_edge ? publishers[1].waitJoinedEdges(2, 5s)
                                          : subscribers[1].process.waitJoinedEdges(2, 5s);
  const EdgeLog& single = publisher_edge ? publishers[0].edges() : subscribers[0].process.edges();
  const EdgeLog& dual = publisher_edge ? publishers[1].edges() : subscribers[1].process.edges();
  const NodeId victim = single.firstEdge();
  INFO("victim relay " << victim << "; dual-homed tool joined " << joinedList(dual));
  REQUIRE(victim != kNoNode);
  REQUIRE(dual_on_two);
  REQUIRE(contains(dual.joined, victim));
  if (publisher_edge) {
    for (auto& s : subscribers) REQUIRE(!contains(s.process.edges().joined, victim));  // on other PoPs
  } else {
    REQUIRE(!contains(publishers[0].edges().joined, victim));
  }
  for (auto& s : subscribers) s.unique_at_kill = uniqueSoFar(s.process);
  REQUIRE(mesh.killRelay(victim).empty());

  waitFor(
      [&] {
        bool all = true;
        for (auto& s : subscribers) {
          s.received_again = s.received_again || uniqueSoFar(s.process) >= s.unique_at_kill + kPacketsAfterKill;
          all = all && s.received_again;
        }
        return all;
      },
      5s);

  std::vector<std::uint64_t> sent;
  for (auto& p : publishers) {
    p.process().signal(SIGTERM);
    const auto done = p.waitDone(5s);
    REQUIRE(done.has_value());
    sent.push_back(*done);
  }
  std::ostringstream line;
  line << "repetition " << repetition + 1 << ": relay " << victim << " killed" << (trial.headless ? " (headless)" : "");
  for (auto& s : subscribers) {
    auto summary = s.process.waitSummary(std::chrono::milliseconds(kIdleExitMs) + 3s);
    if (!summary) {
      s.process.process().signal(SIGTERM);
      summary = s.process.waitSummary(3s);
    }
    REQUIRE(summary.has_value());
    const StreamId stream = streams[s.publisher];
    const std::uint64_t expected = sent[s.publisher] - std::min<std::uint64_t>(sent[s.publisher],
                                                                               summary->first_seq.value_or(0));
    const std::uint64_t missing = expected > summary->unique ? expected - summary->unique : 0;
    INFO(s.process.label() << " on relays " << s.process.edges().describe() << ", stream " << formatStreamId(stream)
                           << " (" << (s.single_homed_path ? "single" : "dual") << "-homed): max gap "
                           << summary->max_gap_ms << " ms, lost " << summary->lost << ", missing " << missing
                           << " of " << expected);
    CHECK(s.received_again);
    // The stream id it asked for is the one every joined line names, moves included.
    CHECK(s.process.edges().streams.contains(stream));
    CHECK(foreignStreams(s.process.edges(), stream).empty());
    // A stream that never came back has no gap to measure: it counts as endless.
    const double gap_ms = s.received_again ? summary->max_gap_ms : std::numeric_limits<double>::infinity();
    if (s.single_homed_path) {
      CHECK(summary->max_gap_ms <= kReceiveAgainMs);
      figures.single_homed_gap_ms.push_back(gap_ms);
    } else {
      CHECK(summary->lost == 0);
      CHECK(missing == 0);
      figures.dual_homed_gap_ms.push_back(gap_ms);
    }
    line << "; " << s.process.label() << (s.single_homed_path ? "" : " (dual)") << " gap " << summary->max_gap_ms
         << " ms, missing " << missing << (s.received_again ? "" : ", NOT receiving again");
  }
  for (std::size_t i = 0; i < publishers.size(); ++i) {
    INFO("publisher " << i << " named streams " << foreignStreams(publishers[i].edges(), streams[i]));
    CHECK(foreignStreams(publishers[i].edges(), streams[i]).empty());
  }
  // The single-homed tool whose edge died moved to a live relay: one of
  // the candidates it was allocated (headless, nobody could tell it another).
  INFO("single-homed tool's edges: " << single.describe());
  CHECK(!single.moves.empty());
  CHECK(single.current != victim);
  CHECK((single.current != kNoNode && mesh.relayRunning(single.current)));
  std::printf("%s\n", line.str().c_str());

  if (trial.headless) {
    const std::string restarted = mesh.restartController();
    INFO(restarted);
    REQUIRE(restarted.empty());
  }
  const std::string restarted = mesh.restartRelay(victim);
  INFO(restarted);
  REQUIRE(restarted.empty());
  waitMeshHealthy(mesh);
}

}  // namespace

std::unique_ptr<LocalMesh> startContinuityMesh() {
  MeshSpec spec = threeRegionMesh();
  spec.impaired = true;
  spec.geo_delays = true;
  spec.access_delay_ms = kAccessDelayMs;
  spec.with_controller = true;
  LocalMeshOptions options;
  options.bin_dir = OVERLINE_BIN_DIR;
  options.ready_timeout = 20s;
  auto mesh = LocalMesh::start(spec, options);
  INFO((mesh ? std::string() : mesh.error()));
  REQUIRE(mesh.ok());
  waitMeshHealthy(*mesh.value());
  return std::move(mesh.value());
}

Percentiles percentiles(std::vector<double> samples) {
  if (samples.empty()) return {};
  std::sort(samples.begin(), samples.end());
  const auto rank = [&](double q) {
    const auto index = static_cast<std::size_t>(std::ceil(q * static_cast<double>(samples.size())));
    return samples[std::max<std::size_t>(index, 1) - 1];
  };
  return {rank(0.50), rank(0.99), samples.size()};
}

std::string describe(const Percentiles& figures) {
  char text[96];
  std::snprintf(text, sizeof text, "p50 %.1f ms, p99 %.1f ms over %zu", figures.p50, figures.p99, figures.count);
  return text;
}

KillFigures runKillTrials(LocalMesh& mesh, const KillTrial& trial, int repetitions) {
  KillFigures figures;
  for (int repetition = 0; repetition < repetitions; ++repetition) runOneTrial(mesh, trial, repetition, figures);
  return figures;
}

void reportKillFigures(const std::string& name, const KillFigures& figures) {
  const Percentiles single = percentiles(figures.single_homed_gap_ms);
  const Percentiles dual = percentiles(figures.dual_homed_gap_ms);
  const Percentiles connect = percentiles(figures.connect_ms);
  WARN(name << ": longest gap, single-homed " << describe(single) << " (target <= " << kReceiveAgainMs
            << " ms); dual-homed " << describe(dual) << "; connect " << describe(connect) << " (global connect "
            << kGlobalConnectMs << " ms)");
  CHECK(single.p99 <= kReceiveAgainMs);
}

}  // namespace overline::localmesh::testing
