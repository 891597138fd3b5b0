#include "common/check/invariant.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>

namespace overline {
namespace {

std::atomic<std::uint64_t> g_violations{0};
std::atomic<InvariantReporter> g_reporter{&reportInvariantToStderr};

std::int64_t steadyNowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

std::uint64_t invariantViolations() { return g_violations.load(std::memory_order_relaxed); }

void reportInvariantToStderr(const InvariantViolation& violation) {
  if (violation.suppressed == 0) {
    std::fprintf(stderr, "%s:%d: invariant failed: %s\n", violation.file, violation.line, violation.expression);
  } else {
    std::fprintf(stderr, "%s:%d: invariant failed: %s (%llu more since the last report)\n", violation.file,
                 violation.line, violation.expression, static_cast<unsigned long long>(violation.suppressed));
  }
}

InvariantReporter setInvariantReporter(InvariantReporter reporter) {
  return g_reporter.exchange(reporter != nullptr ? reporter : &reportInvariantToStderr);
}

namespace invariant_internal {

bool admitReport(Site& site, std::int64_t now_us, std::uint64_t& suppressed) {
  std::int64_t next_us = site.next_report_us.load(std::memory_order_relaxed);
  // Of racing violations past the deadline, the one whose exchange wins reports.
  if (now_us < next_us ||
      !site.next_report_us.compare_exchange_strong(next_us, now_us + kInvariantReportIntervalUs,
                                                   std::memory_order_relaxed)) {
    site.suppressed.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  suppressed = site.suppressed.exchange(0, std::memory_order_relaxed);
  return true;
}

bool violated(Site& site) {
  g_violations.fetch_add(1, std::memory_order_relaxed);
  std::uint64_t suppressed = 0;
  if (admitReport(site, steadyNowUs(), suppressed)) {
    g_reporter.load()(InvariantViolation{site.file, site.line, site.expression, suppressed});
  }
  return false;
}

void violatedAbort(const Site& site) {
  g_violations.fetch_add(1, std::memory_order_relaxed);
  reportInvariantToStderr(InvariantViolation{site.file, site.line, site.expression, 0});
  std::fflush(stderr);
  std::abort();
}

}  // namespace invariant_internal
}  // namespace overline
