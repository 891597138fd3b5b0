#pragma once
// LatencyHistogram: percentiles of microsecond samples from bounded memory.
//
// A log-linear histogram (the HdrHistogram layout with 64 sub-buckets per
// power of two): values below 128 us have exact buckets; above that a bucket
// is at most 1/64 (1.6 %) of its value wide. It covers 0 .. 2^24 us
// (16.7 s) in 1216 counters (~10 KB) however many samples arrive; larger
// values land in the top bucket and are still reflected exactly in max().
// Not thread-safe.

#include <array>
#include <cstddef>
#include <cstdint>

namespace overline::sdk {

class LatencyHistogram {
 public:
  static constexpr std::uint64_t kMaxTrackedUs = (std::uint64_t{1} << 24) - 1;

  void record(std::uint64_t value_us);

  std::uint64_t count() const { return count_; }
  std::uint64_t min() const { return count_ == 0 ? 0 : min_us_; }
  std::uint64_t max() const { return max_us_; }

  // The value at or below which `quantile` (in (0, 1]) of the samples lie:
  // the midpoint of the bucket holding that rank, clamped to [min(), max()].
  // Exact below 128 us, within 1.6 % above. 0 when empty.
  std::uint64_t percentile(double quantile) const;

 private:
  static constexpr int kSubBucketBits = 6;
  static constexpr std::uint64_t kSubBuckets = std::uint64_t{1} << kSubBucketBits;  // 64
  static constexpr std::uint64_t kExactLimit = 2 * kSubBuckets;                     // 128
  // Octaves [2^7, 2^8) .. [2^23, 2^24), 64 buckets each, after 128 exact ones.
  static constexpr std::size_t kBucketCount = kExactLimit + (24 - 7) * kSubBuckets;  // 1216

  static std::size_t bucketIndex(std::uint64_t value_us);
  static std::uint64_t bucketLower(std::size_t index);
  static std::uint64_t bucketWidth(std::size_t index);

  std::array<std::uint64_t, kBucketCount> counts_{};
  std::uint64_t count_ = 0;
  std::uint64_t min_us_ = 0;
  std::uint64_t max_us_ = 0;
};

}  // namespace overline::sdk
