// overline-demo: runs a 6-relay, 3-region, dual-line mesh on this machine's
// loopback range with one publisher and subscribers on three other edges,
// prints live per-subscriber figures, and ends with a summary table. Every
// relay-to-relay packet crosses an overline-impair switchboard, which gives
// each region pair its real-world one-way delay (kRegionDelays; off with
// --no-geo-delay), and the tools reach their edges through it with a last
// mile of kAccessDelayMs. Halfway through, the line the publisher's edge is
// sending on fails (unless --no-line-failure) and the relays move to their
// other line. --kill-edge instead SIGKILLs the publisher's edge relay, a
// subscriber's, or both in turn, mid-stream, and prints per subscriber its
// connect time, longest gap, loss and edges (edge_kill.h). An
// overline-controller computes and pushes the routes (--no-controller: static
// shortest-path routes with backups in the relay configs instead); the demo
// prints the route-table version the relays apply and whether they are
// connected to it. It stops by itself after --duration-s (or on Ctrl-C) and
// leaves no process behind. With --prometheus a real Prometheus scrapes every
// relay and the controller (deploy/prometheus/alerts.yml evaluated) while the
// demo runs; --hold-s keeps everything up that long after the summary.

#include <chrono>
#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cmath>
#include <filesystem>
#include <map>
#include <optional>
#include <thread>

#include <CLI/CLI.hpp>

#include "common/stream_id_text.h"
#include "deploy/localmesh/edge_kill.h"
#include "deploy/localmesh/local_mesh.h"
#include "deploy/localmesh/prometheus_server.h"

namespace ol = overline;
namespace lm = overline::localmesh;
using namespace std::chrono_literals;

