// A real Prometheus (OVERLINE_PROMETHEUS, Debian's /usr/bin/prometheus, run
// by deploy/localmesh's PrometheusServer as the demo's --prometheus does)
// scraping a live mesh with a controller every second, queried through its
// HTTP API: link RTT series exist for every probed link with loopback
// values, deploy/prometheus/alerts.yml evaluates without errors on real
// series, and a line cut shows up as path switches. Prometheus runs on
// 127.0.0.1 at a free port with its config and storage in a temp dir; both
// go away at the end of the test, also on failure.

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "deploy/localmesh/prometheus_server.h"
#include "tests/integration/controller_mesh/controller_mesh_fixture.h"

namespace overline::localmesh::testing {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;
using Json = nlohmann::json;

// A fresh directory, removed with everything in it when this goes away.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "overline-prometheus-XXXXXX").string();
    REQUIRE(mkdtemp(pattern.data()) != nullptr);
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// One instant-vector sample of a query result.
struct Sample {
  std::map<std::string, std::string> labels;
  double value = 0;
};

// The shared PrometheusServer (deploy/localmesh) scraping every relay
// (label node="<id>") and the controller every second, evaluating
// deploy/prometheus/alerts.yml, plus instant queries for the checks below.
class PrometheusClient {
 public:
  PrometheusClient(LocalMesh& mesh, const std::string& dir) {
    REQUIRE(mesh.controller() != nullptr);
    PrometheusOptions options;
    options.binary = OVERLINE_PROMETHEUS;
    options.dir = dir;
    options.rule_files = {std::string(OVERLINE_SOURCE_DIR) + "/deploy/prometheus/alerts.yml"};
    auto started = PrometheusServer::start(meshScrapeTargets(mesh), options);
    INFO((started ? std::string() : started.error()));
    REQUIRE(started.ok());
    server_ = std::move(started.value());
  }

  std::optional<Json> api(const std::string& path_and_query) { return server_->api(path_and_query); }

  // Instant query; nullopt when Prometheus did not answer it.
  std::optional<std::vector<Sample>> query(const std::string& promql) {
    const auto data = api("/api/v1/query?query=" + urlEncode(promql));
    if (!data || data->value("resultType", "") != "vector") return std::nullopt;
    std::vector<Sample> samples;
    for (const auto& entry : (*data)["result"]) {
      Sample sample;
      for (const auto& [name, value] : entry["metric"].items()) sample.labels[name] = value.get<std::string>();
      sample.value = std::stod(entry["value"][1].get<std::string>());
      samples.push_back(std::move(sample));
    }
    return samples;
  }

  // Polls `query(promql)` until `predicate` holds on its result, for up to
  // `timeout`; the last result then, or nullopt.
  template <typename Predicate>
  std::optional<std::vector<Sample>> waitFor(const std::string& promql, std::chrono::milliseconds timeout,
                                             Predicate predicate) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      if (auto samples = query(promql); samples && predicate(*samples)) return samples;
      if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
      std::this_thread::sleep_for(200ms);
    }
  }

 private:
  std::unique_ptr<PrometheusServer> server_;  // stopped when the client goes
};

// node/neighbour/local_line/remote_line of a link sample.
std::string linkKey(const std::string& node, const std::map<std::string, std::string>& labels) {
  return node + "/" + labels.at("neighbour") + "/" + labels.at("local_line") + "/" + labels.at("remote_line");
}

// The labels of a sample key as exposed, e.g. `name{a="1",b="x"}`.
std::map<std::string, std::string> labelsOfKey(const std::string& key) {
  std::map<std::string, std::string> labels;
  std::size_t pos = key.find('{');
  while (pos != std::string::npos && pos + 1 < key.size() && key[pos + 1] != '}') {
    const std::size_t eq = key.find("=\"", pos + 1);
    const std::size_t end = key.find('"', eq + 2);
    labels[key.substr(pos + 1, eq - pos - 1)] = key.substr(eq + 2, end - eq - 2);
    pos = key.find(',', end);
  }
  return labels;
}

double sumValues(const std::vector<Sample>& samples) {
  double sum = 0;
  for (const auto& sample : samples) sum += sample.value;
  return sum;
}

}  // namespace

