#pragma once
// ReceiveStats: loss, duplicate, reordering, jitter and one-way latency
// figures for one received stream, from bounded memory.
//
// Fed one call per received DATA packet with the wire sequence, the
// publisher's send timestamp and the local arrival time (both wall-clock
// microseconds: latency is exact on one machine and valid when clocks are
// synchronised). Pure: it never reads a clock. Not thread-safe.
//
// Sequences are 32-bit on the wire and are extended to 64 bits: each packet
// takes the value closest to the highest sequence seen so far, so a stream
// keeps counting across the 2^32 wrap.
//
// Duplicates are detected in a sliding window of the kWindow sequences ending
// at the highest one seen. A packet older than that window cannot be told
// apart from a duplicate, so it is counted as `late` and nothing else: it is
// neither unique nor a duplicate, does not move first/last, and if it was
// new its sequence stays counted as lost. A packet that far behind is useless
// to a real-time receiver anyway.

#include <array>
#include <cstdint>
#include <optional>

#include "sdk/core/latency_histogram.h"

namespace overline::sdk {

struct ReceiveSnapshot {
  std::uint64_t received = 0;    // every packet passed to onPacket
  std::uint64_t unique = 0;      // distinct sequences, each counted once
  std::uint64_t duplicates = 0;  // repeats of a sequence inside the window
  std::uint64_t late = 0;        // older than the window (see above)
  // (highest - lowest + 1) - unique over the extended sequences: gaps not
  // (yet) filled. A reordered packet filling a gap lowers it again.
  std::uint64_t lost = 0;
  std::uint64_t reordered = 0;  // unique packets that arrived below the highest sequence seen
  double jitter_us = 0;         // RFC 3550 interarrival jitter over unique packets
  // Longest time between the arrivals of two consecutive unique packets: the
  // outage a viewer saw (e.g. during a failover). 0 until two arrived.
  std::uint64_t max_gap_us = 0;
  // One-way latency (arrival - send) over unique packets; see LatencyHistogram.
  std::uint64_t latency_p50_us = 0;
  std::uint64_t latency_p90_us = 0;
  std::uint64_t latency_p99_us = 0;
  std::uint64_t latency_max_us = 0;
  // Unique packets that arrived before they were sent (clocks not in sync);
  // their latency is recorded as 0.
  std::uint64_t negative_latency = 0;
  // Wire sequences of the lowest and highest unique packet; empty until one arrived.
  std::optional<std::uint32_t> first_sequence;
  std::optional<std::uint32_t> last_sequence;
};

class ReceiveStats {
 public:
  static constexpr std::uint64_t kWindow = 65536;

  void onPacket(std::uint32_t sequence, std::uint64_t send_timestamp_us, std::uint64_t arrival_us);
  ReceiveSnapshot snapshot() const;
  // Cheap, for per-packet checks; snapshot() also derives percentiles.
  std::uint64_t uniqueCount() const { return counts_.unique; }

 private:
  static constexpr std::size_t kWordBits = 64;

  bool testAndSet(std::int64_t extended);
  void clearBit(std::int64_t extended);
  void advanceWindow(std::int64_t new_highest);

  ReceiveSnapshot counts_;  // the plain counters; figures derived at snapshot()
  bool started_ = false;
  std::int64_t lowest_ = 0;  // extended sequences of unique packets
  std::int64_t highest_ = 0;
  // Bit (s mod kWindow) is set when extended sequence s in (highest_ - kWindow, highest_] arrived.
  std::array<std::uint64_t, kWindow / kWordBits> seen_{};
  std::optional<std::int64_t> previous_transit_us_;
  std::optional<std::uint64_t> previous_unique_arrival_us_;
  double jitter_us_ = 0;
  LatencyHistogram latency_;
};

}  // namespace overline::sdk