namespace {

volatile std::sig_atomic_t g_interrupted = 0;  // set by SIGINT/SIGTERM only
void onInterrupt(int) { g_interrupted = 1; }

constexpr ol::NodeId kPublisherEdge = 1;
const std::vector<ol::NodeId> kSubscriberEdges = {2, 4, 6};
// --kill-edge without a controller: each tool's edge and its failover
// candidate, the other relay of the same region.
const std::vector<ol::NodeId> kPublisherCandidates = {1, 2};
struct RegionEdges {
  const char* region;
  std::vector<ol::NodeId> candidates;
};
const std::vector<RegionEdges> kSubscriberRegions = {{"eu", {2, 1}}, {"us", {4, 3}}, {"ap", {6, 5}}};

// The SDK tools of a run: one publisher, one subscriber per region.
struct Clients {
  std::optional<lm::PublisherProcess> publisher;
  ol::StreamId stream = 0;
  std::vector<lm::SubscriberProcess> subscribers;
  // --kill-edge: subscribers join the running stream, so what they miss
  // counts from their first packet, and each has a connect time (its start
  // to its first packet; unset when none came).
  bool joined_running_stream = false;
  std::vector<std::optional<double>> connect_ms;
};

// The default run: subscribers on relays 2, 4 and 6 join first, and the
// publisher on relay 1 starts once the subscription tree is complete, so
// every packet can reach every subscriber (--fail-on-loss). Prints what
// failed.
std::optional<Clients> startFixedClients(lm::LocalMesh& mesh, const lm::PublisherOptions& pub) {
  Clients clients;
  clients.stream = ol::makeStreamId(kPublisherEdge, pub.local_id);
  for (ol::NodeId edge : kSubscriberEdges) {
    lm::SubscriberOptions sub;
    sub.idle_exit_ms = 2000;  // ends by itself once the publisher stops
    auto s = mesh.startSubscriber(edge, clients.stream, sub);
    if (!s || !s.value().waitJoined(5s)) {
      std::fprintf(stderr, "overline-demo: subscriber on relay %u failed to join\n", edge);
      return std::nullopt;
    }
    clients.subscribers.push_back(std::move(s.value()));
  }
  if (auto err = mesh.waitForTree(kSubscriberEdges, kPublisherEdge, 5s); !err.empty()) {
    std::fprintf(stderr, "overline-demo: subscription tree incomplete: %s\n", err.c_str());
    return std::nullopt;
  }
  std::printf("== stream %s: publisher on relay %u, subscribers on relays 2 (eu), 4 (us), 6 (ap)\n",
              ol::formatStreamId(clients.stream).c_str(), kPublisherEdge);
  auto publisher = mesh.startPublisher(kPublisherEdge, pub);
  if (!publisher || !publisher.value().waitJoined(5s)) {
    std::fprintf(stderr, "overline-demo: publisher failed to join relay %u\n", kPublisherEdge);
    return std::nullopt;
  }
  clients.publisher.emplace(std::move(publisher.value()));
  clients.connect_ms.resize(clients.subscribers.size());
  return clients;
}

// --kill-edge: the publisher first (region eu), then one subscriber per
// region joining the running stream, each timed from its start to its
// first packet. With a controller (`allocate`) every tool takes the
// candidates of the controller's edge allocation for its region; without,
// its region's relays (kPublisherCandidates, kSubscriberRegions). Their
// edges come from their "joined" lines. Prints what failed.
std::optional<Clients> startClientsForKills(lm::LocalMesh& mesh, const lm::PublisherOptions& pub, bool allocate) {
  Clients clients;
  clients.joined_running_stream = true;
  auto publisher = mesh.startPublisher(
      allocate ? lm::EdgeSelection::allocated("eu") : lm::EdgeSelection::given(kPublisherCandidates), pub);
  const auto stream = publisher ? publisher.value().waitJoined(10s) : std::nullopt;
  if (!stream) {
    std::fprintf(stderr, "overline-demo: the publisher failed to join an edge%s\n",
                 publisher ? " (its stderr: client-*-publish.log in the work dir; keep it with --keep-dir)"
                           : (": " + publisher.error()).c_str());
    return std::nullopt;
  }
  clients.stream = *stream;
  clients.publisher.emplace(std::move(publisher.value()));
  std::printf("== stream %s: publisher on relay %u (region eu)\n", ol::formatStreamId(clients.stream).c_str(),
              clients.publisher->edges().firstEdge());
  for (const auto& [region, candidates] : kSubscriberRegions) {
    lm::SubscriberOptions sub;
    sub.idle_exit_ms = 2000;      // ends by itself once the publisher stops
    sub.report_interval_ms = 20;  // the connect time is read off the first line that counts a packet
    const auto edges = allocate ? lm::EdgeSelection::allocated(region) : lm::EdgeSelection::given(candidates);
    auto s = mesh.startSubscriber(edges, clients.stream, sub);
    if (!s) {
      std::fprintf(stderr, "overline-demo: subscriber in %s: %s\n", region, s.error().c_str());
      return std::nullopt;
    }
    const auto connect = s.value().waitFirstPacket(10s);
    if (s.value().edges().joined.empty()) {
      std::fprintf(stderr,
                   "overline-demo: the subscriber in %s failed to join an edge (its stderr: client-*-subscribe.log "
                   "in the work dir; keep it with --keep-dir)\n",
                   region);
      return std::nullopt;
    }
    std::printf("== subscriber in %s joined relay %u, first packet %s\n", region, s.value().edges().firstEdge(),
                connect ? (std::to_string(std::lround(connect->count())) + " ms after its start").c_str()
                        : "not within 10 s");
    clients.connect_ms.push_back(connect ? std::optional<double>(connect->count()) : std::nullopt);
    clients.subscribers.push_back(std::move(s.value()));
  }
  return clients;
}

// Packets of the `sent` published that the subscriber never got: from its
// first one when it joined a running stream (every one when it got none),
// else from the stream's start.
std::uint64_t missingOf(std::uint64_t sent, const lm::SubscriberFigures& f, bool joined_running_stream) {
  const std::uint64_t skipped = joined_running_stream && f.first_seq ? *f.first_seq : 0;
  const std::uint64_t expected = sent - std::min<std::uint64_t>(sent, skipped);
  return expected > f.unique ? expected - f.unique : 0;
}

// --kill-edge's closing table: per subscriber its connect time, edges,
// longest gap, loss and whether it received after the kills.
void printKillResults(const Clients& clients, const std::vector<lm::SubscriberFigures>& finals, std::uint64_t sent,
                      const lm::EdgeKiller& killer) {
  std::printf("\n== after the kills: publisher on relays %s\n", clients.publisher->edges().describe().c_str());
  std::printf("%-10s %10s %-12s %10s %8s  %s\n", "subscriber", "connect ms", "edges", "max gap ms", "lost",
              "received after the kills");
  for (std::size_t i = 0; i < clients.subscribers.size(); ++i) {
    const auto& f = finals[i];
    const auto after = killer.receivedAfterKills(i, f);
    const auto& connect = clients.connect_ms[i];
    std::printf("%-10s %10s %-12s %10.1f %8llu  %s\n", clients.subscribers[i].label().c_str(),
                connect ? std::to_string(std::lround(*connect)).c_str() : "-",
                clients.subscribers[i].edges().describe().c_str(), f.max_gap_ms,
                static_cast<unsigned long long>(missingOf(sent, f, clients.joined_running_stream)),
                after ? (*after ? "yes" : "no") : "unknown (the stream ended within a second of the last kill)");
  }
}

// "one way eu-us 40 ms, ...": the delays the switchboard adds (kRegionDelays).
std::string describeGeoDelays() {
  std::string text = "one way";
  for (const auto& entry : lm::kRegionDelays) {
    if (entry.a != entry.b) {
      text += " " + std::string(entry.a) + "-" + std::string(entry.b) + " " + std::to_string(entry.one_way_ms) + " ms,";
    }
  }
  return text + " " + std::to_string(*lm::regionDelayMs("eu", "eu")) +
         " ms within a region; the tools reach their edges through it too, " + std::to_string(lm::kAccessDelayMs) +
         " ms each way";
}

void printRelays(lm::LocalMesh& mesh) {
  std::printf("%-6s %-7s %-44s %s\n", "relay", "region", "lines", "metrics");
  for (const auto& node : mesh.spec().nodes) {
    auto& relay = mesh.relay(node.id);
    std::string lines;
    for (const auto& l : relay.lines) lines += (lines.empty() ? "" : ", ") + l.toString();
    std::printf("%-6u %-7s %-44s %s\n", node.id, node.region.c_str(), lines.c_str(),
                relay.metrics_url.c_str());
  }
}

void printFiguresHeader() {
  std::printf("%7s  %-10s %9s %9s %6s %6s %8s %8s %8s %9s %10s\n", "t(s)", "subscriber", "received",
              "missing", "dup", "reord", "p50 ms", "p99 ms", "max ms", "jitter ms", "max_gap_ms");
}

void printFigures(const std::string& label, const lm::SubscriberFigures& f, std::uint64_t missing) {
  std::printf("%7.1f  %-10s %9llu %9llu %6llu %6llu %8.2f %8.2f %8.2f %9.3f %10.1f\n", f.elapsed_s,
              label.c_str(), static_cast<unsigned long long>(f.received),
              static_cast<unsigned long long>(missing), static_cast<unsigned long long>(f.duplicates),
              static_cast<unsigned long long>(f.reordered), f.p50_ms, f.p99_ms, f.max_ms, f.jitter_ms,
              f.max_gap_ms);
}

void printController(lm::LocalMesh& mesh) {
  const auto* controller = mesh.controller();
  std::printf("== controller: relays at %s, admin at %s, edge at %s (mutual TLS; PKI in %s)\n"
              "   metrics %s, store and log in %s/controller\n",
              controller->ports.relays.toString().c_str(), controller->ports.admin.toString().c_str(),
              controller->ports.edge.toString().c_str(), controller->pki_dir.c_str(), controller->metrics_url.c_str(),
              mesh.workDir().c_str());
}

// Prometheus on a free port with its config, data and log in
// <work dir>/prometheus, scraping every relay and the controller each second
// (job names as in deploy/prometheus/prometheus.yml, so the alert rules of
// deploy/prometheus/alerts.yml apply). Prints where it is and what to ask.
ol::Result<std::unique_ptr<lm::PrometheusServer>, std::string> startPrometheus(lm::LocalMesh& mesh) {
  lm::PrometheusOptions options;
  options.dir = mesh.workDir() + "/prometheus";
  options.rule_files = {std::string(OVERLINE_SOURCE_DIR) + "/deploy/prometheus/alerts.yml"};
  auto started = lm::PrometheusServer::start(lm::meshScrapeTargets(mesh), options);
  if (!started) return started;
  const std::string& url = started.value()->url();
  std::printf("== prometheus at %s (config, data and log in %s)\n", url.c_str(), options.dir.c_str());
  std::printf("== e.g. %s/graph?g0.expr=%s\n", url.c_str(),
              lm::urlEncode("sum by (node) (rate(overline_relay_data_packets_forwarded_total[10s]))").c_str());
  return started;
}

// What the relays say about the controller: which route-table version each
// applies and whether its session is up. Prints a line whenever that changes.
class RouteWatch {
 public:
  explicit RouteWatch(lm::LocalMesh& mesh) : mesh_(mesh) {}

