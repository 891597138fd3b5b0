#pragma once
// overline-bench-loss: the media source and sink every system under test is
// measured with. A media packet is a UDP payload (or an Overline DATA
// payload) of the configured size that starts with a stamp:
//
//   offset size field
//   0      4    magic "OLBM"
//   4      1    phase      0 = warm-up, 1 = measured
//   5      4    sequence   big-endian; per phase, from 0
//   9      8    sent_us    big-endian; steady clock of this process, us
//
// followed by zeros. Source and sink live in the bench process, so sent_us
// and the arrival time come from the same clock.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "common/endpoint.h"
#include "common/result.h"
#include "common/types.h"

namespace overline::bench {

// Microseconds of std::chrono::steady_clock.
TimeUs steadyNowUs();

enum class MediaPhase : std::uint8_t { kWarmUp = 0, kMeasured = 1 };

struct MediaStamp {
  MediaPhase phase = MediaPhase::kMeasured;
  std::uint32_t sequence = 0;
  TimeUs sent_us = 0;
};

constexpr std::size_t kMediaStampBytes = 17;

// Writes `stamp` at the start of `payload` (at least kMediaStampBytes).
void writeMediaStamp(std::span<std::byte> payload, const MediaStamp& stamp);
// The stamp of a media packet; nullopt for anything else (too short, bad
// magic or phase).
std::optional<MediaStamp> readMediaStamp(std::span<const std::byte> payload);

// What one system delivered of the measured packets, against a latency budget.
struct DeliveryFigures {
  std::uint64_t sent = 0;
  std::uint64_t on_time = 0;  // distinct sequences whose first copy came within the budget
  std::uint64_t late = 0;     // distinct sequences whose first copy came after it
  std::uint64_t lost = 0;     // never came (sent - on_time - late)
  double p50_ms = 0;          // latency of the on-time packets, nearest rank; 0 when none
  double p99_ms = 0;
  double deliveredPercent() const { return sent == 0 ? 0 : 100.0 * static_cast<double>(on_time) / sent; }
};

// Nearest-rank percentile (0 < p <= 100) of `values`, which it sorts; 0 for none.
double percentile(std::vector<DurationUs>& values, double p);

// The sink's record of media arrivals: the first arrival of every measured
// sequence, and how many warm-up packets came. Thread-safe: the sink's
// thread records while the runner polls.
class ArrivalLog {
 public:
  // Measured sequences at or above `measured_packets` are counted as strays.
  explicit ArrivalLog(std::uint32_t measured_packets);

  void record(std::span<const std::byte> payload, TimeUs arrival_us);

  std::uint64_t warmUpArrivals() const;
  std::uint64_t measuredArrivals() const;  // distinct measured sequences so far
  // Figures for measured sequences 0..sent-1 (sent <= measured_packets).
  DeliveryFigures figures(std::uint32_t sent, DurationUs budget_us) const;

 private:
  mutable std::mutex mutex_;
  std::vector<DurationUs> latency_us_;  // index = sequence; -1 until the first copy came
  std::uint64_t measured_arrivals_ = 0;
  std::uint64_t warm_up_arrivals_ = 0;
  std::uint64_t strays_ = 0;  // not a media packet, or a sequence out of range
};

// A UDP socket on 127.0.0.1 (kernel-chosen port) whose thread records every
// datagram into an ArrivalLog until the sink is destroyed.
class UdpSink {
 public:
  // `log` must outlive the sink.
  static Result<std::unique_ptr<UdpSink>, std::string> open(ArrivalLog& log);
  ~UdpSink();
  UdpSink(const UdpSink&) = delete;
  UdpSink& operator=(const UdpSink&) = delete;

  const Endpoint& endpoint() const { return endpoint_; }

 private:
  UdpSink(int fd, const Endpoint& endpoint, ArrivalLog& log);
  void run();

  const int fd_;
  const Endpoint endpoint_;
  ArrivalLog& log_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// An unbound UDP socket that sends media datagrams.
class UdpSource {
 public:
  static Result<std::unique_ptr<UdpSource>, std::string> open();
  ~UdpSource();
  UdpSource(const UdpSource&) = delete;
  UdpSource& operator=(const UdpSource&) = delete;

  // False when the kernel refused the datagram.
  bool send(const Endpoint& to, std::span<const std::byte> payload);

 private:
  explicit UdpSource(int fd) : fd_(fd) {}
  const int fd_;
};

}  // namespace overline::bench
