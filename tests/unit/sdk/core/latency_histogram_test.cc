#include "sdk/core/latency_histogram.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <random>
#include <vector>

namespace overline::sdk {
namespace {

TEST_CASE("LatencyHistogram: empty") {
  const LatencyHistogram h;
  CHECK(h.count() == 0);
  CHECK(h.percentile(0.5) == 0);
  CHECK(h.max() == 0);
}

TEST_CASE("LatencyHistogram: a single value is reported exactly") {
  for (const std::uint64_t v : {0ull, 1ull, 127ull, 128ull, 12'345ull, 9'999'999ull}) {
    LatencyHistogram h;
    h.record(v);
    CHECK(h.percentile(0.5) == v);  // clamped to [min, max]
    CHECK(h.percentile(1.0) == v);
  }
}

TEST_CASE("LatencyHistogram: percentiles within 1/64 of the exact order statistic") {
  std::mt19937_64 rng(42);
  // Log-uniform over 1 us .. 10 s, so every octave is exercised.
  std::uniform_real_distribution<double> exponent(0.0, 7.0);
  std::vector<std::uint64_t> values;
  LatencyHistogram h;
  for (int i = 0; i < 20'000; ++i) {
    const auto v = static_cast<std::uint64_t>(std::pow(10.0, exponent(rng)));
    values.push_back(v);
    h.record(v);
  }
  std::sort(values.begin(), values.end());
  for (const double q : {0.01, 0.1, 0.5, 0.9, 0.99, 0.999}) {
    const auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(values.size())));
    const double exact = static_cast<double>(values[rank - 1]);
    INFO("quantile " << q);
    CHECK(std::abs(static_cast<double>(h.percentile(q)) - exact) <= exact / 64.0 + 1.0);
  }
  CHECK(h.max() == values.back());
  CHECK(h.min() == values.front());
}

TEST_CASE("LatencyHistogram: values above the tracked range keep an exact max") {
  LatencyHistogram h;
  h.record(1000);
  h.record(60'000'000);  // 60 s
  CHECK(h.max() == 60'000'000);
  CHECK(h.percentile(0.5) == Approx(1000).epsilon(1.0 / 64));
  CHECK(h.percentile(1.0) >= LatencyHistogram::kMaxTrackedUs - LatencyHistogram::kMaxTrackedUs / 64);
  CHECK(h.percentile(1.0) <= 60'000'000);
}

}  // namespace
}  // namespace overline::sdk
