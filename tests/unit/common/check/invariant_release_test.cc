// OVERLINE_INVARIANT as expanded with NDEBUG (the release behaviour), in
// every build type: this file defines NDEBUG itself before including
// invariant.h (the mode follows NDEBUG where the macro is expanded, like
// assert). invariant_abort_test.cc covers the other mode, and
// invariant_build_mode_test.cc the mode this build's libraries were compiled
// in.

#include <catch2/catch.hpp>

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <type_traits>
#include <vector>

#include "tests/unit/common/check/fork_run.h"

#ifndef NDEBUG
#define NDEBUG
#endif
#include "common/check/invariant.h"

namespace overline {
namespace {

struct Report {
  std::string expression;
  int line = 0;
  std::uint64_t suppressed = 0;
};

std::vector<Report>& reports() {
  static std::vector<Report> recorded;
  return recorded;
}

void recordReport(const InvariantViolation& violation) {
  reports().push_back({violation.expression, violation.line, violation.suppressed});
}

// Installs the recording reporter for one test case, restores the previous one after.
class RecordingReporter {
 public:
  RecordingReporter() : previous_(setInvariantReporter(&recordReport)) { reports().clear(); }
  ~RecordingReporter() { setInvariantReporter(previous_); }
  RecordingReporter(const RecordingReporter&) = delete;
  RecordingReporter& operator=(const RecordingReporter&) = delete;

 private:
  InvariantReporter previous_;
};

bool recoversFrom(int value) {
  if (!OVERLINE_INVARIANT(value > 0)) return false;
  return true;
}

TEST_CASE("a holding invariant is true, evaluates its condition once and counts nothing") {
  RecordingReporter recording;
  const std::uint64_t before = invariantViolations();
  int evaluations = 0;
  CHECK(OVERLINE_INVARIANT(++evaluations == 1));
  CHECK(evaluations == 1);
  CHECK(OVERLINE_INVARIANT(std::is_same_v<int, int>));  // a top-level comma needs no parentheses
  CHECK(invariantViolations() == before);
  CHECK(reports().empty());
}

TEST_CASE("a violated invariant is false, counts and reports once, and the caller recovers",
          "[expected-invariant-violations]") {
  RecordingReporter recording;
  const std::uint64_t before = invariantViolations();
  int evaluations = 0;
  const int line = __LINE__ + 1;
  const bool holds = OVERLINE_INVARIANT(++evaluations == 2);
  CHECK_FALSE(holds);
  CHECK(evaluations == 1);
  CHECK(invariantViolations() == before + 1);
  REQUIRE(reports().size() == 1);
  CHECK(reports()[0].expression == std::string("++evaluations == 2"));
  CHECK(reports()[0].line == line);
  CHECK(reports()[0].suppressed == 0);

  CHECK_FALSE(recoversFrom(0));
  CHECK(recoversFrom(1));
  CHECK(invariantViolations() == before + 2);
  CHECK(reports().size() == 2);  // another call site: reported too
}

TEST_CASE("violations at one call site are all counted but reported at most once a second",
          "[expected-invariant-violations]") {
  RecordingReporter recording;
  const std::uint64_t before = invariantViolations();
  const auto started = std::chrono::steady_clock::now();
  int recovered = 0;
  for (int i = 0; i < 1000; ++i) {
    if (!OVERLINE_INVARIANT(i < 0)) ++recovered;  // one call site, 1000 violations
  }
  const auto elapsed = std::chrono::steady_clock::now() - started;
  CHECK(recovered == 1000);
  CHECK(invariantViolations() == before + 1000);
  // A whole interval can only pass in this loop on a badly stalled machine.
  if (elapsed < std::chrono::microseconds(kInvariantReportIntervalUs)) {
    REQUIRE(reports().size() == 1);
    CHECK(reports()[0].expression == std::string("i < 0"));
    CHECK(reports()[0].suppressed == 0);
  } else {
    WARN("the loop took longer than the report interval: the report count is not checked");
  }
}

TEST_CASE("the rate limit reports the first violation, then one per interval with the count held back") {
  invariant_internal::Site site{"file.cc", 7, "x"};
  std::uint64_t suppressed = 99;
  CHECK(invariant_internal::admitReport(site, 5'000'000, suppressed));
  CHECK(suppressed == 0);
  CHECK_FALSE(invariant_internal::admitReport(site, 5'000'001, suppressed));
  CHECK_FALSE(invariant_internal::admitReport(site, 5'999'999, suppressed));
  CHECK(invariant_internal::admitReport(site, 6'000'000, suppressed));
  CHECK(suppressed == 2);
  CHECK(invariant_internal::admitReport(site, 60'000'000, suppressed));
  CHECK(suppressed == 0);
}

TEST_CASE("setInvariantReporter returns the reporter it replaces; nullptr restores the default") {
  const InvariantReporter original = setInvariantReporter(&recordReport);
  CHECK(setInvariantReporter(nullptr) == &recordReport);
  CHECK(setInvariantReporter(original) == &reportInvariantToStderr);
}

TEST_CASE("the default reporter writes one line to stderr") {
  const test::ChildResult child = test::runInChild([] {
    reportInvariantToStderr({"relay/core/x.cc", 12, "a < b", 0});
    reportInvariantToStderr({"relay/core/x.cc", 12, "a < b", 41});
  });
  CHECK(child.exited);
  CHECK(child.stderr_text ==
        "relay/core/x.cc:12: invariant failed: a < b\n"
        "relay/core/x.cc:12: invariant failed: a < b (41 more since the last report)\n");
}

}  // namespace
}  // namespace overline
