// OVERLINE_INVARIANT as expanded without NDEBUG (Debug and sanitizer builds),
// in every build type: this file undefines NDEBUG itself before including
// invariant.h. A violation must print "file:line: invariant failed: <expr>"
// and abort; the test runs it in a forked child (fork_run.h).

#include <catch2/catch.hpp>

#include <atomic>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <string>

#include "tests/unit/common/check/fork_run.h"

#undef NDEBUG
#include "common/check/invariant.h"

namespace overline {
namespace {

TEST_CASE("without NDEBUG a holding invariant is true and a violated one aborts with file, line and expression") {
  int evaluations = 0;
  CHECK(OVERLINE_INVARIANT(++evaluations == 1));
  CHECK(evaluations == 1);

  const int line = __LINE__ + 3;
  const test::ChildResult child = test::runInChild([] {
    int value = 3;
    OVERLINE_INVARIANT(value + 1 == 5);
    std::fputs("still running\n", stderr);  // must not be reached
  });
  CHECK(child.signalled);
  CHECK(child.signal_number == SIGABRT);
  CHECK(child.stderr_text.find("invariant_abort_test.cc:" + std::to_string(line) +
                               ": invariant failed: value + 1 == 5\n") != std::string::npos);
  CHECK(child.stderr_text.find("still running") == std::string::npos);
}

}  // namespace
}  // namespace overline
