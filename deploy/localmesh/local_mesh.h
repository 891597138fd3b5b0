#pragma once
// Runs a MeshSpec as real overline-relay processes on this machine's
// loopback range, plus publisher/subscriber tool processes on its edges.
// Used by the demo (overline-demo) and the integration tests; the network lab
// (deploy/netlab) runs it on namespace addresses through LocalMeshOptions. Everything it
// starts is stopped by its destructor; children also die with the harness.

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <thread>
#include <string>
#include <vector>

#include "common/endpoint.h"
#include "common/result.h"
#include "common/types.h"
#include "deploy/localmesh/child_process.h"
#include "deploy/localmesh/controller_process.h"
#include "deploy/localmesh/media_clients.h"
#include "deploy/localmesh/mesh_spec.h"
#include "deploy/localmesh/metrics_scrape.h"

namespace overline::localmesh {

struct LocalMeshOptions {
  // Holds overline-relay, overline-publish, overline-subscribe,
  // overline-impair, and with a controller overline-controller and overlinectl.
  std::string bin_dir;
  std::string work_dir;  // configs and logs; "" = a fresh temp dir, removed at the end
  std::chrono::milliseconds ready_timeout{10000};
  // Where relays bind their lines; must cover every node of the spec. Empty
  // = 127.<random>.<node>.<line+1> with ports free at start-up
  // (assignLineAddresses). The network lab passes its namespace addresses.
  LineAddresses line_addresses;
  // Prepended to the command line of every process run for a node: its relay
  // and the SDK tools on its edge (the network lab: `ip netns exec NS`).
  // Unset = none.
  std::function<std::vector<std::string>(NodeId)> command_prefix;
  // Fetches the metrics URL a relay's ready file names; nullopt on failure.
  // Unset = httpGet from this process (the lab fetches from inside the
  // relay's namespace).
  std::function<std::optional<std::string>(NodeId, const std::string& url, std::chrono::milliseconds timeout)>
      metrics_fetch;
};

// A controller route as `overlinectl path SRC DST --json` prints it.
struct ControllerPath {
  std::uint64_t route_version = 0;  // of SRC's table
  std::vector<NodeId> primary;      // SRC, ..., DST
  std::vector<NodeId> backup;       // empty: none
  std::string backup_kind;          // "node_disjoint", "overlapping" or "none"
};

struct RunningRelay {
  NodeId id = kNoNode;
  std::vector<Endpoint> lines;  // bound line addresses, from the ready file
  std::string metrics_url;      // http://127.0.0.1:PORT/metrics; "" while not running
  std::string log_path;
  std::optional<ChildProcess> process;  // unset after LocalMesh::killRelay
};

class LocalMesh {
 public:
  static Result<std::unique_ptr<LocalMesh>, std::string> start(const MeshSpec& spec,
                                                               const LocalMeshOptions& options);
  ~LocalMesh();
  LocalMesh(const LocalMesh&) = delete;
  LocalMesh& operator=(const LocalMesh&) = delete;

  const MeshSpec& spec() const { return spec_; }
  RunningRelay& relay(NodeId id) { return relays_.at(id); }
  const std::string& workDir() const { return work_dir_; }

  // Scrapes the relay's /metrics; nullopt if it does not answer.
  std::optional<MetricSamples> scrape(NodeId id);
  // Polls `scrape(id)` until `predicate` holds or `timeout` passes; returns
  // the last samples for which it held, or nullopt on timeout.
  template <typename Predicate>
  std::optional<MetricSamples> waitForMetrics(NodeId id, std::chrono::milliseconds timeout,
                                              Predicate predicate);

  // Waits until every relay holds the downstream count that subscribers on
  // `edges` joining a stream of `origin` imply: along the static routes
  // (expectedDownstreams), or with a controller along the primary paths it
  // pushed (controllerDownstreams, read again every round: the tree follows
  // route changes). Returns "" when the tree is complete, else which relay
  // fell short.
  std::string waitForTree(const std::vector<NodeId>& edges, NodeId origin,
                          std::chrono::milliseconds timeout);

