// SIGHUP on a real overline-controller: the new log level and route timing
// take effect in the same process, which keeps serving; a key that cannot
// change and a broken file are logged and leave it running as before.

#include <catch2/catch.hpp>

#include <csignal>
#include <fstream>
#include <sstream>

#include "tests/integration/controller/controller_harness.h"

namespace overline::controller::testing {
namespace {

using namespace std::chrono_literals;

const std::string kRouteTiming = "routes: {recompute_interval_ms: 60000, debounce_ms: 10}\n";

std::string readFile(const std::string& path) {
  std::stringstream text;
  text << std::ifstream(path).rdbuf();
  return text.str();
}

void writeFile(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

int countLines(const std::string& path, const std::string& needle) {
  std::ifstream in(path);
  int count = 0;
  for (std::string line; std::getline(in, line);) count += line.find(needle) != std::string::npos ? 1 : 0;
  return count;
}

std::string replaced(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

double computations(ControllerProcess& controller) {
  return localmesh::sumOf(controller.scrape(), "overline_controller_route_computation_seconds_count");
}

void provision(const TempDir& dir, const std::string& address, const std::string& id) {
  const auto result =
      runCtl(dir, address, {"provision", id, "--region", "eu", "--line", "a=127.0." + id + ".1:400" + id, "--capacity", "1G"});
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
}

TEST_CASE("SIGHUP applies log level and route timing in the running controller") {
  TempDir dir;
  auto controller = ControllerProcess::start(dir, "log_level: info\n" + kRouteTiming, ControllerProcess::Metrics::kOn);
  const std::string config_path = dir.file("controller.yaml");
  const std::string log = dir.file("controller.log");
  const pid_t pid = controller->process().pid();

  // At info, a route publication is not logged (it is a debug line).
  provision(dir, controller->adminAddress(), "1");
  REQUIRE(waitFor([&] { return computations(*controller) >= 2; }, 5s));  // start-up + provisioning
  CHECK(countLines(log, "msg=\"routes published\"") == 0);
  // Every 60 s: no periodic computation during this test unless the reload changes it.
  const double before = computations(*controller);

  const std::string original = readFile(config_path);
  std::string changed = replaced(original, "log_level: info", "log_level: debug");
  changed = replaced(changed, "recompute_interval_ms: 60000", "recompute_interval_ms: 100");
  writeFile(config_path, changed);
  controller->process().signal(SIGHUP);
  INFO(readFile(log));
  REQUIRE(waitFor([&] { return countLines(log, "msg=\"config reloaded\"") == 1; }, 5s));
  CHECK(countLines(log, "applied=log_level,routes") == 1);

  // The 100 ms interval: about ten computations a second now.
  REQUIRE(waitFor([&] { return computations(*controller) >= before + 5; }, 5s));
  // Debug lines appear: the next publication is logged.
  provision(dir, controller->adminAddress(), "2");
  REQUIRE(waitFor([&] { return countLines(log, "level=debug") > 0 && countLines(log, "msg=\"routes published\"") > 0; },
                  5s));

  // A key bound at start-up keeps its value, named in a warning.
  writeFile(config_path, replaced(changed, "db_path: " + dir.file("db"), "db_path: " + dir.file("other-db")));
  controller->process().signal(SIGHUP);
  REQUIRE(waitFor([&] { return countLines(log, "msg=\"config reloaded\"") == 2; }, 5s));
  CHECK(countLines(log, "level=warn") >= 1);
  CHECK(countLines(log, "key=db_path") == 1);

  // A broken file: one error line, the controller runs on.
  writeFile(config_path, changed + "bogus_key: 1\n");
  controller->process().signal(SIGHUP);
  REQUIRE(waitFor([&] { return countLines(log, "running on the previous config") == 1; }, 5s));
  CHECK(countLines(log, "bogus_key") == 1);

  // Same process, still serving.
  CHECK(controller->process().running());
  CHECK(controller->process().pid() == pid);
  const auto nodes = runCtl(dir, controller->adminAddress(), {"nodes"});
  CHECK(nodes.exit_code == 0);
  CHECK(nodes.out.size() >= 3);  // header + the two nodes
}

}  // namespace
}  // namespace overline::controller::testing
