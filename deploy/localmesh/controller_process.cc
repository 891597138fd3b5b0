#include "deploy/localmesh/controller_process.h"

#include <sys/wait.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>
#include <utility>

namespace overline::localmesh {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

std::string readText(const std::string& path) {
  std::stringstream text;
  text << std::ifstream(path).rdbuf();
  return text.str();
}

// The last non-empty line of `text`, for one-line errors.
std::string lastLine(const std::string& text) {
  std::size_t end = text.find_last_not_of('\n');
  if (end == std::string::npos) return "";
  const std::size_t begin = text.rfind('\n', end);
  return text.substr(begin == std::string::npos ? 0 : begin + 1, end - (begin == std::string::npos ? 0 : begin + 1) + 1);
}

// Runs `argv` to completion (10 s), appending its output to `log`; the
// error names `what` and carries the output's last line.
std::optional<std::string> runTool(const std::vector<std::string>& argv, const std::string& log,
                                   const std::string& what) {
  const std::size_t log_offset = fs::exists(log) ? fs::file_size(log) : 0;
  std::string error;
  auto process = ChildProcess::start(argv, log, &error);
  if (!process) return what + ": " + error;
  const std::optional<int> status = process->waitExit(10s);
  if (!status) return what + ": no answer within 10 s";
  if (!WIFEXITED(*status) || WEXITSTATUS(*status) != 0) {
    return what + " failed: " + lastLine(readText(log).substr(log_offset));
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> makePki(const std::string& bin_dir, const std::string& pki_dir, const std::string& log) {
  if (fs::exists(fs::path(pki_dir) / "operator-viewer.pem")) return std::nullopt;
  const std::string ctl = bin_dir + "/overlinectl";
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"init", "--name", "Overline test CA"}, std::vector<std::string>{"issue-controller"},
        std::vector<std::string>{"issue-operator", "admin"},
        std::vector<std::string>{"issue-operator", "viewer", "--read-only"}}) {
    std::vector<std::string> argv = {ctl, "pki"};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.insert(argv.end(), {"--dir", pki_dir});
    if (auto error = runTool(argv, log, "overlinectl pki " + args.front())) return error;
  }
  return std::nullopt;
}

std::string pkiDirOf(const std::string& work_dir) { return (fs::path(work_dir) / "pki").string(); }

Result<NodeId, std::string> issueRelayCertificate(const std::string& bin_dir, const std::string& pki_dir,
                                                  NodeId node) {
  if (fs::exists(fs::path(pki_dir) / ("relay-" + std::to_string(node) + ".pem"))) return node;
  const std::string log = (fs::path(pki_dir).parent_path() / "overlinectl.log").string();
  if (auto error = runTool({bin_dir + "/overlinectl", "pki", "issue-relay", std::to_string(node), "--dir", pki_dir},
                           log, "overlinectl pki issue-relay " + std::to_string(node))) {
    return Err{*error};
  }
  return node;
}

std::string relayTlsYaml(const std::string& pki_dir, NodeId node) {
  const std::string stem = pki_dir + "/relay-" + std::to_string(node);
  return "  tls: {ca_file: \"" + pki_dir + "/ca.pem\", cert_file: \"" + stem + ".pem\", key_file: \"" + stem +
         ".key\"}\n";
}

std::vector<std::string> overlinectlArgv(const std::string& bin_dir, const std::string& pki_dir, const Endpoint& admin,
                                         const std::string& operator_name) {
  return {bin_dir + "/overlinectl", "--controller", admin.toString(), "--pki-dir", pki_dir, "--operator",
          operator_name};
}

Result<RunningController, std::string> startController(const std::string& bin_dir, const std::string& work_dir,
                                                       const std::string& token_key_hex,
                                                       const std::string& extra_yaml,
                                                       std::chrono::milliseconds timeout,
                                                       const ControllerPorts& ports, std::int64_t token_ttl_s) {
  const fs::path dir(work_dir);
  const std::string pki_dir = pkiDirOf(work_dir);
  if (auto error = makePki(bin_dir, pki_dir, (dir / "overlinectl.log").string())) return Err{"controller: " + *error};
  const std::string config = (dir / "controller.yaml").string();
  const std::string ready = (dir / "controller.ready.json").string();
  const std::string log = (dir / "controller.log").string();
  {
    std::ofstream out(config);
    out << "listen: {relays: " << ports.relays.toString() << ", admin: " << ports.admin.toString()
        << ", edge: " << ports.edge.toString() << "}\n"
        << "tls: {ca_file: \"" << pki_dir << "/ca.pem\", cert_file: \"" << pki_dir << "/controller.pem\", key_file: \""
        << pki_dir << "/controller.key\"}\n"
        << "db_path: " << (dir / "db").string() << "\n"
        << "token: {key_hex: \"" << token_key_hex << "\""
        << (token_ttl_s > 0 ? ", ttl_s: " + std::to_string(token_ttl_s) : std::string()) << "}\n"
        << "metrics: {listen: 127.0.0.1:0}\n"
        << extra_yaml;
    if (!out) return Err{"controller: cannot write " + config};
  }
  std::error_code ignored;
  fs::remove(ready, ignored);

  std::string error;
  auto process =
      ChildProcess::start({bin_dir + "/overline-controller", "--config", config, "--ready-file", ready}, log, &error);
  if (!process) return Err{"controller: " + error};

  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!fs::exists(ready)) {
    if (!process->running()) return Err{"controller exited before it was ready: " + lastLine(readText(log))};
    if (std::chrono::steady_clock::now() >= deadline) return Err{"controller not ready after " +
                                                                 std::to_string(timeout.count()) + " ms (" + log + ")"};
    std::this_thread::sleep_for(20ms);
  }
  const auto json = nlohmann::json::parse(readText(ready), nullptr, /*allow_exceptions=*/false);
  const auto endpoint = [&](const char* key) -> std::optional<Endpoint> {
    if (json.is_discarded() || !json.contains(key) || !json[key].is_string()) return std::nullopt;
    return Endpoint::parse(json[key].get<std::string>());
  };
  const auto relays = endpoint("relays");
  const auto admin = endpoint("admin");
  const auto edge = endpoint("edge");
  if (!relays || !admin || !edge || !json.contains("metrics") || !json["metrics"].is_string()) {
    return Err{"controller: unexpected ready file " + ready};
  }
  return RunningController{std::move(*process), ControllerPorts{*relays, *admin, *edge},
                           "http://" + json["metrics"].get<std::string>() + "/metrics", pki_dir};
}

Result<NodeId, std::string> provisionNode(const std::string& bin_dir, const std::string& work_dir,
                                          const Endpoint& admin, NodeId node_id, const std::string& region,
                                          const std::vector<ProvisionedLine>& lines, std::uint64_t capacity_bps) {
  const std::string pki_dir = pkiDirOf(work_dir);
  std::vector<std::string> argv = overlinectlArgv(bin_dir, pki_dir, admin);
  argv.insert(argv.end(), {"provision", std::to_string(node_id), "--region", region, "--capacity",
                           std::to_string(capacity_bps)});
  for (const ProvisionedLine& line : lines) {
    argv.push_back("--line");
    argv.push_back(line.name + "=" + line.address + (line.isp.empty() ? "" : ",isp=" + line.isp));
  }
  const std::string log = (fs::path(work_dir) / "overlinectl.log").string();
  if (auto error = runTool(argv, log, "overlinectl provision " + std::to_string(node_id))) return Err{*error};
  return issueRelayCertificate(bin_dir, pki_dir, node_id);
}

}  // namespace overline::localmesh
