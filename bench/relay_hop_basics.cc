#include "bench/relay_hop_basics.h"

#include <signal.h>
#include <sys/random.h>
#include <time.h>

#include <atomic>
#include <cerrno>
#include <cstring>

namespace overline::bench {
namespace {

std::atomic<bool> g_interrupted{false};
static_assert(std::atomic<bool>::is_always_lock_free, "set from a signal handler");

void onInterrupt(int) { g_interrupted.store(true, std::memory_order_relaxed); }

}  // namespace

TimeUs nowUs() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<TimeUs>(ts.tv_sec) * kSecond + ts.tv_nsec / 1000;
}

std::string errnoText(const std::string& what) { return what + ": " + std::strerror(errno); }

Result<std::vector<std::uint8_t>, std::string> randomBytes(std::size_t count) {
  std::vector<std::uint8_t> bytes(count);
  for (std::size_t done = 0; done < count;) {
    const ssize_t n = ::getrandom(bytes.data() + done, count - done, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Err(errnoText("getrandom"));
    }
    done += static_cast<std::size_t>(n);
  }
  return bytes;
}

std::string toHex(std::span<const std::uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(bytes.size() * 2);
  for (const std::uint8_t b : bytes) {
    hex += kDigits[b >> 4];
    hex += kDigits[b & 0xF];
  }
  return hex;
}

void installInterruptHandlers() {
  struct sigaction action {};
  action.sa_handler = onInterrupt;
  sigemptyset(&action.sa_mask);
  // No SA_RESTART: a blocked poll or sleep returns EINTR and its loop looks
  // at the flag at once.
  action.sa_flags = SA_RESETHAND;
  for (const int signal : {SIGINT, SIGTERM, SIGHUP}) ::sigaction(signal, &action, nullptr);
}

bool interrupted() { return g_interrupted.load(std::memory_order_relaxed); }

}  // namespace overline::bench