  // Starts the SDK tools against relay `edge` (at edgeAddress).
  Result<PublisherProcess, std::string> startPublisher(NodeId edge, const PublisherOptions& options);
  Result<SubscriberProcess, std::string> startSubscriber(NodeId edge, StreamId stream,
                                                         const SubscriberOptions& options);
  // Starts the SDK tools on given edges (each at edgeAddress), or on the
  // candidates the running controller allocates (EdgeSelection).
  Result<PublisherProcess, std::string> startPublisher(const EdgeSelection& edges, const PublisherOptions& options);
  Result<SubscriberProcess, std::string> startSubscriber(const EdgeSelection& edges, StreamId stream,
                                                         const SubscriberOptions& options);
  // Where SDK clients join relay `id`: its first line's switchboard
  // stand-in in an impaired mesh (client access; also what a controller's
  // edge allocation hands out, the lines being provisioned there), else its
  // first line as bound.
  Endpoint edgeAddress(NodeId id) const;

  // SIGKILLs relay `id` and reaps it, as a crash: its neighbours, its
  // clients and the controller see it vanish. Until restartRelay its
  // scrape() is nullopt, and waitForTree/waitForRoutes wait for it in vain.
  // "" on success, else why not (it is not running).
  std::string killRelay(NodeId id);
  // Starts a killed (or exited) relay again on its config (same line
  // addresses, so its neighbours' configs and the controller's provisioning
  // stay right) and waits up to `timeout` for its ready file. "" on
  // success, else what failed.
  std::string restartRelay(NodeId id, std::chrono::milliseconds timeout = std::chrono::milliseconds(10000));
  bool relayRunning(NodeId id);

  // Last lines of a relay's stderr log, for error messages.
  std::string logTail(NodeId id, std::size_t max_lines = 20) const;

  // Impaired meshes (MeshSpec::impaired): sends one command to the
  // overline-impair switchboard (deploy/impair/README.md; lines are named
  // lineName(node, line)) and waits up to `timeout` for its answer. Returns
  // "" for "ok", else the answer line ("error: ...", or for `stats` the JSON
  // document), or an "error: ..." of its own when the mesh is not impaired,
  // the proxy is gone or did not answer in time. One caller at a time.
  std::string impair(const std::string& command,
                     std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));

  // --- Meshes with a controller (MeshSpec::with_controller) ---
  // The running controller; nullptr without one or after killController().
  const RunningController* controller() const { return controller_ ? &*controller_ : nullptr; }
  // Scrapes the controller's /metrics; nullopt if it does not answer.
  std::optional<MetricSamples> scrapeController();
  // overlinectl drain / undrain NODE: the controller stops (resumes) routing
  // transit through the node. "" on success, else overlinectl's error.
  std::string drain(NodeId node);
  std::string undrain(NodeId node);
  // overlinectl path SRC DST --json: the route the controller pushed.
  Result<ControllerPath, std::string> path(NodeId source, NodeId destination);
  // Runs overlinectl (operator "admin", write access) against the Admin
  // listener with `args`, e.g. {"keys", "rotate"}; its stdout, or the error
  // (its stderr's last line) when it fails.
  Result<std::string, std::string> runCtl(const std::vector<std::string>& args);
  // SIGKILLs the controller and reaps it: relays keep forwarding on their
  // last tables and try to reconnect.
  void killController();
  // Starts the controller again on the same store and the same gRPC port
  // (the one every relay's config names), after killController(). "" on
  // success, else what failed.
  std::string restartController();
  // Waits until the controller has computed route version `min_version` (or
  // later) and every relay runs the table the controller holds for it. A
  // relay whose table did not change keeps an older version: the controller
  // only pushes (and versions) tables whose next hops changed. "" then, else
  // which relay fell short.
  std::string waitForRoutes(std::uint64_t min_version, std::chrono::milliseconds timeout);

