#pragma once
// skipTest: ends a test binary whose prerequisites are missing with exit
// status 77, which every CTest entry registered by tests/ takes as "skipped"
// (SKIP_RETURN_CODE 77). CTest then reports it as skipped, never as passed,
// and `./mesh test` counts it (with CI=true a skip fails the run).
//
// Call it before the test has asserted anything: the process ends at once,
// without Catch2's summary, so nothing a half-run test saw is reported.

#include <cstdio>
#include <cstdlib>
#include <string>

namespace overline::test {

[[noreturn]] inline void skipTest(const std::string& why) {
  std::printf("skipped: %s\n", why.c_str());
  std::fflush(stdout);
  std::_Exit(77);
}

}  // namespace overline::test
