#pragma once
// The SDK tools (overline-publish, overline-subscribe) run as child
// processes, with their JSON-lines output parsed into figures.

#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/types.h"
#include "deploy/localmesh/child_process.h"

namespace overline::localmesh {

// Where an SDK tool joins (LocalMesh::startPublisher, startSubscriber).
struct EdgeSelection {
  // Given edges, in order (`--edge` once per relay): the tool joins the
  // first and may fail over to the others. Empty: the mesh's controller
  // allocates the candidates (`--controller`, `region` as the hint).
  std::vector<NodeId> nodes;
  std::string region;  // allocation hint; "" = none

  static EdgeSelection given(std::vector<NodeId> edges) { return {std::move(edges), ""}; }
  static EdgeSelection allocated(std::string region_hint) { return {{}, std::move(region_hint)}; }
};

struct PublisherOptions {
  std::uint32_t local_id = 1;
  int bitrate_kbps = 2000;
  int packet_bytes = 1000;
  int fps = 30;
  double duration_s = 10;
  std::uint64_t count = 0;  // 0 = until duration
  bool redundant = false;   // overline-publish --redundant: two disjoint links per relay hop
  int homes = 1;            // > 1: --homes N, attached to N edges at once (hitless failover)
};

struct SubscriberOptions {
  double duration_s = 0;          // 0 = until stopped
  std::uint64_t expect_count = 0; // 0 = no count limit
  int idle_exit_ms = 0;
  int report_interval_ms = 1000;
  int homes = 1;  // > 1: --homes N, attached to N edges at once (hitless failover)
};

// One progress or summary line of overline-subscribe.
struct SubscriberFigures {
  double elapsed_s = 0;
  std::uint64_t received = 0, unique = 0, lost = 0, duplicates = 0, reordered = 0;
  double p50_ms = 0, p90_ms = 0, p99_ms = 0, max_ms = 0, jitter_ms = 0;
  double max_gap_ms = 0;  // longest silence between packets (failover gaps)
  // What the SDK's playout delivered in order (overline-subscribe README).
  std::uint64_t delivered = 0, within_budget = 0, late = 0, playout_lost = 0;
  double delivery_p50_ms = 0, delivery_p99_ms = 0;
  // Summary only: wire sequences of the lowest and highest packet received.
  std::optional<std::uint32_t> first_seq, last_seq;
};

// What a tool's event lines say about its edges and streams (the tools'
// session events, sdk/tools/session_event_printer.h):
//   {"event":"joined","edge_node":N,...}          a session with edge N joined: the
//                                                 first, a second home, each replacement
//   {"event":"edge_changed","old":N,"new":M,...}  its primary edge moved from N to M
//   {"event":"lost","old":N}                      no edge left; it keeps trying
//   {"event":"connected","old":N,"new":M,...}     edge M joined after that loss
// and the "stream" ("ORIGIN:LOCAL") of any line that names one.
struct EdgeLog {
  std::vector<NodeId> joined;                    // edge_node of every joined line, in order
  std::vector<std::pair<NodeId, NodeId>> moves;  // (old, new) of every edge_changed, and connected after a loss
  std::set<StreamId> streams;                    // every stream a line named
  // Its primary edge as far as the lines tell: the first joined, then each
  // move's new edge; kNoNode before any joined line and after a "lost"
  // line until the next move.
  NodeId current = kNoNode;

  // The edge it joined first (what "its edge" means with --homes); kNoNode
  // before any joined line.
  NodeId firstEdge() const { return joined.empty() ? kNoNode : joined.front(); }
  // "1", "1 -> 2", "1 -> 2 -> 1".
  std::string describe() const;
};

class PublisherProcess {
 public:
  explicit PublisherProcess(ChildProcess process) : process_(std::move(process)) {}
  ChildProcess& process() { return process_; }
  // Waits for the first "joined" line; returns the stream id it publishes.
  std::optional<StreamId> waitJoined(std::chrono::milliseconds timeout);
  // Waits until `count` joined lines came (--homes N joins N edges, the
  // first N - 1 asynchronously); false on timeout or exit.
  bool waitJoinedEdges(std::size_t count, std::chrono::milliseconds timeout);
  // Waits for the "done" line; returns packets sent. Both waits note every
  // line they read in edges().
  std::optional<std::uint64_t> waitDone(std::chrono::milliseconds timeout);
  const EdgeLog& edges() const { return edges_; }

 private:
  void consume(const std::string& line);
  // Reads lines until `reached()` holds; false on timeout or exit.
  template <typename Reached>
  bool readUntil(Reached reached, std::chrono::milliseconds timeout);

  ChildProcess process_;
  EdgeLog edges_;
  std::optional<StreamId> stream_;  // of the first joined line
  std::optional<std::uint64_t> sent_;
};

class SubscriberProcess {
 public:
  SubscriberProcess(ChildProcess process, std::string label)
      : process_(std::move(process)), label_(std::move(label)) {}
  ChildProcess& process() { return process_; }
  const std::string& label() const { return label_; }
  bool waitJoined(std::chrono::milliseconds timeout);
  // As PublisherProcess::waitJoinedEdges.
  bool waitJoinedEdges(std::size_t count, std::chrono::milliseconds timeout);
  // Reads lines as they come until the tool's first_packet line and returns
  // what it reports: the connect time, from the tool's start (edge
  // allocation and join included) to its first packet. nullopt on timeout
  // or exit.
  std::optional<std::chrono::duration<double, std::milli>> waitFirstPacket(std::chrono::milliseconds timeout);
  // Reads every line printed so far; true if a new progress line came.
  bool poll();
  const std::optional<SubscriberFigures>& latest() const { return latest_; }
  const std::optional<SubscriberFigures>& summary() const { return summary_; }
  const EdgeLog& edges() const { return edges_; }
  // Waits for the final summary line (after the tool stops by itself or is
  // sent SIGTERM by the caller).
  std::optional<SubscriberFigures> waitSummary(std::chrono::milliseconds timeout);

 private:
  // True for a progress or summary line.
  bool consume(const std::string& line);

  ChildProcess process_;
  std::string label_;
  EdgeLog edges_;
  std::optional<SubscriberFigures> latest_;
  std::optional<SubscriberFigures> summary_;
  std::optional<double> first_packet_ms_;  // from the first_packet line
};

}  // namespace overline::localmesh