 private:
  LocalMesh(MeshSpec spec, const LocalMeshOptions& options, std::string work_dir, bool owns_work_dir)
      : spec_(std::move(spec)),
        bin_dir_(options.bin_dir),
        work_dir_(std::move(work_dir)),
        remove_work_dir_(owns_work_dir),
        command_prefix_(options.command_prefix),
        metrics_fetch_(options.metrics_fetch) {}

  // `argv` behind the node's command prefix, if any.
  std::vector<std::string> commandFor(NodeId node, std::vector<std::string> argv) const;
  // The command line of SDK tool `tool` (in bin_dir) up to its edge flags:
  // --edge per given node, or --controller/--controller-ca/--region; and
  // --homes when `homes` > 1. Fails for an allocation without a running
  // controller.
  Result<std::vector<std::string>, std::string> toolArgv(const std::string& tool, const EdgeSelection& edges,
                                                         int homes) const;
  // work_dir/relay-<id><suffix>: its config (.yaml), ready file, log.
  std::string relayFile(NodeId id, const std::string& suffix) const;
  // Starts relay `id`'s process on its config (written by start()); "" or what failed.
  std::string launchRelay(NodeId id);
  // Waits until relay `id` wrote its ready file, then records its lines and
  // metrics URL; "" or why not by `deadline` (it exited, or is late).
  std::string waitRelayReady(NodeId id, std::chrono::steady_clock::time_point deadline);
  // Sets every relay-to-relay line pair of the switchboard to the one-way
  // delay between its relays' regions (regionDelayMs); "" or what failed.
  std::string applyGeoDelays();
  // expectedDownstreams() along the controller's primary paths: each
  // subscription goes to the first hop of its relay's path to `origin`.
  Result<std::map<NodeId, int>, std::string> controllerDownstreams(const std::vector<NodeId>& edges, NodeId origin);
  // Starts the controller (first start: gRPC port picked by the kernel;
  // restart: controller_ports_) and records it in controller_; ""
  // or what failed.
  std::string launchController(const ControllerPorts& ports);
  // Provisions every relay of the spec with the lines peers send to; "" or
  // what failed.
  std::string provisionRelays(const LineAddresses& peer_addresses);
  // Starts overline-impair as a switchboard between every line in
  // `addresses`, with client access (spec_.access_delay_ms each way), and
  // waits for its ready file; returns the stand-in of each line (what the
  // neighbours' configs list, and where the SDK tools join).
  Result<LineAddresses, std::string> startSwitchboard(const LineAddresses& addresses, std::uint8_t subnet,
                                                      std::chrono::milliseconds ready_timeout);

  MeshSpec spec_;
  std::string bin_dir_;
  std::string work_dir_;
  bool remove_work_dir_;
  std::function<std::vector<std::string>(NodeId)> command_prefix_;
  std::function<std::optional<std::string>(NodeId, const std::string&, std::chrono::milliseconds)> metrics_fetch_;
  std::map<NodeId, RunningRelay> relays_;
  std::optional<ChildProcess> impair_process_;  // impaired meshes only; stdin is its command pipe
  LineAddresses stand_ins_;                     // impaired meshes only: every line's stand-in
  std::optional<RunningController> controller_;  // with_controller only; unset while killed
  ControllerPorts controller_ports_;              // its listeners; kept across restarts (relay configs name them)
  std::string controller_dir_;                    // its config, store, ready file and logs
  std::string controller_token_key_hex_;
  int client_count_ = 0;
};

template <typename Predicate>
std::optional<MetricSamples> LocalMesh::waitForMetrics(NodeId id, std::chrono::milliseconds timeout,
                                                       Predicate predicate) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (auto samples = scrape(id); samples && predicate(*samples)) return samples;
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    // Relays refresh their exported metrics every 250 ms; poll a bit faster.
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

// Directory of the running executable (to find sibling tools in build/bin).
std::string executableDir();

// Datagrams relay line `line` has sent (overline_relay_line_packets_sent_total
// of the line relayConfigYaml names "line<line>"); 0 when absent.
double linePacketsSent(const MetricSamples& samples, int line);

}  // namespace overline::localmesh
