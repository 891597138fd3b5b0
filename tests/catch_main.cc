// Catch2 v2 main shared by every test binary, with one listener: a test case
// during which the process's invariant violation counter grew fails
// (common/check/invariant.h). A violation aborts a build without NDEBUG but
// only counts and logs in a release build, so without this listener a
// release-mode test run would pass over a broken invariant. Test cases that
// violate invariants on purpose carry the tag [expected-invariant-violations].
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <string>

#include "common/check/invariant.h"

namespace {

class InvariantViolationListener : public Catch::TestEventListenerBase {
 public:
  using TestEventListenerBase::TestEventListenerBase;

  void testCaseStarting(const Catch::TestCaseInfo& info) override {
    TestEventListenerBase::testCaseStarting(info);
    const std::string tag = "expected-invariant-violations";
    violations_expected_ = std::find(info.lcaseTags.begin(), info.lcaseTags.end(), tag) != info.lcaseTags.end();
  }

  // A test case runs once per leaf section, each run inside one top-level
  // section named after the test case; each run is checked on its own. The
  // check is an assertion of that run, made before its section ends, so the
  // test case fails like any other failed CHECK.
  void sectionStarting(const Catch::SectionInfo& info) override {
    TestEventListenerBase::sectionStarting(info);
    if (depth_++ == 0) violations_at_start_ = overline::invariantViolations();
  }

  void sectionEnded(const Catch::SectionStats& stats) override {
    if (--depth_ == 0 && !violations_expected_) {
      const std::uint64_t violations = overline::invariantViolations() - violations_at_start_;
      if (violations != 0) {
        FAIL_CHECK(violations << " invariant violation(s) during this test case: see the 'invariant failed' "
                                 "lines on stderr");
      }
    }
    TestEventListenerBase::sectionEnded(stats);
  }

 private:
  int depth_ = 0;
  bool violations_expected_ = false;
  std::uint64_t violations_at_start_ = 0;
};

}  // namespace

CATCH_REGISTER_LISTENER(InvariantViolationListener)
