#include "bench/loss_bench_media.h"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstring>

namespace overline::bench {
namespace {

constexpr std::array<std::byte, 4> kMagic{std::byte{'O'}, std::byte{'L'}, std::byte{'B'}, std::byte{'M'}};
constexpr int kSocketBufferBytes = 4 << 20;
constexpr int kPollIntervalMs = 50;  // how soon the sink's thread notices it should stop

void putBigEndian(std::span<std::byte> out, std::uint64_t value, std::size_t bytes) {
  for (std::size_t i = 0; i < bytes; ++i) {
    out[i] = static_cast<std::byte>(value >> (8 * (bytes - 1 - i)));
  }
}

std::uint64_t getBigEndian(std::span<const std::byte> in, std::size_t bytes) {
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < bytes; ++i) value = (value << 8) | std::to_integer<std::uint64_t>(in[i]);
  return value;
}

std::string errnoText(const std::string& what) { return what + ": " + std::strerror(errno); }

}  // namespace

TimeUs steadyNowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void writeMediaStamp(std::span<std::byte> payload, const MediaStamp& stamp) {
  std::copy(kMagic.begin(), kMagic.end(), payload.begin());
  payload[4] = static_cast<std::byte>(stamp.phase);
  putBigEndian(payload.subspan(5), stamp.sequence, 4);
  putBigEndian(payload.subspan(9), static_cast<std::uint64_t>(stamp.sent_us), 8);
}

std::optional<MediaStamp> readMediaStamp(std::span<const std::byte> payload) {
  if (payload.size() < kMediaStampBytes || !std::equal(kMagic.begin(), kMagic.end(), payload.begin())) {
    return std::nullopt;
  }
  const auto phase = std::to_integer<std::uint8_t>(payload[4]);
  if (phase > static_cast<std::uint8_t>(MediaPhase::kMeasured)) return std::nullopt;
  return MediaStamp{static_cast<MediaPhase>(phase), static_cast<std::uint32_t>(getBigEndian(payload.subspan(5), 4)),
                    static_cast<TimeUs>(getBigEndian(payload.subspan(9), 8))};
}

double percentile(std::vector<DurationUs>& values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(values.size())));
  return static_cast<double>(values[std::clamp<std::size_t>(rank, 1, values.size()) - 1]) / 1000.0;
}

ArrivalLog::ArrivalLog(std::uint32_t measured_packets) : latency_us_(measured_packets, -1) {}

void ArrivalLog::record(std::span<const std::byte> payload, TimeUs arrival_us) {
  const auto stamp = readMediaStamp(payload);
  std::lock_guard lock(mutex_);
  if (!stamp) {
    ++strays_;
    return;
  }
  if (stamp->phase == MediaPhase::kWarmUp) {
    ++warm_up_arrivals_;
    return;
  }
  if (stamp->sequence >= latency_us_.size()) {
    ++strays_;
    return;
  }
  DurationUs& latency = latency_us_[stamp->sequence];
  if (latency >= 0) return;  // a duplicate: the first copy counts
  latency = std::max<DurationUs>(0, arrival_us - stamp->sent_us);
  ++measured_arrivals_;
}

std::uint64_t ArrivalLog::warmUpArrivals() const {
  std::lock_guard lock(mutex_);
  return warm_up_arrivals_;
}

std::uint64_t ArrivalLog::measuredArrivals() const {
  std::lock_guard lock(mutex_);
  return measured_arrivals_;
}

DeliveryFigures ArrivalLog::figures(std::uint32_t sent, DurationUs budget_us) const {
  std::lock_guard lock(mutex_);
  DeliveryFigures figures;
  figures.sent = std::min<std::size_t>(sent, latency_us_.size());
  std::vector<DurationUs> on_time;
  on_time.reserve(figures.sent);
  for (std::size_t i = 0; i < figures.sent; ++i) {
    const DurationUs latency = latency_us_[i];
    if (latency < 0) continue;
    if (latency <= budget_us) {
      on_time.push_back(latency);
    } else {
      ++figures.late;
    }
  }
  figures.on_time = on_time.size();
  figures.lost = figures.sent - figures.on_time - figures.late;
  figures.p50_ms = percentile(on_time, 50);
  figures.p99_ms = percentile(on_time, 99);
  return figures;
}

Result<std::unique_ptr<UdpSink>, std::string> UdpSink::open(ArrivalLog& log) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Err{errnoText("sink socket")};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &kSocketBufferBytes, sizeof(kSocketBufferBytes));
  sockaddr_in addr = Endpoint(0x7F000001, 0).toSockaddr();
  socklen_t length = sizeof(addr);
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length) != 0) {
    const std::string error = errnoText("sink bind");
    ::close(fd);
    return Err{error};
  }
  return std::unique_ptr<UdpSink>(new UdpSink(fd, Endpoint::fromSockaddr(addr), log));
}

UdpSink::UdpSink(int fd, const Endpoint& endpoint, ArrivalLog& log)
    : fd_(fd), endpoint_(endpoint), log_(log), thread_([this] { run(); }) {}

UdpSink::~UdpSink() {
  stop_ = true;
  thread_.join();
  ::close(fd_);
}

void UdpSink::run() {
  std::array<std::byte, 65536> buffer{};
  while (!stop_) {
    pollfd pfd{fd_, POLLIN, 0};
    if (::poll(&pfd, 1, kPollIntervalMs) <= 0) continue;
    // Bounded per wake-up so a flood cannot keep the thread from stopping.
    for (int i = 0; i < 1000; ++i) {
      const ssize_t n = ::recv(fd_, buffer.data(), buffer.size(), MSG_DONTWAIT);
      if (n < 0) break;
      log_.record(std::span<const std::byte>(buffer.data(), static_cast<std::size_t>(n)), steadyNowUs());
    }
  }
}

Result<std::unique_ptr<UdpSource>, std::string> UdpSource::open() {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Err{errnoText("source socket")};
  ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &kSocketBufferBytes, sizeof(kSocketBufferBytes));
  return std::unique_ptr<UdpSource>(new UdpSource(fd));
}

UdpSource::~UdpSource() { ::close(fd_); }

bool UdpSource::send(const Endpoint& to, std::span<const std::byte> payload) {
  const sockaddr_in addr = to.toSockaddr();
  return ::sendto(fd_, payload.data(), payload.size(), 0, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) ==
         static_cast<ssize_t>(payload.size());
}

}  // namespace overline::bench