  // Scrapes every relay; prints "relays apply route version ..." when any
  // relay's version or connection changed since the last call.
  void poll(const std::string& when) {
    std::map<ol::NodeId, std::pair<double, bool>> state;  // version, connected
    for (const auto& node : mesh_.spec().nodes) {
      if (auto m = mesh_.scrape(node.id)) {
        state[node.id] = {lm::valueOf(*m, "overline_relay_route_table_version").value_or(0),
                          lm::valueOf(*m, "overline_relay_controller_connected").value_or(0) == 1};
      }
    }
    if (state == last_) return;
    last_ = state;
    std::string versions;
    std::string disconnected;
    for (const auto& [id, s] : state) {
      versions += (versions.empty() ? "" : ", ") + std::to_string(id) + ":v" + std::to_string(std::llround(s.first));
      if (!s.second) disconnected += (disconnected.empty() ? "" : ", ") + std::to_string(id);
    }
    std::printf("== %srelays apply route tables (relay:version) %s; %s\n", when.c_str(), versions.c_str(),
                disconnected.empty() ? "every relay is connected to the controller"
                                     : ("not connected to the controller: " + disconnected).c_str());
  }

 private:
  lm::LocalMesh& mesh_;
  std::map<ol::NodeId, std::pair<double, bool>> last_;
};

// The moment a line fails: halfway through the stream, the line the
// publisher's edge sends most on (its sent count grew most since the
// previous scrape, a second earlier) goes down in the switchboard.
class LineFailure {
 public:
  LineFailure(lm::LocalMesh& mesh, double at_s) : mesh_(mesh), at_s_(at_s) {}

