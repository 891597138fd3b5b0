// The mode this build compiles the libraries in: without NDEBUG (Debug,
// sanitizer builds) an invariant violation inside the wire codec aborts, with
// NDEBUG (RelWithDebInfo, Release) it is counted and the codec recovers.
// Each build type runs the half that applies to it and says which.

#include <catch2/catch.hpp>

#include <array>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "common/check/invariant.h"
#include "common/wire/packet.h"
#include "tests/unit/common/check/fork_run.h"

namespace overline {
namespace {

// encodePacket into a buffer smaller than a header: a caller bug, checked by
// OVERLINE_INVARIANT inside the overline_common library.
std::size_t encodeIntoTooSmallBuffer() {
  std::array<std::byte, 4> out{};
  return wire::encodePacket(wire::Header{}, {}, out);
}

#ifdef NDEBUG
TEST_CASE("this build (NDEBUG) counts a violation in the libraries and recovers",
          "[expected-invariant-violations]") {
  const std::uint64_t before = invariantViolations();
  const InvariantReporter previous = setInvariantReporter([](const InvariantViolation&) {});
  CHECK(encodeIntoTooSmallBuffer() == 0);
  setInvariantReporter(previous);
  CHECK(invariantViolations() == before + 1);
}
#else
TEST_CASE("this build (no NDEBUG) aborts on a violation in the libraries") {
  const test::ChildResult child = test::runInChild([] { encodeIntoTooSmallBuffer(); });
  CHECK(child.signalled);
  CHECK(child.signal_number == SIGABRT);
  CHECK(child.stderr_text.find("common/wire/packet.cc:") != std::string::npos);
  CHECK(child.stderr_text.find(": invariant failed: ") != std::string::npos);
}
#endif

}  // namespace
}  // namespace overline
