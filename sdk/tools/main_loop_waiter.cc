#include "sdk/tools/main_loop_waiter.h"

#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <ctime>

namespace overline::sdk::tools {

TimeUs monotonicUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

Result<MainLoopWaiter, std::string> MainLoopWaiter::create() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  if (pthread_sigmask(SIG_BLOCK, &signals, nullptr) != 0) return Err{std::string("pthread_sigmask failed")};
  UniqueFd signal_fd(::signalfd(-1, &signals, SFD_NONBLOCK | SFD_CLOEXEC));
  if (!signal_fd.valid()) return Err{std::string("signalfd: ") + std::strerror(errno)};
  UniqueFd event_fd(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!event_fd.valid()) return Err{std::string("eventfd: ") + std::strerror(errno)};
  return MainLoopWaiter(std::move(signal_fd), std::move(event_fd));
}

MainLoopWaiter::Wake MainLoopWaiter::waitUntil(TimeUs deadline_us) {
  for (;;) {
    const DurationUs remaining_us = std::max<DurationUs>(0, deadline_us - monotonicUs());
    const timespec timeout{static_cast<time_t>(remaining_us / kSecond),
                           static_cast<long>((remaining_us % kSecond) * 1000)};
    pollfd fds[2] = {{signal_fd_.get(), POLLIN, 0}, {event_fd_.get(), POLLIN, 0}};
    const int ready = ::ppoll(fds, 2, &timeout, nullptr);
    if (ready < 0 && errno == EINTR) continue;
    if (ready > 0 && (fds[0].revents & POLLIN) != 0) return Wake::kSignal;  // left pending: stop is final
    if (ready > 0 && (fds[1].revents & POLLIN) != 0) {
      std::uint64_t value = 0;
      (void)::read(event_fd_.get(), &value, sizeof(value));
      return Wake::kNotified;
    }
    if (monotonicUs() >= deadline_us) return Wake::kDeadline;
  }
}

void MainLoopWaiter::notify() {
  const std::uint64_t one = 1;
  (void)::write(event_fd_.get(), &one, sizeof(one));
}

}  // namespace overline::sdk::tools
