// DedupWindow alone.

#include "relay/core/dedup_window.h"

#include <catch2/catch.hpp>
#include <cstdint>

namespace overline::relay {
namespace {

// Timestamps grow with the sequence, as the SDK sends them.
std::uint64_t timestampOf(std::uint32_t sequence) { return 1'000'000 + sequence; }

bool accept(DedupWindow& window, std::uint32_t sequence) {
  return window.accept(sequence, timestampOf(sequence));
}

TEST_CASE("each sequence is accepted once, in any order within the window") {
  DedupWindow window;
  CHECK(accept(window, 100));
  CHECK_FALSE(accept(window, 100));
  CHECK(accept(window, 102));
  CHECK(accept(window, 101));  // reordered
  CHECK_FALSE(accept(window, 101));
  CHECK_FALSE(accept(window, 102));
  CHECK(accept(window, 99));  // older than the first, still in the window
  CHECK_FALSE(accept(window, 99));
}

TEST_CASE("a sequence 1024 or more behind the highest is rejected as too old") {
  DedupWindow window;
  CHECK(accept(window, 5000));
  CHECK(accept(window, 5000 - 1023));
  CHECK_FALSE(accept(window, 5000 - 1024));
  CHECK_FALSE(accept(window, 10));
}

TEST_CASE("sliding forward forgets the slots it passes") {
  DedupWindow window;
  for (std::uint32_t s = 0; s < 1024; ++s) REQUIRE(accept(window, s));
  // 1024 + k reuses k's slot: it is new.
  for (std::uint32_t s = 1024; s < 3000; s += 3) CHECK(accept(window, s));
  for (std::uint32_t s = 1024; s < 3000; s += 3) CHECK_FALSE(accept(window, s));
  // Skipped sequences within the window are still new.
  CHECK(accept(window, 2997));
  // A jump further than the window clears it.
  CHECK(accept(window, 100000));
  CHECK(accept(window, 100000 - 1000));
}

TEST_CASE("the window works across the 32-bit sequence wrap") {
  DedupWindow window;
  const std::uint32_t start = 0xFFFFFF00u;
  for (std::uint32_t i = 0; i < 512; ++i) {
    const std::uint32_t s = start + i;  // wraps to 0 after 256 steps
    CHECK(window.accept(s, 1'000'000 + i));
    CHECK_FALSE(window.accept(s, 1'000'000 + i));
  }
  // Before the wrap, still within the window: duplicates.
  CHECK_FALSE(window.accept(0xFFFFFFF0u, 1'000'000 + 0xF0));
  CHECK_FALSE(window.accept(0xFFFFFFFFu, 1'000'000 + 0xFF));
  // Far behind across the wrap: too old.
  CHECK_FALSE(window.accept(0xFFFFFF00u - 1000, 1'000'000));
}

TEST_CASE("a restarted publisher (sequence back, timestamp forward) restarts the window") {
  DedupWindow window;
  for (std::uint32_t s = 0; s < 500; ++s) REQUIRE(window.accept(s, 1000 + s));
  // A second run from sequence 0, later in time.
  for (std::uint32_t s = 0; s < 500; ++s) CHECK(window.accept(s, 9000 + s));
  CHECK_FALSE(window.accept(10, 9010));
  // A copy of the first run's packet is not taken for a restart.
  CHECK_FALSE(window.accept(10, 1010));
}

}  // namespace
}  // namespace overline::relay
