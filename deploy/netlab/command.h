#pragma once
// Runs one short administrative command (ip, nft, tc, sysctl) to completion
// and captures what it printed. The lab is built and changed through these
// tools rather than raw netlink so that every step is the same command an
// operator would type (README.md lists them).
//
// Unlike localmesh::ChildProcess, which supervises long-lived relays and
// tools, this is synchronous: it feeds `input` to stdin, collects stdout and
// stderr together, and kills the command if it outlives `timeout`.

#include <chrono>
#include <string>
#include <vector>

#include "common/result.h"

namespace overline::netlab {

struct CommandResult {
  // Exit code; -1 if the command could not be started, was killed by a
  // signal or timed out.
  int exit_code = -1;
  std::string output;  // stdout and stderr, interleaved as written
  bool ok() const { return exit_code == 0; }
};

// `argv[0]` is looked up in PATH (and in /usr/sbin and /sbin, where ip, nft
// and tc live even when PATH lacks them).
CommandResult runCommand(const std::vector<std::string>& argv, const std::string& input = "",
                         std::chrono::milliseconds timeout = std::chrono::seconds(10));

// Runs the command and returns "" if it exited 0, else one line naming the
// command, its exit code and its output (for error messages).
std::string runChecked(const std::vector<std::string>& argv, const std::string& input = "",
                       std::chrono::milliseconds timeout = std::chrono::seconds(10));

// Runs the command and returns its output if it exited 0, else the error
// line of runChecked.
Result<std::string, std::string> runForOutput(const std::vector<std::string>& argv,
                                              std::chrono::milliseconds timeout = std::chrono::seconds(10));

// Absolute path of `program` (PATH, then /usr/sbin, /sbin); "" if not found.
// localmesh::ChildProcess execs argv[0] without a PATH search.
std::string findExecutable(const std::string& program);

}  // namespace overline::netlab
