// The metrics the deployment artifacts depend on, against a live mesh with a
// controller (the demo's six relays, tests/integration/controller_mesh):
//  - `promtool check metrics` accepts every relay's and the controller's
//    /metrics (promtool as found at configure time, OVERLINE_PROMTOOL;
//    without it the test is skipped);
//  - every metric name deploy/prometheus/alerts.yml and
//    deploy/grafana/overline-dashboard.json use is exposed, so the alerts and
//    the dashboard cannot drift from the code.

#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <sys/wait.h>

#include "tests/integration/controller_mesh/controller_mesh_fixture.h"
#include "tests/test_skip.h"

namespace overline::localmesh::testing {
namespace {

using namespace std::chrono_literals;

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  REQUIRE(in.good());
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Histogram series names back to the metric's name.
std::string baseName(std::string name) {
  for (const std::string suffix : {"_bucket", "_sum", "_count"}) {
    if (name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
      return name.substr(0, name.size() - suffix.size());
    }
  }
  return name;
}

// Every `overline_...` metric name in `text`, histogram suffixes stripped.
std::set<std::string> metricNamesIn(const std::string& text) {
  static const std::regex kName("overline_[a-z_]+");
  std::set<std::string> names;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), kName); it != std::sregex_iterator(); ++it) {
    names.insert(baseName(it->str()));
  }
  return names;
}

// Exposed names of one scrape: sample keys up to their labels.
void addExposedNames(const MetricSamples& samples, std::set<std::string>& names) {
  for (const auto& [key, value] : samples) names.insert(baseName(key.substr(0, key.find('{'))));
}

struct CommandResult {
  int status = -1;  // exit status, -1 if it did not exit normally
  std::string output;
};

// Runs `command` through the shell, stdout and stderr captured.
CommandResult run(const std::string& command) {
  CommandResult result;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  REQUIRE(pipe != nullptr);
  char buffer[4096];
  while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) result.output += buffer;
  const int status = pclose(pipe);
  if (WIFEXITED(status)) result.status = WEXITSTATUS(status);
  return result;
}

// `promtool check metrics` over the text `url` serves (via a file in
// `work_dir`, promtool reads stdin); fails the test unless it exits 0.
void checkWithPromtool(const std::string& url, const std::string& work_dir, const std::string& what) {
  const auto text = httpGet(url, 5s);
  INFO(what << " " << url);
  REQUIRE(text.has_value());
  const std::string path = work_dir + "/promtool-input.txt";
  {
    std::ofstream out(path);
    out << *text;
  }
  const auto result = run(std::string(OVERLINE_PROMTOOL) + " check metrics < " + path);
  INFO("promtool check metrics:\n" << result.output);
  CHECK(result.status == 0);
}

}  // namespace

TEST_CASE("the mesh's /metrics pass promtool and cover every name the alerts and the dashboard use") {
  if (std::string(OVERLINE_PROMTOOL).empty()) {
    overline::test::skipTest("promtool not found at configure time (apt-get install prometheus)");
  }
  auto mesh = startControllerMesh();

  std::set<std::string> exposed;
  for (const auto& node : mesh->spec().nodes) {
    const auto samples = mesh->scrape(node.id);
    REQUIRE(samples.has_value());
    addExposedNames(*samples, exposed);
  }
  const auto controller_samples = mesh->scrapeController();
  REQUIRE(controller_samples.has_value());
  addExposedNames(*controller_samples, exposed);

  const std::string source_dir = OVERLINE_SOURCE_DIR;
  for (const std::string file : {"deploy/prometheus/alerts.yml", "deploy/grafana/overline-dashboard.json"}) {
    const auto used = metricNamesIn(readFile(source_dir + "/" + file));
    INFO(file);
    CHECK(!used.empty());
    for (const auto& name : used) {
      INFO(name << " is not exposed by any relay or the controller");
      CHECK(exposed.count(name) == 1);
    }
  }

  for (const auto& node : mesh->spec().nodes) {
    checkWithPromtool(mesh->relay(node.id).metrics_url, mesh->workDir(), "relay " + std::to_string(node.id));
  }
  REQUIRE(mesh->controller() != nullptr);
  checkWithPromtool(mesh->controller()->metrics_url, mesh->workDir(), "controller");
}

}  // namespace overline::localmesh::testing
