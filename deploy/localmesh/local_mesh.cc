#include "deploy/localmesh/local_mesh.h"

#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
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

double linePacketsSent(const MetricSamples& samples, int line) {
  return valueOf(samples, "overline_relay_line_packets_sent_total{line=\"line" + std::to_string(line) + "\"}")
      .value_or(0);
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

// Parses overline-impair's ready file into the stand-in of every switchboard
// line named lineName(node, line) for a line of `addresses`; nullopt if the
// file is absent or does not name them all.
std::optional<LineAddresses> readSwitchboardReadyFile(const std::string& path, const LineAddresses& addresses) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::stringstream buffer;
  buffer << in.rdbuf();
  const auto j = nlohmann::json::parse(buffer.str(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.contains("switchboard") || !j["switchboard"].is_array()) return std::nullopt;
  std::map<std::string, Endpoint> stand_in_of;
  for (const auto& line : j["switchboard"]) {
    auto stand_in = Endpoint::parse(line.value("stand_in", ""));
    if (!stand_in) return std::nullopt;
    stand_in_of[line.value("name", "")] = *stand_in;
  }
  LineAddresses stand_ins;
  for (const auto& [node, lines] : addresses) {
    for (std::size_t l = 0; l < lines.size(); ++l) {
      const auto it = stand_in_of.find(lineName(node, static_cast<int>(l)));
      if (it == stand_in_of.end()) return std::nullopt;
      stand_ins[node].push_back(it->second);
    }
  }
  return stand_ins;
}

std::string tailOf(const std::string& path, std::size_t max_lines) {
  std::ifstream in(path);
  std::deque<std::string> tail;
  for (std::string line; std::getline(in, line);) {
    tail.push_back(line);
    if (tail.size() > max_lines) tail.pop_front();
  }
  std::string out;
  for (const auto& line : tail) out += "  | " + line + "\n";
  return out;
}

// A fresh HMAC key for the controller's join tokens: the harness never
// issues tokens it checks, but the controller requires a key.
// `bytes` random bytes as hex digits (keys and secrets for the mesh's processes).
std::string randomHex(int bytes) {
  std::random_device rd;
  std::string hex;
  for (int i = 0; i < bytes; ++i) {
    char byte[3];
    std::snprintf(byte, sizeof byte, "%02x", static_cast<unsigned>(rd() & 0xff));
    hex += byte;
  }
  return hex;
}

std::string lastLineOf(const std::string& text) {
  const std::size_t end = text.find_last_not_of('\n');
  if (end == std::string::npos) return "";
  const std::size_t begin = text.rfind('\n', end);
  const std::size_t from = begin == std::string::npos ? 0 : begin + 1;
  return text.substr(from, end - from + 1);
}

// A uint64 of proto JSON: a string ("12"), or a number from older printers.
std::uint64_t jsonUint64(const nlohmann::json& j) {
  if (j.is_number_unsigned()) return j.get<std::uint64_t>();
  if (j.is_string()) return std::strtoull(j.get<std::string>().c_str(), nullptr, 10);
  return 0;
}

std::vector<NodeId> pathNodes(const nlohmann::json& path) {
  std::vector<NodeId> nodes;
  if (!path.is_object() || !path.contains("nodes") || !path["nodes"].is_array()) return nodes;
  for (const auto& node : path["nodes"]) nodes.push_back(static_cast<NodeId>(jsonUint64(node)));
  return nodes;
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
  std::unique_ptr<LocalMesh> mesh(new LocalMesh(spec, options, work_dir, temp));
  // Relays authenticate each other (the issue-11 trust rules) unless a test asks otherwise.
  if (mesh->spec_.mesh_secret_hex.empty()) mesh->spec_.mesh_secret_hex = randomHex(32);

  LineAddresses addresses = options.line_addresses;
  std::uint8_t subnet = 0;
  if (addresses.empty()) {
    // A random second octet keeps concurrent meshes (parallel CTest runs) apart.
    std::random_device rd;
    subnet = static_cast<std::uint8_t>(1 + rd() % 254);
    addresses = assignLineAddresses(spec, subnet);
  }
  for (const auto& node : spec.nodes) {
    if (!addresses.count(node.id)) return Err{"no line addresses for relay " + std::to_string(node.id)};
  }
  // What each relay lists as its neighbours' lines: their own addresses, or
  // the switchboard's stand-ins for them.
  LineAddresses neighbour_addresses = addresses;
  if (!spec.impaired && (spec.geo_delays || spec.access_delay_ms != 0)) {
    return Err{std::string("geo and access delays need an impaired mesh (MeshSpec::impaired)")};
  }
  if (spec.impaired) {
    if (subnet == 0) return Err{std::string("an impaired mesh needs harness-assigned line addresses")};
    for (const auto& node : spec.nodes) {
      if (node.id < 1 || node.id > 54) {
        return Err{"an impaired mesh needs node ids 1..54, got " + std::to_string(node.id)};
      }
    }
    auto stand_ins = mesh->startSwitchboard(addresses, subnet, options.ready_timeout);
    if (!stand_ins) return Err{stand_ins.error()};
    mesh->stand_ins_ = stand_ins.value();
    neighbour_addresses = std::move(stand_ins.value());
    // Before any relay sends: no packet crosses the mesh undelayed.
    if (spec.geo_delays) {
      if (auto error = mesh->applyGeoDelays(); !error.empty()) return Err{error};
    }
  }
  if (spec.with_controller) {
    // The controller listens on this machine's loopback, which a relay run
    // behind a command prefix (a network namespace) cannot reach.
    if (options.command_prefix) return Err{std::string("a mesh with a controller runs without command prefixes")};
    mesh->controller_dir_ = work_dir + "/controller";
    fs::create_directories(mesh->controller_dir_, ec);
    mesh->controller_token_key_hex_ = randomHex(16);
    if (auto error = mesh->launchController(ControllerPorts{}); !error.empty()) return Err{error};
    // Peers send to the switchboard's stand-ins when impaired, so those are
    // the lines the controller hands out in PeerLists.
    if (auto error = mesh->provisionRelays(neighbour_addresses); !error.empty()) return Err{error};
  }
  for (const auto& node : spec.nodes) {
    RunningRelay relay;
    relay.id = node.id;
    relay.log_path = mesh->relayFile(node.id, ".log");
    {
      std::ofstream config(mesh->relayFile(node.id, ".yaml"));
      config << relayConfigYaml(mesh->spec_, addresses, node.id, neighbour_addresses, mesh->controller_ports_.relays,
                                spec.with_controller ? relayTlsYaml(pkiDirOf(mesh->controller_dir_), node.id) : "");
    }
    mesh->relays_.emplace(node.id, std::move(relay));
    if (auto error = mesh->launchRelay(node.id); !error.empty()) return Err{error};
  }

  const auto deadline = std::chrono::steady_clock::now() + options.ready_timeout;
  for (const auto& node : spec.nodes) {
    if (auto error = mesh->waitRelayReady(node.id, deadline); !error.empty()) return Err{error};
  }
  if (spec.with_controller) {
    // Nothing can be routed before every relay holds its first table.
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (auto error = mesh->waitForRoutes(1, std::max(left, std::chrono::milliseconds(0))); !error.empty()) {
      return Err{error};
    }
  }
  return mesh;
}

Endpoint LocalMesh::edgeAddress(NodeId id) const {
  return spec_.impaired ? stand_ins_.at(id).at(0) : relays_.at(id).lines.at(0);
}

std::string LocalMesh::relayFile(NodeId id, const std::string& suffix) const {
  return work_dir_ + "/relay-" + std::to_string(id) + suffix;
}

std::string LocalMesh::launchRelay(NodeId id) {
  RunningRelay& relay = relays_.at(id);
  std::error_code ec;
  fs::remove(relayFile(id, ".ready"), ec);
  relay.metrics_url.clear();
  std::string error;
  relay.process = ChildProcess::start(commandFor(id, {bin_dir_ + "/overline-relay", "--config", relayFile(id, ".yaml"),
                                                      "--ready-file", relayFile(id, ".ready")}),
                                      relay.log_path, &error);
  return relay.process ? "" : "relay " + std::to_string(id) + ": " + error;
}

std::string LocalMesh::waitRelayReady(NodeId id, std::chrono::steady_clock::time_point deadline) {
  RunningRelay& relay = relays_.at(id);
  while (!readReadyFile(relayFile(id, ".ready"), relay)) {
    if (!relay.process->running()) {
      return "relay " + std::to_string(id) + " exited during start-up:\n" + logTail(id);
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return "relay " + std::to_string(id) + " not ready in time:\n" + logTail(id);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return "";
}

std::string LocalMesh::killRelay(NodeId id) {
  RunningRelay& relay = relays_.at(id);
  if (!relay.process || !relay.process->running()) return "relay " + std::to_string(id) + " is not running";
  relay.process->killAndReap();
  relay.process.reset();
  relay.metrics_url.clear();
  return "";
}

std::string LocalMesh::restartRelay(NodeId id, std::chrono::milliseconds timeout) {
  if (relayRunning(id)) return "relay " + std::to_string(id) + " is running";
  if (auto error = launchRelay(id); !error.empty()) return error;
  return waitRelayReady(id, std::chrono::steady_clock::now() + timeout);
}

bool LocalMesh::relayRunning(NodeId id) {
  RunningRelay& relay = relays_.at(id);
  return relay.process && relay.process->running();
}

LocalMesh::~LocalMesh() {
  // Signal every relay before waiting for any: each may take a while to
  // shut down, and they can do that in parallel.
  for (auto& [id, relay] : relays_) {
    if (relay.process) relay.process->signal(SIGTERM);
  }
  for (auto& [id, relay] : relays_) {
    if (relay.process) relay.process->stop();
  }
  // After the relays, so none of them sees its neighbours vanish first (or
  // spends its last moments reconnecting to the controller).
  if (impair_process_) impair_process_->stop();
  controller_.reset();
  if (remove_work_dir_) {
    std::error_code ec;
    fs::remove_all(work_dir_, ec);
  }
}

std::optional<MetricSamples> LocalMesh::scrape(NodeId id) {
  const auto& relay = relays_.at(id);
  if (relay.metrics_url.empty()) return std::nullopt;
  const std::chrono::milliseconds timeout(1000);
  auto body = metrics_fetch_ ? metrics_fetch_(id, relay.metrics_url, timeout) : httpGet(relay.metrics_url, timeout);
  if (!body) return std::nullopt;
  return parsePrometheusText(*body);
}

std::string LocalMesh::waitForTree(const std::vector<NodeId>& edges, NodeId origin,
                                   std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    // The controller's routes may change meanwhile (while its link
    // estimates settle, or after a degradation), and the tree follows them:
    // what the relays should hold is read again every round.
    std::string shortfall;
    std::map<NodeId, int> expected;
    if (spec_.with_controller) {
      auto computed = controllerDownstreams(edges, origin);
      if (computed) {
        expected = std::move(computed.value());
      } else {
        shortfall = computed.error();
      }
    } else {
      expected = expectedDownstreams(spec_, edges, origin);
    }
    for (const auto& [node, want] : expected) {
      if (!shortfall.empty()) break;
      const auto samples = scrape(node);
      const auto held = samples ? valueOf(*samples, "overline_relay_downstreams") : std::nullopt;
      if (held != static_cast<double>(want)) {
        shortfall = "relay " + std::to_string(node) + " did not reach " + std::to_string(want) +
                    " downstream(s) in time (it holds " + (held ? formatDouble(*held) : "none") + ")";
      }
    }
    if (shortfall.empty()) return "";
    if (std::chrono::steady_clock::now() >= deadline) return shortfall;
    // Relays refresh their exported metrics every 250 ms; poll a bit faster.
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

Result<std::map<NodeId, int>, std::string> LocalMesh::controllerDownstreams(const std::vector<NodeId>& edges,
                                                                           NodeId origin) {
  std::map<NodeId, int> count;
  std::map<NodeId, NodeId> parent_of;  // relays already on the tree -> their upstream
  for (NodeId edge : edges) {
    ++count[edge];
    // Walk up until the origin or a relay already joined; a path is at most
    // one hop per relay, which bounds the walk even if routes change meanwhile.
    NodeId at = edge;
    for (std::size_t hops = 0; at != origin && !parent_of.count(at) && hops < spec_.nodes.size(); ++hops) {
      auto route = path(at, origin);
      if (!route) return Err{"route from relay " + std::to_string(at) + " to " + std::to_string(origin) + ": " +
                             route.error()};
      if (route.value().primary.size() < 2) break;  // unreachable: that subscriber never joins
      const NodeId up = route.value().primary[1];
      parent_of[at] = up;
      ++count[up];
      at = up;
    }
  }
  return count;
}

Result<PublisherProcess, std::string> LocalMesh::startPublisher(NodeId edge, const PublisherOptions& options) {
  return startPublisher(EdgeSelection::given({edge}), options);
}

Result<PublisherProcess, std::string> LocalMesh::startPublisher(const EdgeSelection& edges,
                                                                const PublisherOptions& options) {
  auto argv = toolArgv("overline-publish", edges, options.homes);
  if (!argv) return Err{argv.error()};
  for (const std::string& arg : {std::string("--local-id"), std::to_string(options.local_id),
                                 std::string("--bitrate-kbps"), std::to_string(options.bitrate_kbps),
                                 std::string("--packet-bytes"), std::to_string(options.packet_bytes),
                                 std::string("--fps"), std::to_string(options.fps),
                                 std::string("--duration-s"), formatDouble(options.duration_s),
                                 std::string("--count"), std::to_string(options.count)}) {
    argv.value().push_back(arg);
  }
  if (options.redundant) argv.value().push_back("--redundant");
  std::string error;
  const std::string log = work_dir_ + "/client-" + std::to_string(++client_count_) + "-publish.log";
  auto process = ChildProcess::start(argv.value(), log, &error);
  if (!process) return Err{error};
  return PublisherProcess(std::move(*process));
}

Result<SubscriberProcess, std::string> LocalMesh::startSubscriber(NodeId edge, StreamId stream,
                                                                  const SubscriberOptions& options) {
  return startSubscriber(EdgeSelection::given({edge}), stream, options);
}

Result<SubscriberProcess, std::string> LocalMesh::startSubscriber(const EdgeSelection& edges, StreamId stream,
                                                                  const SubscriberOptions& options) {
  auto argv = toolArgv("overline-subscribe", edges, options.homes);
  if (!argv) return Err{argv.error()};
  for (const std::string& arg : {std::string("--stream"), formatStreamId(stream),
                                 std::string("--duration-s"), formatDouble(options.duration_s),
                                 std::string("--expect-count"), std::to_string(options.expect_count),
                                 std::string("--idle-exit-ms"), std::to_string(options.idle_exit_ms),
                                 std::string("--report-interval-ms"), std::to_string(options.report_interval_ms)}) {
    argv.value().push_back(arg);
  }
  std::string error;
  const std::string log = work_dir_ + "/client-" + std::to_string(++client_count_) + "-subscribe.log";
  auto process = ChildProcess::start(argv.value(), log, &error);
  if (!process) return Err{error};
  const std::string label =
      edges.nodes.empty() ? "region " + edges.region : "edge " + std::to_string(edges.nodes.front());
  return SubscriberProcess(std::move(*process), label);
}

Result<std::vector<std::string>, std::string> LocalMesh::toolArgv(const std::string& tool,
                                                                  const EdgeSelection& edges, int homes) const {
  std::vector<std::string> argv{bin_dir_ + "/" + tool};
  if (edges.nodes.empty()) {
    if (!controller_) return Err{std::string("an edge allocation needs the mesh's controller running")};
    argv.insert(argv.end(), {"--controller", controller_->ports.edge.toString(), "--controller-ca",
                             controller_->pki_dir + "/ca.pem"});
    if (!edges.region.empty()) argv.insert(argv.end(), {"--region", edges.region});
  } else {
    for (NodeId node : edges.nodes) argv.insert(argv.end(), {"--edge", edgeAddress(node).toString()});
  }
  if (homes > 1) argv.insert(argv.end(), {"--homes", std::to_string(homes)});
  // The network lab runs a tool in its first edge's namespace.
  return edges.nodes.empty() ? argv : commandFor(edges.nodes.front(), std::move(argv));
}

std::vector<std::string> LocalMesh::commandFor(NodeId node, std::vector<std::string> argv) const {
  if (!command_prefix_) return argv;
  std::vector<std::string> command = command_prefix_(node);
  command.insert(command.end(), std::make_move_iterator(argv.begin()), std::make_move_iterator(argv.end()));
  return command;
}

std::string LocalMesh::logTail(NodeId id, std::size_t max_lines) const {
  return tailOf(relays_.at(id).log_path, max_lines);
}

Result<LineAddresses, std::string> LocalMesh::startSwitchboard(const LineAddresses& addresses, std::uint8_t subnet,
                                                               std::chrono::milliseconds ready_timeout) {
  const LineAddresses stand_ins = standInAddresses(spec_, subnet);
  const std::string base = work_dir_ + "/impair";
  {
    std::ofstream config(base + ".yaml");
    // Client access: the SDK tools join at the stand-ins (edgeAddress).
    config << "switchboard:\n  access: {delay_ms: " << spec_.access_delay_ms << "}\n  lines:\n";
    for (const auto& [node, lines] : addresses) {
      for (std::size_t l = 0; l < lines.size(); ++l) {
        config << "    - {name: \"" << lineName(node, static_cast<int>(l)) << "\", real: \"" << lines[l].toString()
               << "\", stand_in: \"" << stand_ins.at(node).at(l).toString() << "\"}\n";
      }
    }
  }
  std::error_code ec;
  fs::remove(base + ".ready", ec);
  const std::string log_path = base + ".log";
  std::string error;
  impair_process_ = ChildProcess::start({bin_dir_ + "/overline-impair", "--config", base + ".yaml",
                                         "--ready-file", base + ".ready"},
                                        log_path, &error, /*with_stdin=*/true);
  if (!impair_process_) return Err{"overline-impair: " + error};
  const auto deadline = std::chrono::steady_clock::now() + ready_timeout;
  for (;;) {
    if (auto bound = readSwitchboardReadyFile(base + ".ready", addresses)) return std::move(*bound);
    if (!impair_process_->running()) {
      return Err{"overline-impair exited during start-up:\n" + tailOf(log_path, 20)};
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return Err{"overline-impair not ready in time:\n" + tailOf(log_path, 20)};
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

std::string LocalMesh::applyGeoDelays() {
  for (const auto& from : spec_.nodes) {
    for (const auto& to : spec_.nodes) {
      if (from.id == to.id) continue;  // a relay never sends to its own lines
      const auto delay_ms = regionDelayMs(from.region, to.region);
      if (!delay_ms) {
        return "geo delays: no one-way delay between regions \"" + from.region + "\" and \"" + to.region +
               "\" (kRegionDelays, deploy/localmesh/mesh_spec.h)";
      }
      for (int from_line = 0; from_line < spec_.lines_per_node; ++from_line) {
        for (int to_line = 0; to_line < spec_.lines_per_node; ++to_line) {
          const std::string command = "pair-set " + lineName(from.id, from_line) + " " + lineName(to.id, to_line) +
                                      " delay_ms=" + std::to_string(*delay_ms);
          if (auto answer = impair(command); !answer.empty()) return "switchboard: " + command + ": " + answer;
        }
      }
    }
  }
  return "";
}

std::string LocalMesh::launchController(const ControllerPorts& ports) {
  // Relays report (and the controller recomputes) faster than the
  // defaults, so routes follow a degraded link within a second or two.
  const std::string extra_yaml =
      "routes: {recompute_interval_ms: " + std::to_string(spec_.controller_recompute_interval_ms) + "}\n" +
      "relays: {report_interval_ms: " + std::to_string(spec_.controller_report_interval_ms) + "}\n";
  auto started = startController(bin_dir_, controller_dir_, controller_token_key_hex_, extra_yaml,
                                 std::chrono::seconds(10), ports);
  if (!started) return started.error();
  controller_ports_ = started.value().ports;
  controller_.emplace(std::move(started.value()));
  return "";
}

std::string LocalMesh::provisionRelays(const LineAddresses& peer_addresses) {
  for (const auto& node : spec_.nodes) {
    std::vector<ProvisionedLine> lines;
    const auto& addresses = peer_addresses.at(node.id);
    for (std::size_t l = 0; l < addresses.size(); ++l) {
      lines.push_back({"line" + std::to_string(l), addresses[l].toString(), ispTag(static_cast<int>(l))});
    }
    // 10 Gbit/s: the demo's streams never load a relay enough to be avoided.
    auto provisioned =
        provisionNode(bin_dir_, controller_dir_, controller_ports_.admin, node.id, node.region, lines, 10'000'000'000ull);
    if (!provisioned) return provisioned.error();
  }
  return "";
}

std::optional<MetricSamples> LocalMesh::scrapeController() {
  if (!controller_) return std::nullopt;
  auto body = httpGet(controller_->metrics_url, std::chrono::milliseconds(1000));
  if (!body) return std::nullopt;
  return parsePrometheusText(*body);
}

Result<std::string, std::string> LocalMesh::runCtl(const std::vector<std::string>& args) {
  if (!controller_) return Err{std::string("no controller is running")};
  std::vector<std::string> argv = overlinectlArgv(bin_dir_, pkiDirOf(controller_dir_), controller_ports_.admin);
  argv.insert(argv.end(), args.begin(), args.end());
  const std::string err_path = controller_dir_ + "/overlinectl.stderr";
  std::error_code ec;
  fs::remove(err_path, ec);
  std::string error;
  auto process = ChildProcess::start(argv, err_path, &error);
  if (!process) return Err{"overlinectl: " + error};
  const auto status = process->waitExit(std::chrono::seconds(10));
  if (!status) return Err{std::string("overlinectl: no answer within 10 s")};
  std::string out;
  for (const auto& line : process->readLines()) out += line + "\n";
  if (!WIFEXITED(*status) || WEXITSTATUS(*status) != 0) {
    std::stringstream err;
    err << std::ifstream(err_path).rdbuf();
    return Err{lastLineOf(err.str())};
  }
  return out;
}

std::string LocalMesh::drain(NodeId node) {
  auto result = runCtl({"drain", std::to_string(node)});
  return result ? "" : result.error();
}

std::string LocalMesh::undrain(NodeId node) {
  auto result = runCtl({"undrain", std::to_string(node)});
  return result ? "" : result.error();
}

Result<ControllerPath, std::string> LocalMesh::path(NodeId source, NodeId destination) {
  auto result = runCtl({"--json", "path", std::to_string(source), std::to_string(destination)});
  if (!result) return Err{result.error()};
  const auto j = nlohmann::json::parse(result.value(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Err{"overlinectl path: not JSON: " + result.value()};
  ControllerPath path;
  if (j.contains("route_version")) path.route_version = jsonUint64(j["route_version"]);
  if (j.contains("primary")) path.primary = pathNodes(j["primary"]);
  if (j.contains("backup")) path.backup = pathNodes(j["backup"]);
  path.backup_kind = j.value("backup_kind", "");
  return path;
}

void LocalMesh::killController() {
  if (!controller_) return;
  controller_->process.killAndReap();
  controller_.reset();
}

std::string LocalMesh::restartController() {
  if (controller_) return "the controller is running";
  if (controller_dir_.empty()) return "this mesh has no controller (MeshSpec::with_controller)";
  return launchController(controller_ports_);
}

std::string LocalMesh::waitForRoutes(std::uint64_t min_version, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string shortfall = "the controller did not answer";
  for (;;) {
    // The controller's per-node table versions, then each relay's applied one.
    std::map<NodeId, std::uint64_t> want;
    std::uint64_t latest = 0;
    if (auto listed = runCtl({"--json", "nodes"})) {
      const auto j = nlohmann::json::parse(listed.value(), nullptr, /*allow_exceptions=*/false);
      if (!j.is_discarded() && j.contains("nodes") && j["nodes"].is_array()) {
        for (const auto& node : j["nodes"]) {
          const std::uint64_t version = jsonUint64(node.value("route_version", nlohmann::json()));
          want[node.value("node_id", NodeId{0})] = version;
          latest = std::max(latest, version);
        }
      }
    }
    if (!want.empty()) {
      shortfall.clear();
      if (latest < min_version) {
        shortfall = "the controller is at route version " + std::to_string(latest) + ", not " +
                    std::to_string(min_version);
      }
      for (const auto& node : spec_.nodes) {
        if (!shortfall.empty()) break;
        const auto samples = scrape(node.id);
        const double applied = samples ? valueOf(*samples, "overline_relay_route_table_version").value_or(0) : 0;
        if (want.count(node.id) == 0 || applied < static_cast<double>(want[node.id]) || applied == 0) {
          shortfall = "relay " + std::to_string(node.id) + " runs route version " +
                      std::to_string(static_cast<std::uint64_t>(applied)) + ", the controller holds " +
                      std::to_string(want[node.id]) + " for it:\n" + logTail(node.id);
        }
      }
      if (shortfall.empty()) return "";
    }
    if (std::chrono::steady_clock::now() >= deadline) return shortfall;
    // Relays export metrics every 250 ms; poll a bit faster.
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

std::string LocalMesh::impair(const std::string& command, std::chrono::milliseconds timeout) {
  if (!impair_process_) return "error: this mesh is not impaired (MeshSpec::impaired)";
  // The proxy prints nothing but answers: anything waiting now answered a
  // command that timed out, and must not be taken for this one's answer.
  impair_process_->readLines();
  if (!impair_process_->writeLine(command)) return "error: overline-impair is not running";
  const auto answer = impair_process_->nextLine(timeout);
  if (!answer) {
    return "error: no answer from overline-impair within " + std::to_string(timeout.count()) + " ms";
  }
  return *answer == "ok" ? "" : *answer;
}

}  // namespace overline::localmesh
