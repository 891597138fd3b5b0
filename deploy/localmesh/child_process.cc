#include "deploy/localmesh/child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>
#include <utility>

namespace overline::localmesh {

std::optional<ChildProcess> ChildProcess::start(const std::vector<std::string>& argv,
                                                const std::string& stderr_path, std::string* error,
                                                bool with_stdin) {
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) {
    *error = std::string("pipe: ") + std::strerror(errno);
    return std::nullopt;
  }
  int stdin_fds[2] = {-1, -1};
  if (with_stdin && pipe2(stdin_fds, O_CLOEXEC) != 0) {
    *error = std::string("pipe: ") + std::strerror(errno);
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    return std::nullopt;
  }
  int stderr_fd = -1;
  if (!stderr_path.empty()) {
    stderr_fd = open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (stderr_fd < 0) {
      *error = "open " + stderr_path + ": " + std::strerror(errno);
      for (const int fd : {pipe_fds[0], pipe_fds[1], stdin_fds[0], stdin_fds[1]}) {
        if (fd >= 0) close(fd);
      }
      return std::nullopt;
    }
  }
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t parent = getpid();
  const auto started_at = std::chrono::steady_clock::now();
  const pid_t pid = fork();
  if (pid < 0) {
    *error = std::string("fork: ") + std::strerror(errno);
    for (const int fd : {pipe_fds[0], pipe_fds[1], stdin_fds[0], stdin_fds[1], stderr_fd}) {
      if (fd >= 0) close(fd);
    }
    return std::nullopt;
  }
  if (pid == 0) {
    // Child: only async-signal-safe calls until exec.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    // Own process group: a terminal's Ctrl-C reaches only the harness, which
    // then shuts its children down in order.
    setpgid(0, 0);
    dup2(pipe_fds[1], STDOUT_FILENO);
    if (stdin_fds[0] >= 0) dup2(stdin_fds[0], STDIN_FILENO);
    if (stderr_fd >= 0) dup2(stderr_fd, STDERR_FILENO);
    // Children start with default signal handling whatever the harness set.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  close(pipe_fds[1]);
  if (stdin_fds[0] >= 0) close(stdin_fds[0]);
  if (stderr_fd >= 0) close(stderr_fd);
  fcntl(pipe_fds[0], F_SETFL, fcntl(pipe_fds[0], F_GETFL) | O_NONBLOCK);
  return ChildProcess(pid, pipe_fds[0], stdin_fds[1], started_at);
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept { *this = std::move(other); }

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept {
  if (this != &other) {
    release();
    pid_ = std::exchange(other.pid_, -1);
    stdout_fd_ = std::exchange(other.stdout_fd_, -1);
    stdin_fd_ = std::exchange(other.stdin_fd_, -1);
    started_at_ = other.started_at_;
    exit_status_ = std::exchange(other.exit_status_, std::nullopt);
    pending_ = std::move(other.pending_);
    lines_ = std::move(other.lines_);
  }
  return *this;
}

ChildProcess::~ChildProcess() { release(); }

void ChildProcess::release() {
  if (pid_ > 0 && !exit_status_) stop();
  closeStdin();
  if (stdout_fd_ >= 0) close(stdout_fd_);
  pid_ = -1;
  stdout_fd_ = -1;
}

bool ChildProcess::running() {
  if (pid_ <= 0 || exit_status_) return false;
  int status = 0;
  const pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    exit_status_ = status;
    return false;
  }
  return true;
}

void ChildProcess::signal(int sig) {
  if (running()) kill(pid_, sig);
}

std::optional<int> ChildProcess::waitExit(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (running()) {
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    // Drain stdout meanwhile so a chatty child never blocks on a full pipe.
    fillBuffer(5);
  }
  return exit_status_;
}

int ChildProcess::stop(std::chrono::milliseconds grace) {
  if (!running()) return exit_status_.value_or(0);
  kill(pid_, SIGTERM);
  if (auto status = waitExit(grace)) return *status;
  return killAndReap();
}

int ChildProcess::killAndReap() {
  if (!running()) return exit_status_.value_or(0);
  kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  exit_status_ = status;
  return status;
}

bool ChildProcess::fillBuffer(int timeout_ms) {
  if (stdout_fd_ < 0) return false;
  pollfd pfd{stdout_fd_, POLLIN, 0};
  if (poll(&pfd, 1, timeout_ms) <= 0) return false;
  char buf[4096];
  bool got = false;
  for (;;) {
    const ssize_t n = read(stdout_fd_, buf, sizeof buf);
    if (n <= 0) break;
    got = true;
    pending_.append(buf, static_cast<std::size_t>(n));
  }
  std::size_t start = 0;
  for (std::size_t nl; (nl = pending_.find('\n', start)) != std::string::npos; start = nl + 1) {
    lines_.push_back(pending_.substr(start, nl - start));
  }
  pending_.erase(0, start);
  return got;
}

std::vector<std::string> ChildProcess::readLines() {
  fillBuffer(0);
  return std::exchange(lines_, {});
}

std::optional<std::string> ChildProcess::nextLine(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (lines_.empty()) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    if (!fillBuffer(static_cast<int>(std::min<long>(left.count(), 50))) && !running() && lines_.empty()) {
      // Child gone and pipe drained.
      fillBuffer(0);
      if (lines_.empty()) return std::nullopt;
    }
  }
  std::string line = std::move(lines_.front());
  lines_.erase(lines_.begin());
  return line;
}

bool ChildProcess::writeLine(const std::string& line) {
  if (stdin_fd_ < 0) return false;
  const std::string text = line + "\n";
  // A child that exited makes write() raise SIGPIPE, whose default action
  // would kill the harness: block it for this thread while writing, and
  // consume it if it was raised (the write then fails with EPIPE).
  sigset_t pipe_signal;
  sigset_t old_mask;
  sigemptyset(&pipe_signal);
  sigaddset(&pipe_signal, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_signal, &old_mask);
  std::size_t written = 0;
  bool ok = true;
  while (written < text.size()) {
    const ssize_t n = write(stdin_fd_, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ok = false;
      break;
    }
    written += static_cast<std::size_t>(n);
  }
  if (!ok && errno == EPIPE) {
    const timespec no_wait{0, 0};
    sigtimedwait(&pipe_signal, nullptr, &no_wait);
  }
  pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  return ok;
}

void ChildProcess::closeStdin() {
  if (stdin_fd_ >= 0) close(stdin_fd_);
  stdin_fd_ = -1;
}

}  // namespace overline::localmesh
