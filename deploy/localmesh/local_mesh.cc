#include "deploy/localmesh/local_mesh.h"

#include <unistd.h>

#include <deque>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "common/stream_id_text.h"

namespace overline::localmesh {
namespace fs = std::filesystem;

std::string executableDir() {
  std::error_code ec;
  const auto exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string(".") : exe.parent_path().string();
}

namespace {

std::string makeTempDir() {
  std::string pattern = (fs::temp_directory_path() / "overline-mesh-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) return {};
  return pattern;
}

// Parses a relay's ready file into `relay`; false if absent or incomplete
// (the relay writes it atomically, so a partial file is never seen).
bool readReadyFile(const std::string& path, RunningRelay& relay) {
  std::ifstream in(path);
  if (!in) return false;
  std::stringstream buffer;
  buffer << in.rdbuf();
  const auto j = nlohmann::json::parse(buffer.str(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.contains("lines") || !j["lines"].is_array()) return false;
  relay.lines.clear();
  for (const auto& line : j["lines"]) {
    auto endpoint = Endpoint::parse(line.value("address", ""));
    if (!endpoint) return false;
    relay.lines.push_back(*endpoint);
  }
  const std::string metrics = j.value("metrics", "");
  relay.metrics_url = metrics.empty() ? "" : "http://" + metrics + "/metrics";
  return true;
}

std::string formatDouble(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

}  // namespace

Result<std::unique_ptr<LocalMesh>, std::string> LocalMesh::start(const MeshSpec& spec,
                                                                  const LocalMeshOptions& options) {
  std::string work_dir = options.work_dir;
  const bool temp = work_dir.empty();
  if (temp) work_dir = makeTempDir();
  if (work_dir.empty()) return Err{std::string("cannot create a temporary directory")};
  std::error_code ec;
  fs::create_directories(work_dir, ec);
  std::unique_ptr<LocalMesh> mesh(new LocalMesh(spec, options.bin_dir, work_dir, temp));

  // A random second octet keeps concurrent meshes (parallel CTest runs) apart.
  std::random_device rd;
  const auto subnet = static_cast<std::uint8_t>(1 + rd() % 254);
  const LineAddresses addresses = assignLineAddresses(spec, subnet);
  const std::string relay_bin = options.bin_dir + "/overline-relay";

  for (const auto& node : spec.nodes) {
    RunningRelay relay;
    relay.id = node.id;
    const std::string base = work_dir + "/relay-" + std::to_string(node.id);
    relay.log_path = base + ".log";
    {
      std::ofstream config(base + ".yaml");
      config << relayConfigYaml(spec, addresses, node.id);
    }
    fs::remove(base + ".ready", ec);
    std::string error;
    auto process = ChildProcess::start(
        {relay_bin, "--config", base + ".yaml", "--ready-file", base + ".ready"}, relay.log_path, &error);
    if (!process) return Err{"relay " + std::to_string(node.id) + ": " + error};
    relay.process = std::move(process);
    mesh->relays_.emplace(node.id, std::move(relay));
  }

  const auto deadline = std::chrono::steady_clock::now() + options.ready_timeout;
  for (auto& [id, relay] : mesh->relays_) {
    const std::string ready = work_dir + "/relay-" + std::to_string(id) + ".ready";
    while (!readReadyFile(ready, relay)) {
      if (!relay.process->running()) {
        return Err{"relay " + std::to_string(id) + " exited during start-up:\n" + mesh->logTail(id)};
      }
      if (std::chrono::steady_clock::now() >= deadline) {
        return Err{"relay " + std::to_string(id) + " not ready in time:\n" + mesh->logTail(id)};
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  return mesh;
}

LocalMesh::~LocalMesh() {
  for (auto& [id, relay] : relays_) {
    if (relay.process) relay.process->stop();
  }
  if (remove_work_dir_) {
    std::error_code ec;
    fs::remove_all(work_dir_, ec);
  }
}

std::optional<MetricSamples> LocalMesh::scrape(NodeId id) {
  const auto& relay = relays_.at(id);
  if (relay.metrics_url.empty()) return std::nullopt;
  auto body = httpGet(relay.metrics_url, std::chrono::milliseconds(1000));
  if (!body) return std::nullopt;
  return parsePrometheusText(*body);
}

std::string LocalMesh::waitForTree(const std::vector<NodeId>& edges, NodeId origin,
                                   std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (const auto& [node, want] : expectedDownstreams(spec_, edges, origin)) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    const auto ok = waitForMetrics(node, std::max(left, std::chrono::milliseconds(0)), [&](const auto& s) {
      return valueOf(s, "overline_relay_downstreams") == static_cast<double>(want);
    });
    if (!ok) {
      return "relay " + std::to_string(node) + " did not reach " + std::to_string(want) +
             " downstream(s) in time";
    }
  }
  return "";
}

Result<PublisherProcess, std::string> LocalMesh::startPublisher(NodeId edge,
                                                                const PublisherOptions& options) {
  std::vector<std::string> argv = {bin_dir_ + "/overline-publish",
                                   "--edge", relays_.at(edge).lines.at(0).toString(),
                                   "--local-id", std::to_string(options.local_id),
                                   "--bitrate-kbps", std::to_string(options.bitrate_kbps),
                                   "--packet-bytes", std::to_string(options.packet_bytes),
                                   "--fps", std::to_string(options.fps),
                                   "--duration-s", formatDouble(options.duration_s),
                                   "--count", std::to_string(options.count)};
  std::string error;
  const std::string log = work_dir_ + "/client-" + std::to_string(++client_count_) + "-publish.log";
  auto process = ChildProcess::start(argv, log, &error);
  if (!process) return Err{error};
  return PublisherProcess(std::move(*process));
}

Result<SubscriberProcess, std::string> LocalMesh::startSubscriber(NodeId edge, StreamId stream,
                                                                  const SubscriberOptions& options) {
  std::vector<std::string> argv = {bin_dir_ + "/overline-subscribe",
                                   "--edge", relays_.at(edge).lines.at(0).toString(),
                                   "--stream", formatStreamId(stream),
                                   "--duration-s", formatDouble(options.duration_s),
                                   "--expect-count", std::to_string(options.expect_count),
                                   "--idle-exit-ms", std::to_string(options.idle_exit_ms),
                                   "--report-interval-ms", std::to_string(options.report_interval_ms)};
  std::string error;
  const std::string log = work_dir_ + "/client-" + std::to_string(++client_count_) + "-subscribe.log";
  auto process = ChildProcess::start(argv, log, &error);
  if (!process) return Err{error};
  return SubscriberProcess(std::move(*process), "edge " + std::to_string(edge));
}

std::string LocalMesh::logTail(NodeId id, std::size_t max_lines) const {
  std::ifstream in(relays_.at(id).log_path);
  std::deque<std::string> tail;
  for (std::string line; std::getline(in, line);) {
    tail.push_back(line);
    if (tail.size() > max_lines) tail.pop_front();
  }
  std::string out;
  for (const auto& line : tail) out += "  | " + line + "\n";
  return out;
}

}  // namespace overline::localmesh
