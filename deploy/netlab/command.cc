#include "deploy/netlab/command.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <thread>

namespace overline::netlab {

std::string findExecutable(const std::string& program) {
  if (program.find('/') != std::string::npos) return access(program.c_str(), X_OK) == 0 ? program : "";
  std::string dirs;
  if (const char* path = std::getenv("PATH")) dirs = path;
  dirs += ":/usr/sbin:/sbin";
  std::istringstream in(dirs);
  for (std::string dir; std::getline(in, dir, ':');) {
    if (dir.empty()) continue;
    const std::string candidate = dir + "/" + program;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

namespace {

void closeFd(int& fd) {
  if (fd >= 0) close(fd);
  fd = -1;
}

}  // namespace

CommandResult runCommand(const std::vector<std::string>& argv, const std::string& input,
                         std::chrono::milliseconds timeout) {
  CommandResult result;
  const std::string program = argv.empty() ? "" : findExecutable(argv[0]);
  if (program.empty()) {
    result.output = (argv.empty() ? std::string("(empty command)") : argv[0]) + ": not found";
    return result;
  }
  // stdin is a socket pair so that writing to a command that exited early
  // fails with EPIPE (MSG_NOSIGNAL) instead of raising SIGPIPE in the caller.
  int in_pair[2];
  int out_pipe[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in_pair) != 0) {
    result.output = std::string("socketpair: ") + std::strerror(errno);
    return result;
  }
  if (pipe2(out_pipe, O_CLOEXEC) != 0) {
    result.output = std::string("pipe: ") + std::strerror(errno);
    close(in_pair[0]);
    close(in_pair[1]);
    return result;
  }
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args[0] = const_cast<char*>(program.c_str());
  args.push_back(nullptr);
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) {
    result.output = std::string("fork: ") + std::strerror(errno);
    for (int fd : {in_pair[0], in_pair[1], out_pipe[0], out_pipe[1]}) close(fd);
    return result;
  }
  if (pid == 0) {
    // Child: only async-signal-safe calls until exec.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    dup2(in_pair[0], STDIN_FILENO);
    dup2(out_pipe[1], STDOUT_FILENO);
    dup2(out_pipe[1], STDERR_FILENO);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  close(in_pair[0]);
  close(out_pipe[1]);
  int in_fd = in_pair[1];
  int out_fd = out_pipe[0];
  fcntl(in_fd, F_SETFL, fcntl(in_fd, F_GETFL) | O_NONBLOCK);
  std::size_t written = 0;
  if (input.empty()) closeFd(in_fd);

  const auto deadline = std::chrono::steady_clock::now() + timeout;
  bool timed_out = false;
  while (out_fd >= 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    pollfd fds[2] = {{out_fd, POLLIN, 0}, {in_fd, POLLOUT, 0}};
    const int n = poll(fds, in_fd >= 0 ? 2 : 1, static_cast<int>(left.count()));
    if (n < 0 && errno != EINTR) break;
    if (n <= 0) continue;
    if (fds[0].revents != 0) {
      char buf[4096];
      const ssize_t got = read(out_fd, buf, sizeof buf);
      if (got > 0) {
        result.output.append(buf, static_cast<std::size_t>(got));
      } else if (got == 0 || errno != EAGAIN) {
        closeFd(out_fd);  // every writer closed: the command is exiting
      }
    }
    if (in_fd >= 0 && fds[1].revents != 0) {
      const ssize_t put = send(in_fd, input.data() + written, input.size() - written, MSG_NOSIGNAL);
      if (put > 0) written += static_cast<std::size_t>(put);
      if (put < 0 || written == input.size()) closeFd(in_fd);
    }
  }
  closeFd(in_fd);
  closeFd(out_fd);
  if (timed_out) kill(pid, SIGKILL);
  // Its output closed, so the command is exiting; a command that closes
  // stdout and lingers is killed after a bounded wait.
  int status = 0;
  const auto reap_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() >= reap_deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      timed_out = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (timed_out) {
    result.output += "(killed after " + std::to_string(timeout.count()) + " ms)";
  } else if (WIFEXITED(status)) {
    result.exit_code = WEXITSTATUS(status);
  }
  return result;
}

namespace {

std::string failureLine(const std::vector<std::string>& argv, const CommandResult& r) {
  std::string command;
  for (const auto& a : argv) command += (command.empty() ? "" : " ") + a;
  std::string output = r.output;
  while (!output.empty() && output.back() == '\n') output.pop_back();
  return "`" + command + "` failed (exit " + std::to_string(r.exit_code) + "): " + output;
}

}  // namespace

std::string runChecked(const std::vector<std::string>& argv, const std::string& input,
                       std::chrono::milliseconds timeout) {
  const CommandResult r = runCommand(argv, input, timeout);
  return r.ok() ? "" : failureLine(argv, r);
}

Result<std::string, std::string> runForOutput(const std::vector<std::string>& argv,
                                              std::chrono::milliseconds timeout) {
  CommandResult r = runCommand(argv, "", timeout);
  if (!r.ok()) return Err{failureLine(argv, r)};
  return std::move(r.output);
}

}  // namespace overline::netlab
