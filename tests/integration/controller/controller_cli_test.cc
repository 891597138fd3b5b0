// The processes' command-line contract: overline-controller's config errors
// and clean stop, overlinectl's exit codes, messages and output.

#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <csignal>
#include <fstream>
#include <sstream>

#include "tests/integration/controller/controller_harness.h"
#include "tests/integration/controller/fake_relay.h"

namespace overline::controller::testing {
namespace {

using namespace std::chrono_literals;

struct Exit {
  int code = -1;
  std::string err;
};

Exit runController(const TempDir& dir, const std::string& yaml) {
  const std::string config = dir.file("bad.yaml");
  std::ofstream(config) << yaml;
  std::string error;
  auto process =
      localmesh::ChildProcess::start({binary("overline-controller"), "--config", config}, dir.file("err"), &error);
  REQUIRE(process.has_value());
  const auto status = process->waitExit(10s);
  REQUIRE(status.has_value());
  REQUIRE(WIFEXITED(*status));
  std::stringstream text;
  text << std::ifstream(dir.file("err")).rdbuf();
  std::remove(dir.file("err").c_str());
  return {WEXITSTATUS(*status), text.str()};
}

// A PKI in `dir` and the `tls:` section naming its controller certificate.
std::string tlsSection(const TempDir& dir) {
  const std::string pki = pkiDir(dir);
  REQUIRE_FALSE(localmesh::makePki(OVERLINE_BIN_DIR, pki, dir.file("pki.log")));
  return "tls: {ca_file: " + pki + "/ca.pem, cert_file: " + pki + "/controller.pem, key_file: " + pki +
         "/controller.key}\n";
}

TEST_CASE("bad controller configs are rejected with one line naming the key") {
  TempDir dir;
  const std::string tls = tlsSection(dir);
  const std::string pki = pkiDir(dir);
  const std::string token = "token: {key_hex: \"000102030405060708090a0b0c0d0e0f\"}\n" + tls;
  const std::vector<std::pair<std::string, std::string>> cases = {
      {token, "db_path: missing required key"},
      {"db_path: x\n", "token: missing required key"},
      {"db_path: x\ntoken: {key_hex: \"0011\"}\n", "token.key_hex: key too short"},
      {"db_path: x\n" + token + "listen: {admin: \"127.0.0.1\"}\n", "listen.admin: expected IPv4:port"},
      {"db_path: x\ntoken: {key_hex: \"000102030405060708090a0b0c0d0e0f\"}\n",
       "tls: missing required key (the controller's certificate: overlinectl pki)"},
      {"db_path: x\ntoken: {key_hex: \"000102030405060708090a0b0c0d0e0f\"}\ntls: {ca_file: " + pki +
           "/ca.pem, cert_file: " + pki + "/nowhere.pem, key_file: " + pki + "/controller.key}\n",
       "tls.cert_file: " + pki + "/nowhere.pem: cannot read file"},
      {"db_path: x\ntoken: {key_hex: \"000102030405060708090a0b0c0d0e0f\"}\ntls: {ca_file: " + pki +
           "/ca.pem, cert_file: " + pki + "/operator-admin.pem, key_file: " + pki + "/operator-admin.key}\n",
       "tls.cert_file: " + pki + "/operator-admin.pem: names operator admin, not a controller"},
      {"db_path: x\n" + token + "routes: {hysteresis_percent: 101}\n", "routes.hysteresis_percent"},
      {"db_path: x\n" + token + "bogus: 1\n", "bogus: unknown key"},
  };
  for (const auto& [yaml, expected] : cases) {
    INFO(yaml);
    const Exit exit = runController(dir, yaml);
    CHECK(exit.code == 2);
    CHECK(exit.err.find(expected) != std::string::npos);
    CHECK(exit.err.starts_with("overline-controller: " + dir.file("bad.yaml") + ": "));
    CHECK(std::count(exit.err.begin(), exit.err.end(), '\n') == 1);
  }
}

TEST_CASE("a store that cannot be opened stops the start with exit 1") {
  TempDir dir;
  std::ofstream(dir.file("file")) << "x";
  const Exit exit = runController(dir, "db_path: " + dir.file("file") +
                                           "\ntoken: {key_hex: \"000102030405060708090a0b0c0d0e0f\"}\n" +
                                           tlsSection(dir));
  CHECK(exit.code == 1);
  CHECK(exit.err.find("store: cannot open") != std::string::npos);
}

TEST_CASE("SIGTERM stops the controller cleanly with sessions and followers attached") {
  TempDir dir;
  auto controller = ControllerProcess::start(dir);
  REQUIRE(runCtl(dir, controller->adminAddress(),
                 {"provision", "1", "--region", "eu", "--line", "a=127.0.1.1:4001", "--capacity", "1G"})
              .exit_code == 0);
  FakeRelay relay(*controller, 1, "eu", 1);
  REQUIRE(relay.hello().accepted());
  std::string error;
  auto follower = localmesh::ChildProcess::start(
      {binary("overlinectl"), "--controller", controller->adminAddress(), "--pki-dir", pkiDir(dir), "events",
       "--follow"},
      dir.file("follow.err"),
      &error);
  REQUIRE(follower.has_value());
  const auto first = follower->nextLine(5s);
  REQUIRE(first);
  CHECK(first->find("KEYS_ROTATED") != std::string::npos);  // the first key epoch
  const auto second = follower->nextLine(5s);
  REQUIRE(second);
  CHECK(second->find("NODE_PROVISIONED node 1") != std::string::npos);

  controller->process().signal(SIGTERM);
  const auto status = controller->process().waitExit(10s);
  REQUIRE(status.has_value());
  REQUIRE(WIFEXITED(*status));
  CHECK(WEXITSTATUS(*status) == 0);
  const auto end = relay.waitForEnd(5s);
  REQUIRE(end);
  CHECK(end->error_code() == grpc::StatusCode::UNAVAILABLE);
  CHECK(follower->waitExit(5s).has_value());
}

TEST_CASE("overlinectl: clear errors and exit codes") {
  TempDir dir;
  auto controller = ControllerProcess::start(dir);
  const std::string& address = controller->adminAddress();

  auto result = runCtl(dir, address, {"drain", "7"});
  CHECK(result.exit_code == 1);
  CHECK(result.err == "overlinectl: node 7 is not provisioned\n");
  // An operator without certificate files: one line naming the file, exit 2.
  result = runCtl(dir, address, {"nodes"}, "nobody");
  CHECK(result.exit_code == 2);
  CHECK(result.err == "overlinectl: " + pkiDir(dir) + "/operator-nobody.pem: cannot read file: No such file or directory\n");
  result = runCtl(dir, address, {"remove", "7"});
  CHECK(result.exit_code == 1);
  CHECK(result.err == "overlinectl: node 7 is not provisioned\n");
  result = runCtl(dir, address, {"path", "7", "8"});
  CHECK(result.exit_code == 1);

  result = runCtl(dir, address, {"provision", "1", "--region", "eu", "--line", "a=nowhere", "--capacity", "1G"});
  CHECK(result.exit_code == 2);
  CHECK(result.err == "overlinectl: --line \"a=nowhere\": expected NAME=IPv4:PORT[,isp=TAG]\n");
  result = runCtl(dir, address, {"provision", "1", "--region", "e u", "--line", "a=1.2.3.4:5", "--capacity", "1G"});
  CHECK(result.exit_code == 2);
  CHECK(result.err == "overlinectl: region: \"e u\" must be 1..64 characters of [A-Za-z0-9_.-]\n");
  CHECK(runCtl(dir, address, {"drain", "0"}).exit_code == 2);
  CHECK(runCtl(dir, address, {"drain"}).exit_code == 2);
  CHECK(runCtl(dir, address, {}).exit_code == 2);
  CHECK(runCtl(dir, address, {"frobnicate"}).exit_code == 2);

  result = runCtl(dir, "127.0.0.1:1", {"nodes"});
  CHECK(result.exit_code == 1);
  CHECK(result.err.starts_with("overlinectl: controller at 127.0.0.1:1: "));
}

TEST_CASE("overlinectl: tables for people, one JSON event per line for scripts") {
  TempDir dir;
  auto controller = ControllerProcess::start(dir);
  const std::string& address = controller->adminAddress();
  auto result = runCtl(dir, address,
                       {"provision", "1", "--region", "eu", "--line", "a=127.0.1.1:4001,isp=x", "--capacity", "1G"});
  REQUIRE(result.exit_code == 0);
  result = runCtl(dir, address,
                  {"provision", "1", "--region", "eu", "--line", "a=127.0.1.1:4001,isp=y", "--capacity", "1G"});
  REQUIRE(result.exit_code == 0);
  CHECK(result.out == std::vector<std::string>{"node 1 updated"});
  result = runCtl(dir, address, {"undrain", "1"});
  CHECK(result.out == std::vector<std::string>{"node 1 was already undrained"});

  result = runCtl(dir, address, {"nodes"});
  REQUIRE(result.exit_code == 0);
  REQUIRE(result.out.size() == 2);
  CHECK(result.out[0].starts_with("NODE  REGION  CONNECTED  DRAINED"));
  CHECK(result.out[1].starts_with("1     eu      no         no"));
  CHECK(result.out[1].find("a=127.0.1.1:4001(y)") != std::string::npos);

  result = runCtl(dir, address, {"links"});
  REQUIRE(result.exit_code == 0);
  CHECK(result.out.size() == 1);  // header only

  // #1 is the controller's first key epoch.
  result = runCtl(dir, address, {"events", "--from", "3"});
  REQUIRE(result.exit_code == 0);
  REQUIRE(result.out.size() == 1);
  CHECK(result.out[0].starts_with("#3 "));
  CHECK(result.out[0].find("NODE_PROVISIONED node 1: updated: region eu") != std::string::npos);

  result = runCtl(dir, address, {"events", "--json"});
  REQUIRE(result.out.size() == 3);
  CHECK(result.out[0].starts_with("{\"sequence\":\"1\""));

  result = runCtl(dir, address, {"remove", "1"});
  CHECK(result.out == std::vector<std::string>{"node 1 removed"});
}

}  // namespace
}  // namespace overline::controller::testing