  // Call about once a second with the seconds since the publisher started;
  // the line fails at the first call from half a second before at_s on.
  void poll(double elapsed_s) {
    if (done_) return;
    auto samples = mesh_.scrape(kPublisherEdge);
    if (!samples) return;
    if (previous_ && elapsed_s + 0.5 >= at_s_) {
      int busiest = 0;
      double most = -1;
      for (int line = 0; line < mesh_.spec().lines_per_node; ++line) {
        const double grew = lm::linePacketsSent(*samples, line) - lm::linePacketsSent(*previous_, line);
        if (grew > most) {
          busiest = line;
          most = grew;
        }
      }
      const std::string name = lm::lineName(kPublisherEdge, busiest);
      std::printf("== t=%.0fs: line %s fails (relay %u line %d down)\n", elapsed_s, name.c_str(), kPublisherEdge,
                  busiest);
      if (const auto error = mesh_.impair("line-down " + name); !error.empty()) {
        std::printf("== the switchboard refused: %s\n", error.c_str());
      }
      done_ = true;
    }
    previous_ = std::move(samples);
  }
  // True once the line was taken down.
  bool fired() const { return done_; }

 private:
  lm::LocalMesh& mesh_;
  double at_s_;
  std::optional<lm::MetricSamples> previous_;
  bool done_ = false;
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Overline local mesh demo: 6 relays, 3 regions, 2 lines each, 1 publisher, 3 subscribers"};
  double duration_s = 20;
  int bitrate_kbps = 2000;
  int packet_bytes = 1000;
  int fps = 30;
  std::string keep_dir;
  bool fail_on_loss = false;
  bool no_line_failure = false;
  bool no_controller = false;
  bool with_prometheus = false;
  bool no_geo_delay = false;
  std::string kill_edge;
  double hold_s = 0;
  app.add_option("--duration-s", duration_s, "how long the publisher sends")->check(CLI::Range(1.0, 3600.0));
  app.add_option("--bitrate-kbps", bitrate_kbps, "publisher bitrate")->check(CLI::Range(16, 200000));
  app.add_option("--packet-bytes", packet_bytes, "media payload bytes per packet")->check(CLI::Range(1, 1200));
  app.add_option("--fps", fps, "publisher frame rate")->check(CLI::Range(1, 240));
  app.add_option("--keep-dir", keep_dir, "write configs and logs here and keep them (default: temp dir, removed)");
  app.add_flag("--fail-on-loss", fail_on_loss, "exit 1 if any subscriber misses or duplicates a packet");
  app.add_flag("--no-line-failure", no_line_failure, "keep every line up (no line fails halfway through)");
  app.add_flag("--no-geo-delay", no_geo_delay,
               "no switchboard delays: relays and clients talk over bare loopback instead of with the one-way "
               "delays of their regions and a last mile");
  app.add_option("--kill-edge", kill_edge,
                 "SIGKILL the publisher's edge relay, a subscriber's, or both in turn, mid-stream (instead of the "
                 "line failure), and print per subscriber its connect time, gap, loss and edges")
      ->check(CLI::IsMember({"publisher", "subscriber", "both"}));
  app.add_flag("--no-controller", no_controller,
               "static routes in the relay configs instead of an overline-controller pushing them");
  app.add_flag("--prometheus", with_prometheus,
               "run a Prometheus (/usr/bin/prometheus) scraping every relay and the controller");
  app.add_option("--hold-s", hold_s, "keep the mesh (and Prometheus) running this long after the summary")
      ->check(CLI::Range(0.0, 86400.0));
  CLI11_PARSE(app, argc, argv);
  std::vector<lm::EdgeKill> kills;
  if (kill_edge == "publisher" || kill_edge == "both") kills.push_back(lm::EdgeKill::kPublisher);
  if (kill_edge == "subscriber" || kill_edge == "both") kills.push_back(lm::EdgeKill::kSubscriber);
  // Each kill needs a second to settle and a second of stream after it.
  if (!kills.empty() && duration_s < 6) {
    char problem[64];
    std::snprintf(problem, sizeof problem, "needs --duration-s 6 or more, got %g", duration_s);
    return app.exit(CLI::ValidationError("--kill-edge", problem));
  }

