#pragma once
// The SDK tools (overline-publish, overline-subscribe) run as child
// processes, with their JSON-lines output parsed into figures.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/types.h"
#include "deploy/localmesh/child_process.h"

namespace overline::localmesh {

struct PublisherOptions {
  std::uint32_t local_id = 1;
  int bitrate_kbps = 2000;
  int packet_bytes = 1000;
  int fps = 30;
  double duration_s = 10;
  std::uint64_t count = 0;  // 0 = until duration
  bool redundant = false;   // overline-publish --redundant: two disjoint links per relay hop
};

struct SubscriberOptions {
  double duration_s = 0;          // 0 = until stopped
  std::uint64_t expect_count = 0; // 0 = no count limit
  int idle_exit_ms = 0;
  int report_interval_ms = 1000;
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
};

class PublisherProcess {
 public:
  explicit PublisherProcess(ChildProcess process) : process_(std::move(process)) {}
  ChildProcess& process() { return process_; }
  // Waits for the "joined" line; returns the stream id it publishes.
  std::optional<StreamId> waitJoined(std::chrono::milliseconds timeout);
  // Waits for the "done" line; returns packets sent.
  std::optional<std::uint64_t> waitDone(std::chrono::milliseconds timeout);

 private:
  ChildProcess process_;
};

class SubscriberProcess {
 public:
  SubscriberProcess(ChildProcess process, std::string label)
      : process_(std::move(process)), label_(std::move(label)) {}
  ChildProcess& process() { return process_; }
  const std::string& label() const { return label_; }
  bool waitJoined(std::chrono::milliseconds timeout);
  // Reads every line printed so far; true if a new progress line came.
  bool poll();
  const std::optional<SubscriberFigures>& latest() const { return latest_; }
  const std::optional<SubscriberFigures>& summary() const { return summary_; }
  // Waits for the final summary line (after the tool stops by itself or is
  // sent SIGTERM by the caller).
  std::optional<SubscriberFigures> waitSummary(std::chrono::milliseconds timeout);

 private:
  void consume(const std::string& line);

  ChildProcess process_;
  std::string label_;
  bool joined_ = false;
  std::optional<SubscriberFigures> latest_;
  std::optional<SubscriberFigures> summary_;
};

}  // namespace overline::localmesh
