#pragma once
// OVERLINE_INVARIANT(condition): a check of an internal invariant that stays
// in release builds, in the spirit of quiche's QUIC_BUG_IF. It is an
// expression of type bool, true when the condition holds, so a call site can
// recover when it does not:
//
//   const auto it = neighbour_index_.find(node);
//   if (!OVERLINE_INVARIANT(it != neighbour_index_.end())) return false;
//
// Contract:
//  * `condition` is evaluated exactly once, in every build type.
//  * When it holds, the check costs one predicted branch (the helpers below
//    are inline, the call site's state is a constant-initialised static): no
//    out-of-line call, no lock, no allocation.
//  * Without NDEBUG (Debug and sanitizer builds, the fuzzers): a violation
//    prints "<file>:<line>: invariant failed: <condition>" to stderr and
//    calls std::abort(), like assert. The recovery code never runs.
//  * With NDEBUG (RelWithDebInfo, the default build, and Release): a
//    violation increments the process-wide invariantViolations() counter
//    (the relay and the controller export it as
//    overline_invariant_violations_total), calls the installed reporter
//    (rate-limited, see InvariantReporter) and evaluates to false. The call
//    site then recovers so that the process stays up and its state stays
//    consistent: return early, drop the packet, clamp the value. The counter
//    is what makes that visible; the recovery is never a silent fix.
//  * Like assert, the mode follows NDEBUG where the macro is expanded.
//
// Use it for broken internal invariants (a bug in this process), never for
// bad network input or bad configuration: those are validated, counted and
// handled (STYLE.md rule 6).
//
// Threads: every function here, and the macro, may be used from any thread.

#include <atomic>
#include <cstdint>

namespace overline {

// Violations seen by this process since it started (NDEBUG builds; without
// NDEBUG the first one aborts).
std::uint64_t invariantViolations();

struct InvariantViolation {
  const char* file = "";        // __FILE__ of the call site
  int line = 0;                 // __LINE__ of the call site
  const char* expression = "";  // the condition's source text
  // Violations at this call site that were counted but not reported since
  // its previous report (the rate limit below).
  std::uint64_t suppressed = 0;
};

// Called on a violation in NDEBUG builds, from the violating thread, at most
// once per call site per kInvariantReportIntervalUs: the first violation at
// a call site is reported, later ones within the interval are only counted
// and summed into the next report's `suppressed`. So a violation on a
// per-packet path costs one log line a second, not one per packet. A reporter
// must be safe to call from any thread and must not use OVERLINE_INVARIANT.
using InvariantReporter = void (*)(const InvariantViolation& violation);
inline constexpr std::int64_t kInvariantReportIntervalUs = 1'000'000;

// The default reporter: one line on stderr,
// "<file>:<line>: invariant failed: <condition> (<n> more since the last report)".
void reportInvariantToStderr(const InvariantViolation& violation);

// Installs `reporter` (nullptr: the default) and returns the one it
// replaces. Processes install one that logs through spdlog
// (common/process/process_support.h).
InvariantReporter setInvariantReporter(InvariantReporter reporter);

namespace invariant_internal {

// One per call site: a constant-initialised static in the macro's expansion
// (no guard, no allocation), holding the rate limiter's state.
struct Site {
  const char* file;
  int line;
  const char* expression;
  std::atomic<std::int64_t> next_report_us{0};  // steady clock; 0: never reported
  std::atomic<std::uint64_t> suppressed{0};
};

// The rate limit, time passed in: whether a violation at `site` at `now_us`
// is reported; if so `suppressed` receives the count held back since the
// previous report.
bool admitReport(Site& site, std::int64_t now_us, std::uint64_t& suppressed);

// NDEBUG: counts, reports (rate-limited) and returns false.
bool violated(Site& site);
// Without NDEBUG: prints and aborts.
[[noreturn]] void violatedAbort(const Site& site);

inline bool checkOrReport(bool holds, Site& site) {
  if (holds) [[likely]] return true;
  return violated(site);
}

inline bool checkOrAbort(bool holds, const Site& site) {
  if (holds) [[likely]] return true;
  violatedAbort(site);
}

}  // namespace invariant_internal
}  // namespace overline

// The call site's Site, as an lvalue.
#define OVERLINE_INVARIANT_SITE_(text)                                                                \
  ([]() -> ::overline::invariant_internal::Site& {                                                    \
    static constinit ::overline::invariant_internal::Site overline_invariant_site{__FILE__, __LINE__, \
                                                                                  text};              \
    return overline_invariant_site;                                                                   \
  }())

// Variadic so that a condition with a top-level comma (a template argument
// list) needs no extra parentheses.
#ifdef NDEBUG
#define OVERLINE_INVARIANT(...)                                                    \
  (::overline::invariant_internal::checkOrReport(static_cast<bool>(__VA_ARGS__), \
                                                 OVERLINE_INVARIANT_SITE_(#__VA_ARGS__)))
#else
#define OVERLINE_INVARIANT(...)                                                   \
  (::overline::invariant_internal::checkOrAbort(static_cast<bool>(__VA_ARGS__), \
                                                OVERLINE_INVARIANT_SITE_(#__VA_ARGS__)))
#endif