  std::signal(SIGINT, onInterrupt);
  std::signal(SIGTERM, onInterrupt);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);

  lm::LocalMeshOptions options;
  options.bin_dir = lm::executableDir();
  options.work_dir = keep_dir;
  lm::MeshSpec spec = lm::threeRegionMesh();
  spec.impaired = true;  // relays reach each other through the overline-impair switchboard
  spec.geo_delays = !no_geo_delay;
  spec.access_delay_ms = no_geo_delay ? 0 : lm::kAccessDelayMs;
  // Routes, backups included, come from the controller, or are static
  // shortest paths with a backup next hop where the mesh has one.
  spec.with_controller = !no_controller;
  spec.backup_routes = no_controller;
  auto started = lm::LocalMesh::start(spec, options);
  if (!started) {
    std::fprintf(stderr, "overline-demo: %s\n", started.error().c_str());
    return 1;
  }
  auto& mesh = *started.value();
  std::printf("== Overline mesh: %zu relays up (configs and logs in %s)\n", mesh.spec().nodes.size(),
              mesh.workDir().c_str());
  printRelays(mesh);
  std::printf("== every relay-to-relay packet crosses the overline-impair switchboard (impair.log), %s\n",
              spec.geo_delays ? describeGeoDelays().c_str() : "without delays");
  std::optional<RouteWatch> route_watch;
  if (spec.with_controller) {
    printController(mesh);
    route_watch.emplace(mesh);
    route_watch->poll("");
  }
  // Declared after the mesh: stops before the mesh and its work dir go.
  std::unique_ptr<lm::PrometheusServer> prometheus;
  if (with_prometheus) {
    auto started_prometheus = startPrometheus(mesh);
    if (!started_prometheus) {
      std::fprintf(stderr, "overline-demo: --prometheus: %s\n", started_prometheus.error().c_str());
      return 1;
    }
    prometheus = std::move(started_prometheus.value());
  }

  lm::PublisherOptions pub;
  pub.bitrate_kbps = bitrate_kbps;
  pub.packet_bytes = packet_bytes;
  pub.fps = fps;
  pub.duration_s = duration_s;
  auto clients = kills.empty() ? startFixedClients(mesh, pub) : startClientsForKills(mesh, pub, spec.with_controller);
  if (!clients) return 1;
  lm::PublisherProcess& publisher = *clients->publisher;
  std::vector<lm::SubscriberProcess>& subscribers = clients->subscribers;
  const auto published_at = std::chrono::steady_clock::now();
  std::optional<lm::EdgeKiller> killer;
  if (!kills.empty()) {
    // The subscribers joined the running stream: the kills share what is left of it.
    const double left_s =
        duration_s - std::chrono::duration<double>(published_at - publisher.process().startedAt()).count();
    killer.emplace(mesh, kills, left_s);
  }
  std::optional<LineFailure> line_failure;
  if (!no_line_failure && kills.empty()) {
    line_failure.emplace(mesh, duration_s / 2);
    line_failure->poll(0);  // the baseline the first second's growth is measured from
  }
  printFiguresHeader();

