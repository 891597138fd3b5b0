#pragma once
// Runs a MeshSpec as real overline-relay processes on this machine's
// loopback range, plus publisher/subscriber tool processes on its edges.
// Used by the demo (overline-demo) and the integration tests. Everything it
// starts is stopped by its destructor; children also die with the harness.

#include <chrono>
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
#include "deploy/localmesh/media_clients.h"
#include "deploy/localmesh/mesh_spec.h"
#include "deploy/localmesh/metrics_scrape.h"

namespace overline::localmesh {

struct LocalMeshOptions {
  std::string bin_dir;   // holds overline-relay, overline-publish, overline-subscribe
  std::string work_dir;  // configs and logs; "" = a fresh temp dir, removed at the end
  std::chrono::milliseconds ready_timeout{10000};
};

struct RunningRelay {
  NodeId id = kNoNode;
  std::vector<Endpoint> lines;  // bound line addresses, from the ready file
  std::string metrics_url;      // http://127.0.0.1:PORT/metrics
  std::string log_path;
  std::optional<ChildProcess> process;
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
  // `edges` joining a stream of `origin` imply (expectedDownstreams). Returns
  // "" when the tree is complete, else which relay fell short.
  std::string waitForTree(const std::vector<NodeId>& edges, NodeId origin,
                          std::chrono::milliseconds timeout);

  // Starts the SDK tools against relay `edge`'s first line.
  Result<PublisherProcess, std::string> startPublisher(NodeId edge, const PublisherOptions& options);
  Result<SubscriberProcess, std::string> startSubscriber(NodeId edge, StreamId stream,
                                                         const SubscriberOptions& options);

  // Last lines of a relay's stderr log, for error messages.
  std::string logTail(NodeId id, std::size_t max_lines = 20) const;

 private:
  LocalMesh(MeshSpec spec, std::string bin_dir, std::string work_dir, bool owns_work_dir)
      : spec_(std::move(spec)),
        bin_dir_(std::move(bin_dir)),
        work_dir_(std::move(work_dir)),
        remove_work_dir_(owns_work_dir) {}

  MeshSpec spec_;
  std::string bin_dir_;
  std::string work_dir_;
  bool remove_work_dir_;
  std::map<NodeId, RunningRelay> relays_;
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

}  // namespace overline::localmesh
