#pragma once
// A child process started by the local-mesh harness (demo and integration
// tests). The child gets SIGKILL if the harness dies (PR_SET_PDEATHSIG), so a
// crashed or interrupted harness never leaves relays behind; the destructor
// stops and reaps it.

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace overline::localmesh {

class ChildProcess {
 public:
  // Starts `argv[0]` with `argv`. stdout is captured (read it with
  // readLines); stderr is appended to `stderr_path` ("" = inherit).
  // Returns nullopt with `error` set if fork/exec setup fails.
  static std::optional<ChildProcess> start(const std::vector<std::string>& argv,
                                           const std::string& stderr_path, std::string* error);

  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  // Sends SIGTERM, waits up to 3 s, then SIGKILL; always reaps.
  ~ChildProcess();

  pid_t pid() const { return pid_; }
  bool running();
  void signal(int sig);
  // Waits for exit up to `timeout`; returns the exit status as from waitpid
  // (use WIFEXITED etc.) or nullopt on timeout.
  std::optional<int> waitExit(std::chrono::milliseconds timeout);
  // SIGTERM, then SIGKILL after `grace`; returns the wait status.
  int stop(std::chrono::milliseconds grace = std::chrono::seconds(3));

  // Complete stdout lines available now, without blocking.
  std::vector<std::string> readLines();
  // Waits up to `timeout` for the next complete stdout line.
  std::optional<std::string> nextLine(std::chrono::milliseconds timeout);

 private:
  ChildProcess(pid_t pid, int stdout_fd) : pid_(pid), stdout_fd_(stdout_fd) {}
  void release();
  bool fillBuffer(int timeout_ms);

  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  std::optional<int> exit_status_;
  std::string pending_;
  std::vector<std::string> lines_;
};

}  // namespace overline::localmesh
