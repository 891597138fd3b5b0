#include "sdk/core/latency_histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace overline::sdk {

std::size_t LatencyHistogram::bucketIndex(std::uint64_t value_us) {
  const std::uint64_t v = std::min(value_us, kMaxTrackedUs);
  if (v < kExactLimit) return static_cast<std::size_t>(v);
  const int exponent = std::bit_width(v) - 1;  // 7 .. 23
  const int shift = exponent - kSubBucketBits;
  const std::uint64_t mantissa = v >> shift;  // 64 .. 127
  return static_cast<std::size_t>(kExactLimit + static_cast<std::uint64_t>(exponent - 7) * kSubBuckets +
                                  (mantissa - kSubBuckets));
}

std::uint64_t LatencyHistogram::bucketLower(std::size_t index) {
  if (index < kExactLimit) return index;
  const std::uint64_t k = index - kExactLimit;
  const int shift = static_cast<int>(k / kSubBuckets) + 1;  // octave 2^7 has 2-us buckets
  return (kSubBuckets + k % kSubBuckets) << shift;
}

std::uint64_t LatencyHistogram::bucketWidth(std::size_t index) {
  if (index < kExactLimit) return 1;
  return std::uint64_t{1} << (static_cast<int>((index - kExactLimit) / kSubBuckets) + 1);
}

void LatencyHistogram::record(std::uint64_t value_us) {
  ++counts_[bucketIndex(value_us)];
  min_us_ = count_ == 0 ? value_us : std::min(min_us_, value_us);
  max_us_ = std::max(max_us_, value_us);
  ++count_;
}

std::uint64_t LatencyHistogram::percentile(double quantile) const {
  if (count_ == 0) return 0;
  const double clamped = std::clamp(quantile, 0.0, 1.0);
  const auto rank = std::max<std::uint64_t>(
      1, static_cast<std::uint64_t>(std::ceil(clamped * static_cast<double>(count_))));
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < kBucketCount; ++i) {
    seen += counts_[i];
    if (seen >= rank) {
      const std::uint64_t midpoint = bucketLower(i) + (bucketWidth(i) - 1) / 2;
      return std::clamp(midpoint, min_us_, max_us_);
    }
  }
  return max_us_;  // unreachable: the counters sum to count_
}

}  // namespace overline::sdk