TEST_CASE("Prometheus scraping a live mesh sees link RTTs, evaluates the alerts and records a failover") {
  auto mesh = startControllerMesh();
  // Declared after the mesh and before the server: the server stops first,
  // then its directory goes, then the mesh.
  TempDir dir;
  PrometheusClient prometheus(*mesh, dir.path());

  const std::size_t targets = mesh->spec().nodes.size() + 1;
  REQUIRE(prometheus.waitFor("up == 1", 20s, [&](const auto& s) { return s.size() == targets; }));

  // Every link each relay probes, as its own /metrics lists them.
  std::set<std::string> expected_links;
  for (const auto& node : mesh->spec().nodes) {
    const auto samples = mesh->scrape(node.id);
    REQUIRE(samples.has_value());
    for (const auto& [key, value] : *samples) {
      if (key.rfind("overline_relay_link_rtt_seconds{", 0) == 0) {
        expected_links.insert(linkKey(std::to_string(node.id), labelsOfKey(key)));
      }
    }
  }
  REQUIRE(!expected_links.empty());
  const auto rtts = prometheus.waitFor("overline_relay_link_rtt_seconds", 20s, [&](const auto& samples) {
    std::set<std::string> seen;
    for (const auto& sample : samples) {
      if (sample.value > 0 && sample.value < 1) seen.insert(linkKey(sample.labels.at("node"), sample.labels));
    }
    return seen == expected_links;
  });
  INFO(expected_links.size() << " links expected");
  REQUIRE(rtts.has_value());

  // Every alerting rule evaluated on these series without an error.
  const auto rules_deadline = std::chrono::steady_clock::now() + 20s;
  for (;;) {
    const auto data = prometheus.api("/api/v1/rules");
    REQUIRE(data.has_value());
    int rules = 0;
    std::string unhealthy;
    for (const auto& group : (*data)["groups"]) {
      for (const auto& rule : group["rules"]) {
        ++rules;
        if (rule.value("health", "") != "ok") {
          unhealthy += rule.value("name", "") + ": " + rule.value("health", "") + " " + rule.value("lastError", "") + "\n";
        }
      }
    }
    if (rules > 0 && unhealthy.empty()) break;
    INFO(rules << " rules; not ok:\n" << unhealthy);
    REQUIRE(std::chrono::steady_clock::now() < rules_deadline);
    std::this_thread::sleep_for(200ms);
  }

  // Cut the line relay 1 carries a neighbour's traffic on: relay 1 must move
  // that neighbour to its other line (a path switch). The counters as of
  // now, read from the relays themselves, are at least what Prometheus holds.
  constexpr NodeId kRelay = 1;
  const auto before = mesh->scrape(kRelay);
  REQUIRE(before.has_value());
  std::string active_line;
  for (const auto& [key, value] : *before) {
    if (key.rfind("overline_relay_link_active{", 0) == 0 && value == 1) {
      active_line = labelsOfKey(key).at("local_line");
      break;
    }
  }
  // relayConfigYaml names a relay's lines line0, line1, ...
  REQUIRE(active_line.rfind("line", 0) == 0);
  const int line = std::stoi(active_line.substr(4));
  const double baseline = sumOf(*before, "overline_relay_path_switches_total") +
                          sumOf(*before, "overline_relay_failovers_total");
  REQUIRE(mesh->impair("line-down " + lineName(kRelay, line)) == "");

  const std::string node = "{node=\"" + std::to_string(kRelay) + "\"}";
  const auto changes = prometheus.waitFor(
      "sum(overline_relay_path_switches_total" + node + ") + sum(overline_relay_failovers_total" + node + ")", 20s,
      [&](const auto& samples) { return samples.size() == 1 && samples[0].value > baseline; });
  INFO("relay " << kRelay << " path switches + failovers before the cut: " << baseline);
  REQUIRE(changes.has_value());
  // The mesh-wide view agrees: the total only grows.
  const auto total = prometheus.query("sum(overline_relay_path_switches_total) + sum(overline_relay_failovers_total)");
  REQUIRE(total.has_value());
  REQUIRE(total->size() == 1);
  CHECK(sumValues(*total) >= (*changes)[0].value);
}

}  // namespace overline::localmesh::testing
