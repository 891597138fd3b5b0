#pragma once
// runInChild: runs `body` in a forked child with stdout discarded and stderr
// captured, and reports how the child ended. For tests of code that aborts.
// Call it only from a single-threaded test process. The child restores the
// default SIGABRT action first, so Catch2's fatal-signal handler does not
// report the abort as a failure of the parent's test case.

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <string>

namespace overline::test {

struct ChildResult {
  bool exited = false;  // normal exit, with exit_code
  int exit_code = -1;
  bool signalled = false;  // killed by signal_number
  int signal_number = 0;
  std::string stderr_text;
};

template <typename Body>
ChildResult runInChild(Body body) {
  ChildResult result;
  int fds[2];
  if (::pipe(fds) != 0) return result;
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    return result;
  }
  if (pid == 0) {
    std::signal(SIGABRT, SIG_DFL);
    const int null_fd = ::open("/dev/null", O_WRONLY);
    if (null_fd >= 0) ::dup2(null_fd, STDOUT_FILENO);
    ::dup2(fds[1], STDERR_FILENO);
    ::close(fds[0]);
    ::close(fds[1]);
    body();
    ::_exit(0);
  }
  ::close(fds[1]);
  char buffer[512];
  for (ssize_t n; (n = ::read(fds[0], buffer, sizeof buffer)) != 0;) {
    if (n < 0) break;
    result.stderr_text.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fds[0]);
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid) return result;
  result.exited = WIFEXITED(status);
  if (result.exited) result.exit_code = WEXITSTATUS(status);
  result.signalled = WIFSIGNALED(status);
  if (result.signalled) result.signal_number = WTERMSIG(status);
  return result;
}

}  // namespace overline::test
