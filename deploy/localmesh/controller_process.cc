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

}  // namespace

Result<RunningController, std::string> startController(const std::string& bin_dir, const std::string& work_dir,
                                                       const std::string& token_key_hex,
                                                       const std::string& extra_yaml,
                                                       std::chrono::milliseconds timeout,
                                                       const Endpoint& listen, std::int64_t token_ttl_s) {
  const fs::path dir(work_dir);
  const std::string config = (dir / "controller.yaml").string();
  const std::string ready = (dir / "controller.ready.json").string();
  const std::string log = (dir / "controller.log").string();
  {
    std::ofstream out(config);
    out << "listen: " << listen.toString() << "\n"
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
  if (json.is_discarded() || !json.contains("listen") || !json["listen"].is_string() || !json.contains("metrics") ||
      !json["metrics"].is_string()) {
    return Err{"controller: unexpected ready file " + ready};
  }
  const auto grpc = Endpoint::parse(json["listen"].get<std::string>());
  if (!grpc) return Err{"controller: bad listen address in " + ready};
  return RunningController{std::move(*process), *grpc, "http://" + json["metrics"].get<std::string>() + "/metrics"};
}

Result<NodeId, std::string> provisionNode(const std::string& bin_dir, const std::string& work_dir,
                                          const Endpoint& controller, NodeId node_id, const std::string& region,
                                          const std::vector<ProvisionedLine>& lines, std::uint64_t capacity_bps) {
  std::vector<std::string> argv = {bin_dir + "/overlinectl", "--controller", controller.toString(), "provision",
                                   std::to_string(node_id), "--region", region, "--capacity",
                                   std::to_string(capacity_bps)};
  for (const ProvisionedLine& line : lines) {
    argv.push_back("--line");
    argv.push_back(line.name + "=" + line.address + (line.isp.empty() ? "" : ",isp=" + line.isp));
  }
  const std::string log = (fs::path(work_dir) / "overlinectl.log").string();
  const std::size_t log_offset = fs::exists(log) ? fs::file_size(log) : 0;
  std::string error;
  auto process = ChildProcess::start(argv, log, &error);
  if (!process) return Err{"overlinectl: " + error};
  const std::optional<int> status = process->waitExit(10s);
  if (!status) return Err{"overlinectl provision " + std::to_string(node_id) + ": no answer within 10 s"};
  if (!WIFEXITED(*status) || WEXITSTATUS(*status) != 0) {
    return Err{"overlinectl provision " + std::to_string(node_id) + " failed: " +
               lastLine(readText(log).substr(log_offset))};
  }
  return node_id;
}

}  // namespace overline::localmesh
