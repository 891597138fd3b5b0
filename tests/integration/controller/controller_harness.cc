#include "tests/integration/controller/controller_harness.h"

#include <stdlib.h>
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace overline::controller::testing {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

bool waitFor(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

std::string binary(const std::string& name) { return std::string(OVERLINE_BIN_DIR) + "/" + name; }

std::string pkiDir(const TempDir& dir) { return localmesh::pkiDirOf(dir.path()); }

std::unique_ptr<ControllerProcess> ControllerProcess::start(const TempDir& dir, const std::string& extra_yaml,
                                                            Metrics metrics) {
  const std::string config = dir.file("controller.yaml");
  const std::string pki = testing::pkiDir(dir);
  const auto pki_error = localmesh::makePki(OVERLINE_BIN_DIR, pki, dir.file("pki.log"));
  INFO(pki_error.value_or(""));
  REQUIRE_FALSE(pki_error);
  std::ofstream(config) << "listen: {relays: 127.0.0.1:0, admin: 127.0.0.1:0, edge: 127.0.0.1:0}\n"
                        << "tls: {ca_file: " << pki << "/ca.pem, cert_file: " << pki << "/controller.pem, key_file: "
                        << pki << "/controller.key}\n"
                        << "db_path: " << dir.file("db") << "\n"
                        << "token: {key_hex: \"" << kTokenKeyHex << "\"}\n"
                        << "metrics: {listen: " << (metrics == Metrics::kOn ? "127.0.0.1:0" : "\"off\"") << "}\n"
                        << extra_yaml;
  const std::string ready = dir.file("controller.ready.json");
  fs::remove(ready);
  auto controller = std::make_unique<ControllerProcess>();
  std::string error;
  controller->process_ = localmesh::ChildProcess::start(
      {binary("overline-controller"), "--config", config, "--ready-file", ready}, dir.file("controller.log"), &error);
  INFO(error);
  REQUIRE(controller->process_.has_value());
  const bool up = waitFor([&] { return fs::exists(ready) || !controller->process_->running(); }, 10s);
  REQUIRE(up);
  REQUIRE(fs::exists(ready));
  const auto json = nlohmann::json::parse(std::ifstream(ready));
  controller->admin_ = json.at("admin").get<std::string>();
  controller->relays_ = json.at("relays").get<std::string>();
  controller->edge_ = json.at("edge").get<std::string>();
  controller->pki_dir_ = pki;
  if (!json.at("metrics").is_null()) controller->metrics_ = json.at("metrics").get<std::string>();
  return controller;
}

localmesh::MetricSamples ControllerProcess::scrape() const {
  const auto text = localmesh::httpGet("http://" + metrics_ + "/metrics", 2s);
  REQUIRE(text.has_value());
  return localmesh::parsePrometheusText(*text);
}

CtlResult runCtl(const TempDir& dir, const std::string& address, const std::vector<std::string>& args,
                 const std::string& operator_name) {
  std::vector<std::string> argv = {binary("overlinectl"), "--controller", address, "--pki-dir", pkiDir(dir),
                                   "--operator", operator_name};
  argv.insert(argv.end(), args.begin(), args.end());
  const std::string err_path = dir.file("overlinectl.stderr");
  fs::remove(err_path);
  std::string error;
  auto process = localmesh::ChildProcess::start(argv, err_path, &error);
  REQUIRE(process.has_value());
  const auto status = process->waitExit(10s);
  REQUIRE(status.has_value());
  REQUIRE(WIFEXITED(*status));
  CtlResult result;
  result.exit_code = WEXITSTATUS(*status);
  result.out = process->readLines();
  std::stringstream err;
  err << std::ifstream(err_path).rdbuf();
  result.err = err.str();
  return result;
}

}  // namespace overline::controller::testing
