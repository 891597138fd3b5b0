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
  // readLines); stderr is appended to `stderr_path` ("" = inherit). With
  // `with_stdin` the child's stdin is a pipe fed by writeLine; otherwise it
  // inherits the harness's stdin.
  // Returns nullopt with `error` set if fork/exec setup fails.
  static std::optional<ChildProcess> start(const std::vector<std::string>& argv,
                                           const std::string& stderr_path, std::string* error,
                                           bool with_stdin = false);

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
  // SIGKILL at once (a crash: the child cleans nothing up), then reaps it;
  // returns the wait status.
  int killAndReap();
  // When start() forked the child.
  std::chrono::steady_clock::time_point startedAt() const { return started_at_; }

  // Complete stdout lines available now, without blocking.
  std::vector<std::string> readLines();
  // Waits up to `timeout` for the next complete stdout line.
  std::optional<std::string> nextLine(std::chrono::milliseconds timeout);

  // Writes `line` and a '\n' to the child's stdin (started with_stdin).
  // Blocks while the pipe is full. False when there is no stdin pipe or the
  // child no longer reads it (the SIGPIPE is swallowed, not delivered).
  bool writeLine(const std::string& line);
  // Closes the child's stdin pipe, so the child reads EOF. Idempotent.
  void closeStdin();

 private:
  ChildProcess(pid_t pid, int stdout_fd, int stdin_fd, std::chrono::steady_clock::time_point started_at)
      : pid_(pid), stdout_fd_(stdout_fd), stdin_fd_(stdin_fd), started_at_(started_at) {}
  void release();
  bool fillBuffer(int timeout_ms);

  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  int stdin_fd_ = -1;  // write end of the child's stdin; -1 without with_stdin
  std::chrono::steady_clock::time_point started_at_;
  std::optional<int> exit_status_;
  std::string pending_;
  std::vector<std::string> lines_;
};

}  // namespace overline::localmesh
