#pragma once
// ChildProcess: runs a tool for an integration test with its stdout on a
// pipe (stderr is inherited, so tool logs show in the test output).

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace overline::sdk::testing {

class ChildProcess {
 public:
  // Starts argv[0] with the arguments argv[1..]; throws if it cannot.
  explicit ChildProcess(const std::vector<std::string>& argv);
  // Kills the child if it is still running and reaps it.
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // The next stdout line (without '\n'); nullopt on EOF or when `timeout`
  // passes first.
  std::optional<std::string> readLine(std::chrono::milliseconds timeout);
  // Reads stdout to EOF (which the child reaches by exiting) within
  // `timeout`, then reaps it. Returns the remaining lines and the exit
  // status (nullopt if it did not exit normally or in time).
  std::optional<int> waitExit(std::chrono::milliseconds timeout, std::vector<std::string>* rest = nullptr);
  void signal(int signal_number);

 private:
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  std::string buffered_;
  bool eof_ = false;
};

}  // namespace overline::sdk::testing
