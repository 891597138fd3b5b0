#pragma once
// HopProcess: the hop under test as a child process, the relay or the
// reference forwarder alike, so that both are scheduled the same way.
//
// start() makes a fresh temp dir, starts `argv` plus `--ready-file R` with
// stdout and stderr going to a log file in the dir, pinned to the hop's CPU
// (the child inherits the affinity of the thread that spawns it), and waits
// for R: JSON with `lines: [{address: "IP:PORT"}, ...]` (and the relay's
// `node_id`). Its destructor stops the child (SIGTERM, SIGKILL after
// kStopTimeoutUs), reaps it and removes the dir, on every exit path the
// bench survives.

#include <sys/types.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bench/relay_hop_basics.h"
#include "common/endpoint.h"

namespace overline::bench {

class HopProcess {
 public:
  // `files`: name -> contents, written into the dir first; "{dir}" in an
  // argument is replaced by the dir's path.
  static Result<std::unique_ptr<HopProcess>, std::string> start(
      std::vector<std::string> argv, const std::vector<std::pair<std::string, std::string>>& files,
      std::optional<int> cpu);
  ~HopProcess();
  HopProcess(const HopProcess&) = delete;
  HopProcess& operator=(const HopProcess&) = delete;

  pid_t pid() const { return pid_; }
  // From the ready file: node_id (kNoNode without) and the first line's address.
  NodeId nodeId() const { return node_id_; }
  const Endpoint& address() const { return address_; }
  // Whether it is still running (reaps it if not).
  bool running();
  std::string log() const;

 private:
  HopProcess() = default;
  Status spawn(const std::vector<std::string>& argv, std::optional<int> cpu);
  Status waitReady();
  // False while the ready file is absent; an error for a malformed one.
  Result<bool, std::string> readReadyFile();
  void stop();

  std::filesystem::path dir_;
  std::string program_;  // for messages
  pid_t pid_ = -1;
  NodeId node_id_ = kNoNode;
  Endpoint address_;
};

// Writes `text` to `path` atomically (a temp file renamed over it), so a
// reader never sees it half written.
Status writeFileAtomically(const std::filesystem::path& path, const std::string& text);

}  // namespace overline::bench
