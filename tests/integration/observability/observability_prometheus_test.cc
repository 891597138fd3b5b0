// A real Prometheus (OVERLINE_PROMETHEUS, Debian's /usr/bin/prometheus)
// scraping a live mesh with a controller every second, queried through its
// HTTP API: link RTT series exist for every probed link with loopback
// values, deploy/prometheus/alerts.yml evaluates without errors on real
// series, and a line cut shows up as path switches. Prometheus runs on
// 127.0.0.1 at a free port with its config and storage in a temp dir; both
// go away at the end of the test, also on failure.

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

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

// A TCP port on 127.0.0.1 that was free when asked (the kernel's pick).
int freeTcpPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof addr;
  const bool ok = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
                  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length) == 0;
  close(fd);
  REQUIRE(ok);
  return ntohs(addr.sin_port);
}

// "127.0.0.1:PORT" of "http://127.0.0.1:PORT/metrics".
std::string hostPort(const std::string& metrics_url) {
  const std::string scheme = "http://";
  REQUIRE(metrics_url.rfind(scheme, 0) == 0);
  return metrics_url.substr(scheme.size(), metrics_url.find('/', scheme.size()) - scheme.size());
}

std::string urlEncode(const std::string& text) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (const unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// One instant-vector sample of a query result.
struct Sample {
  std::map<std::string, std::string> labels;
  double value = 0;
};

class PrometheusServer {
 public:
  // Writes a config scraping every relay (label node="<id>") and the
  // controller every second, evaluating deploy/prometheus/alerts.yml, and
  // starts Prometheus on it; waits for /-/ready.
  PrometheusServer(LocalMesh& mesh, const std::string& dir) : port_(freeTcpPort()) {
    std::ofstream config(dir + "/prometheus.yml");
    config << "global:\n  scrape_interval: 1s\n  scrape_timeout: 900ms\n  evaluation_interval: 1s\n"
           << "rule_files: [\"" << OVERLINE_SOURCE_DIR << "/deploy/prometheus/alerts.yml\"]\n"
           << "scrape_configs:\n  - job_name: overline-relay\n    static_configs:\n";
    for (const auto& node : mesh.spec().nodes) {
      config << "      - targets: [\"" << hostPort(mesh.relay(node.id).metrics_url) << "\"]\n"
             << "        labels: {node: \"" << node.id << "\"}\n";
    }
    REQUIRE(mesh.controller() != nullptr);
    config << "  - job_name: overline-controller\n    static_configs:\n"
           << "      - targets: [\"" << hostPort(mesh.controller()->metrics_url) << "\"]\n";
    config.close();
    base_url_ = "http://127.0.0.1:" + std::to_string(port_);
    std::string error;
    process_ = ChildProcess::start({OVERLINE_PROMETHEUS, "--config.file=" + dir + "/prometheus.yml",
                                    "--storage.tsdb.path=" + dir + "/data",
                                    "--web.listen-address=127.0.0.1:" + std::to_string(port_),
                                    "--log.level=warn"},
                                   dir + "/prometheus.log", &error);
    INFO(error);
    REQUIRE(process_.has_value());
    log_path_ = dir + "/prometheus.log";
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (!httpGet(base_url_ + "/-/ready", 1s)) {
      INFO("prometheus not ready:\n" << logTail());
      REQUIRE(process_->running());
      REQUIRE(std::chrono::steady_clock::now() < deadline);
      std::this_thread::sleep_for(100ms);
    }
  }

  // GET of an API path; its "data", or nullopt unless "status" is "success".
  std::optional<Json> api(const std::string& path_and_query) {
    const auto body = httpGet(base_url_ + path_and_query, 5s);
    if (!body) return std::nullopt;
    const auto reply = Json::parse(*body, nullptr, false);
    if (reply.is_discarded() || reply.value("status", "") != "success") return std::nullopt;
    return reply["data"];
  }

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

  std::string logTail() const {
    std::ifstream in(log_path_);
    std::string line;
    std::vector<std::string> lines;
    while (std::getline(in, line)) lines.push_back(line);
    std::string tail;
    for (std::size_t i = lines.size() > 20 ? lines.size() - 20 : 0; i < lines.size(); ++i) tail += lines[i] + "\n";
    return tail;
  }

 private:
  int port_;
  std::string base_url_;
  std::string log_path_;
  std::optional<ChildProcess> process_;  // SIGTERM (then SIGKILL) when destroyed
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
  PrometheusServer prometheus(*mesh, dir.path());

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
