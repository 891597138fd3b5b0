// The processes' command-line contract: a bad config gets one clear line
// naming the key and a non-zero exit; SIGTERM stops a relay cleanly with exit
// 0; the SDK tools reject bad flags.

#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "deploy/localmesh/child_process.h"

namespace lm = overline::localmesh;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

struct TempDir {
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "overline-cli-XXXXXX").string();
    path = mkdtemp(pattern.data());
  }
  ~TempDir() { fs::remove_all(path); }
  std::string path;
};

struct RunResult {
  int exit_code = -1;
  std::string stderr_text;
};

RunResult run(const std::vector<std::string>& argv, const TempDir& dir) {
  const std::string err_path = dir.path + "/stderr.txt";
  fs::remove(err_path);
  std::string error;
  auto process = lm::ChildProcess::start(argv, err_path, &error);
  REQUIRE(process.has_value());
  const auto status = process->waitExit(10s);
  REQUIRE(status.has_value());
  REQUIRE(WIFEXITED(*status));
  std::ifstream in(err_path);
  std::stringstream text;
  text << in.rdbuf();
  return {WEXITSTATUS(*status), text.str()};
}

std::string writeConfig(const TempDir& dir, const std::string& yaml) {
  const std::string path = dir.path + "/relay.yaml";
  std::ofstream(path) << yaml;
  return path;
}

const std::string kRelay = std::string(OVERLINE_BIN_DIR) + "/overline-relay";

const std::string kGoodConfig = R"(node_id: 1
region: test
lines:
  - {name: a, bind: "127.0.0.1:0"}
  - {name: b, bind: "127.0.0.1:0"}
neighbours:
  - {node_id: 2, lines: ["127.0.0.1:9", "127.0.0.1:10"]}
metrics: {listen: "127.0.0.1:0"}
auth: {mesh_keys: [{epoch: 1, secret_hex: "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"}]}
)";

}  // namespace

TEST_CASE("bad relay configs are rejected with one line naming the key") {
  TempDir dir;
  struct Case {
    std::string yaml;
    std::string key;
  };
  const std::vector<Case> cases = {
      {"region: x\nlines: [{name: a, bind: \"127.0.0.1:0\"}]\n", "node_id"},
      {"node_id: 1\nregion: x\nlines: [{name: a, bind: \"foo\"}]\n", "lines[0].bind"},
      {"node_id: 1\nregion: x\nlines: [{name: a, bind: \"127.0.0.1:0\"}]\nroutes: [{destination: 4, next_hop: 7}]\n",
       "routes[0].next_hop"},
      {"node_id: 1\nregion: x\nlines: [{name: a, bind: \"127.0.0.1:0\"}]\nneighbours: [{node_id: 2, line: []}]\n",
       "neighbours[0].line"},
      {"node_id: -3\nregion: x\nlines: [{name: a, bind: \"127.0.0.1:0\"}]\n", "node_id"},
      {"node_id: 1\nregion: x\nlines: [{name: a, bind: \"127.0.0.1:0\"}]\nsubscriptions: {refresh_interval_ms: 500, expiry_ms: 100}\n",
       "subscriptions.expiry_ms"},
      {"node_id: 1\nregion: [unclosed\n", "line"},
      // No authentication configured, and no lab mode: refused.
      {"node_id: 1\nregion: x\nlines: [{name: a, bind: \"127.0.0.1:0\"}]\n", "auth: missing"},
      {"node_id: 1\nregion: x\nlines: [{name: a, bind: \"127.0.0.1:0\"}]\n"
       "auth: {mesh_keys: [{epoch: 1, secret_hex: \"0011\"}]}\n",
       "auth.mesh_keys[0].secret_hex"},
  };
  for (const auto& c : cases) {
    INFO("config:\n" << c.yaml);
    const auto result = run({kRelay, "--config", writeConfig(dir, c.yaml)}, dir);
    CHECK(result.exit_code == 2);
    CHECK(result.stderr_text.find(c.key) != std::string::npos);
    CHECK(std::count(result.stderr_text.begin(), result.stderr_text.end(), '\n') == 1);
  }
}

TEST_CASE("a missing config file is a clear error") {
  TempDir dir;
  const auto result = run({kRelay, "--config", dir.path + "/nope.yaml"}, dir);
  CHECK(result.exit_code != 0);
  CHECK(result.stderr_text.find("nope.yaml") != std::string::npos);
}

TEST_CASE("SIGTERM stops a relay cleanly with exit code 0") {
  TempDir dir;
  const std::string ready = dir.path + "/ready.json";
  std::string error;
  auto relay = lm::ChildProcess::start({kRelay, "--config", writeConfig(dir, kGoodConfig), "--ready-file", ready},
                                       dir.path + "/relay.log", &error);
  REQUIRE(relay.has_value());
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!fs::exists(ready) && std::chrono::steady_clock::now() < deadline && relay->running()) {
    std::this_thread::sleep_for(20ms);
  }
  REQUIRE(fs::exists(ready));
  relay->signal(SIGTERM);
  const auto status = relay->waitExit(5s);
  REQUIRE(status.has_value());
  CHECK(WIFEXITED(*status));
  CHECK(WEXITSTATUS(*status) == 0);
}

TEST_CASE("SDK tools reject bad flags") {
  TempDir dir;
  const std::string bin = OVERLINE_BIN_DIR;
  CHECK(run({bin + "/overline-publish", "--edge", "127.0.0.1:9", "--local-id", "1", "--packet-bytes", "5000"}, dir)
            .exit_code != 0);
  CHECK(run({bin + "/overline-publish", "--edge", "not-an-address", "--local-id", "1"}, dir).exit_code != 0);
  CHECK(run({bin + "/overline-subscribe", "--edge", "127.0.0.1:9", "--stream", "0:7"}, dir).exit_code != 0);
  CHECK(run({bin + "/overline-subscribe", "--edge", "127.0.0.1:9", "--stream", "garbage"}, dir).exit_code != 0);
  // Exactly one of --edge and --controller; --region and --isp need --controller.
  CHECK(run({bin + "/overline-subscribe", "--stream", "1:7"}, dir).exit_code == 2);
  CHECK(run({bin + "/overline-publish", "--edge", "127.0.0.1:9", "--controller", "127.0.0.1:10", "--local-id", "1"},
            dir)
            .exit_code == 2);
  CHECK(run({bin + "/overline-subscribe", "--edge", "127.0.0.1:9", "--region", "eu", "--stream", "1:7"}, dir)
            .exit_code == 2);
}
