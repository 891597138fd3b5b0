#include "sdk/core/receive_stats.h"

#include <algorithm>
#include <cmath>

namespace overline::sdk {
namespace {

std::size_t slot(std::int64_t extended) {
  return static_cast<std::size_t>(static_cast<std::uint64_t>(extended) % ReceiveStats::kWindow);
}

}  // namespace

bool ReceiveStats::testAndSet(std::int64_t extended) {
  const std::size_t s = slot(extended);
  const std::uint64_t mask = std::uint64_t{1} << (s % kWordBits);
  std::uint64_t& word = seen_[s / kWordBits];
  const bool was_set = (word & mask) != 0;
  word |= mask;
  return was_set;
}

void ReceiveStats::clearBit(std::int64_t extended) {
  const std::size_t s = slot(extended);
  seen_[s / kWordBits] &= ~(std::uint64_t{1} << (s % kWordBits));
}

void ReceiveStats::advanceWindow(std::int64_t new_highest) {
  // Sequences highest_+1 .. new_highest enter the window; their slots still
  // hold bits of sequences that now leave it.
  if (new_highest - highest_ >= static_cast<std::int64_t>(kWindow)) {
    seen_.fill(0);
  } else {
    for (std::int64_t s = highest_ + 1; s <= new_highest; ++s) clearBit(s);
  }
  highest_ = new_highest;
}

void ReceiveStats::onPacket(std::uint32_t sequence, std::uint64_t send_timestamp_us,
                            std::uint64_t arrival_us) {
  ++counts_.received;

  std::int64_t extended = sequence;
  if (!started_) {
    started_ = true;
    lowest_ = highest_ = extended;
  } else {
    // The signed 32-bit distance from the highest sequence picks the nearest
    // 64-bit value, forward or backward across a wrap.
    const auto delta = static_cast<std::int32_t>(sequence - static_cast<std::uint32_t>(highest_));
    extended = highest_ + delta;
    if (extended <= highest_ - static_cast<std::int64_t>(kWindow)) {
      ++counts_.late;
      return;
    }
    if (extended > highest_) advanceWindow(extended);
  }

  if (testAndSet(extended)) {
    ++counts_.duplicates;
    return;
  }
  ++counts_.unique;
  if (extended < highest_) ++counts_.reordered;
  if (extended < lowest_) lowest_ = extended;
  if (previous_unique_arrival_us_ && arrival_us > *previous_unique_arrival_us_) {
    counts_.max_gap_us = std::max(counts_.max_gap_us, arrival_us - *previous_unique_arrival_us_);
  }
  previous_unique_arrival_us_ = arrival_us;

  // RFC 3550 6.4.1: J += (|D| - J) / 16, D the change in transit time.
  // Transit may be negative when clocks differ; only its changes matter here.
  const auto transit_us = static_cast<std::int64_t>(arrival_us - send_timestamp_us);
  if (previous_transit_us_) {
    const double d = std::fabs(static_cast<double>(transit_us - *previous_transit_us_));
    jitter_us_ += (d - jitter_us_) / 16.0;
  }
  previous_transit_us_ = transit_us;

  if (arrival_us >= send_timestamp_us) {
    latency_.record(arrival_us - send_timestamp_us);
  } else {
    ++counts_.negative_latency;
    latency_.record(0);
  }
}

ReceiveSnapshot ReceiveStats::snapshot() const {
  ReceiveSnapshot s = counts_;
  if (!started_) return s;
  s.lost = static_cast<std::uint64_t>(highest_ - lowest_ + 1) - counts_.unique;
  s.jitter_us = jitter_us_;
  s.latency_p50_us = latency_.percentile(0.50);
  s.latency_p90_us = latency_.percentile(0.90);
  s.latency_p99_us = latency_.percentile(0.99);
  s.latency_max_us = latency_.max();
  s.first_sequence = static_cast<std::uint32_t>(lowest_);
  s.last_sequence = static_cast<std::uint32_t>(highest_);
  return s;
}

}  // namespace overline::sdk