  // Live figures until the publisher finishes (or Ctrl-C stops it early).
  std::optional<std::uint64_t> sent;
  bool interrupted_once = false;
  while (!sent) {
    if (g_interrupted && !interrupted_once) {
      std::printf("== interrupted: stopping the publisher\n");
      publisher.process().signal(SIGTERM);
      interrupted_once = true;
    }
    sent = publisher.waitDone(1s);
    for (auto& s : subscribers) {
      if (s.poll() && s.latest() && !sent) printFigures(s.label(), *s.latest(), s.latest()->lost);
    }
    const double elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - published_at).count();
    if (line_failure && !sent && !interrupted_once) line_failure->poll(elapsed_s);
    if (killer && !sent && !interrupted_once) killer->poll(elapsed_s, publisher, subscribers);
    if (route_watch && !sent) {
      char when[32];
      std::snprintf(when, sizeof when, "t=%.0fs: ", elapsed_s);
      route_watch->poll(when);
    }
  }

  std::vector<lm::SubscriberFigures> finals;
  for (auto& s : subscribers) {
    auto summary = s.waitSummary(6s);
    if (!summary) {
      s.process().signal(SIGTERM);
      summary = s.waitSummary(3s);
    }
    finals.push_back(summary.value_or(lm::SubscriberFigures{}));
  }

  double dropped = 0;
  double forwarded = 0;
  double path_switches = 0;
  double failovers = 0;
  for (const auto& node : mesh.spec().nodes) {
    if (auto m = mesh.scrape(node.id)) {
      dropped += lm::sumOf(*m, "overline_relay_dropped_packets_total");
      forwarded += lm::sumOf(*m, "overline_relay_data_packets_forwarded_total");
      path_switches += lm::sumOf(*m, "overline_relay_path_switches_total");
      failovers += lm::sumOf(*m, "overline_relay_failovers_total");
    }
  }

  std::printf("\n== summary: publisher sent %llu packets\n", static_cast<unsigned long long>(*sent));
  printFiguresHeader();
  bool clean = true;
  std::uint64_t most_missing = 0;
  std::uint64_t duplicates = 0;
  double largest_gap_ms = 0;
  for (std::size_t i = 0; i < subscribers.size(); ++i) {
    const auto& f = finals[i];
    const std::uint64_t missing = missingOf(*sent, f, clients->joined_running_stream);
    clean = clean && missing == 0 && f.duplicates == 0;
    most_missing = std::max(most_missing, missing);
    duplicates += f.duplicates;
    largest_gap_ms = std::max(largest_gap_ms, f.max_gap_ms);
    printFigures(subscribers[i].label(), f, missing);
  }
  std::printf("relays: %.0f DATA copies forwarded, %.0f packets dropped (all reasons)\n", forwarded, dropped);
  std::printf("relays: %.0f path switches (link changes toward a neighbour), %.0f failovers (to a backup "
              "next hop)\n",
              path_switches, failovers);
  if (spec.with_controller) {
    double route_version = 0;
    double route_pushes = 0;
    double connected = 0;
    if (auto m = mesh.scrapeController()) {
      route_version = lm::valueOf(*m, "overline_controller_route_version").value_or(0);
      route_pushes = lm::sumOf(*m, "overline_controller_route_pushes_total");
      connected = lm::valueOf(*m, "overline_controller_connected_relays").value_or(0);
    }
    std::printf("controller: route version %.0f, %.0f route table pushes, %.0f of %zu relays connected\n",
                route_version, route_pushes, connected, mesh.spec().nodes.size());
  }
  if (clean) {
    std::printf("== every subscriber got every packet exactly once\n");
  } else if (line_failure && line_failure->fired()) {
    // The expected cost of hot standby: the packets sent while the dead line
    // was being detected (probe down_after) are lost; nothing after.
    std::printf("== the stream kept flowing through the line failure: at most %llu packets missed per "
                "subscriber (largest gap %.1f ms), %llu duplicated\n",
                static_cast<unsigned long long>(most_missing), largest_gap_ms,
                static_cast<unsigned long long>(duplicates));
  } else {
    std::printf("== some packets were missing or duplicated\n");
  }
  if (killer) printKillResults(*clients, finals, *sent, *killer);
  if (hold_s > 0 && !g_interrupted) {
    std::printf("== holding the mesh%s for %.0f s (Ctrl-C ends it)\n", prometheus ? " and Prometheus" : "", hold_s);
    const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(hold_s);
    while (!g_interrupted && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(100ms);
  }
  return (fail_on_loss && !clean) ? 1 : 0;
}
