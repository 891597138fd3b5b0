// ReplayWindow (common/crypto/replay_window.h): which packet numbers are
// fresh, and that accepting moves the window as RFC 6479 describes.

#include "common/crypto/replay_window.h"

#include <catch2/catch.hpp>

#include <cstdint>

namespace overline::crypto {
namespace {

constexpr std::uint64_t kBits = ReplayWindow::kBits;

// fresh() then accept(), as a receiver does once the tag verified.
bool take(ReplayWindow& window, std::uint64_t n) {
  if (!window.fresh(n)) return false;
  window.accept(n);
  return true;
}

TEST_CASE("ReplayWindow: 0 is never fresh", "[crypto][replay_window]") {
  ReplayWindow window;
  CHECK_FALSE(window.fresh(0));
  CHECK(take(window, 1));
  CHECK_FALSE(window.fresh(0));
  CHECK(take(window, 5 * kBits));
  CHECK_FALSE(window.fresh(0));
}

TEST_CASE("ReplayWindow: numbers ahead are fresh; duplicates are refused", "[crypto][replay_window]") {
  ReplayWindow window;
  CHECK(window.highest() == 0);
  CHECK(window.fresh(1));
  CHECK(window.fresh(~std::uint64_t{0}));
  for (std::uint64_t n = 1; n <= 300; ++n) {
    CAPTURE(n);
    CHECK(take(window, n));
    CHECK_FALSE(window.fresh(n));
    CHECK(window.fresh(n + 1));
  }
  CHECK(window.highest() == 300);
  for (std::uint64_t n = 1; n <= 300; ++n) CHECK_FALSE(window.fresh(n));
  // fresh() alone records nothing (a packet whose tag fails never moves the window).
  CHECK(window.fresh(301));
  CHECK(window.fresh(301));
  CHECK(window.highest() == 300);
}

TEST_CASE("ReplayWindow: reordering within the window is accepted once", "[crypto][replay_window]") {
  ReplayWindow window;
  CHECK(take(window, 10));
  CHECK(take(window, 5));   // late
  CHECK_FALSE(take(window, 5));
  CHECK(take(window, 7));
  CHECK(take(window, 6));
  CHECK(window.highest() == 10);
  CHECK_FALSE(take(window, 10));
  CHECK_FALSE(take(window, 6));
  CHECK(take(window, 9));
  CHECK(take(window, 8));
  for (std::uint64_t n = 1; n <= 4; ++n) CHECK(take(window, n));
  for (std::uint64_t n = 1; n <= 10; ++n) CHECK_FALSE(window.fresh(n));

  // Far into the window (thousands behind): still fresh once.
  CHECK(take(window, 5000));
  CHECK(take(window, 4000));
  CHECK_FALSE(take(window, 4000));
  CHECK(take(window, 1000));
  CHECK_FALSE(take(window, 1000));
}

TEST_CASE("ReplayWindow: numbers older than the window are refused", "[crypto][replay_window]") {
  ReplayWindow window;
  const std::uint64_t top = 10 * kBits + 17;
  CHECK(take(window, top));
  // Never seen, but kBits or more behind: refused (no bit to tell).
  CHECK_FALSE(window.fresh(top - kBits));
  CHECK_FALSE(window.fresh(top - kBits - 1));
  CHECK_FALSE(window.fresh(1));
  // The window keeps kBits - 64 numbers behind the highest: the word the
  // highest number sits in is shared with the oldest numbers.
  CHECK_FALSE(window.fresh(top - (kBits - 64)));
  CHECK(window.fresh(top - (kBits - 65)));
  CHECK(take(window, top - 1));
  CHECK(take(window, top - (kBits - 65)));
  CHECK_FALSE(take(window, top - (kBits - 65)));
}

TEST_CASE("ReplayWindow: a big jump clears the old bits", "[crypto][replay_window]") {
  SECTION("a jump of more than the window") {
    ReplayWindow window;
    for (std::uint64_t n = 1; n <= 200; ++n) REQUIRE(take(window, n));
    const std::uint64_t top = 100 + kBits + 50;
    CHECK(take(window, top));
    // 100 + kBits sits on the same bit as 100 (accepted before the jump) and
    // is 50 behind the new highest: never accepted, so fresh, once.
    CHECK(window.fresh(100 + kBits));
    CHECK(take(window, 100 + kBits));
    CHECK_FALSE(take(window, 100 + kBits));
    // Exactly kBits behind the new highest, and older: refused.
    CHECK_FALSE(window.fresh(top - kBits));
    CHECK_FALSE(window.fresh(150));
    CHECK_FALSE(window.fresh(1));
    // Everything within the window that shares a bit with 1..200 is fresh once.
    for (std::uint64_t n = top - (kBits - 65); n < top; ++n) {
      if (n == 100 + kBits) continue;
      CAPTURE(n);
      REQUIRE(take(window, n));
      REQUIRE_FALSE(window.fresh(n));
    }
  }
  SECTION("a jump of many windows") {
    ReplayWindow window;
    for (std::uint64_t n = 1; n <= kBits; ++n) REQUIRE(take(window, n));
    const std::uint64_t top = 1000 * kBits + 3;
    CHECK(take(window, top));
    CHECK_FALSE(window.fresh(top - kBits));
    std::uint64_t fresh = 0;
    for (std::uint64_t n = top - kBits; n < top; ++n) fresh += take(window, n) ? 1 : 0;
    CHECK(fresh == kBits - 65);
  }
  SECTION("a jump of less than the window clears only the words it passes") {
    ReplayWindow window;
    CHECK(take(window, 64));      // word 1
    CHECK(take(window, 3000));    // within the window: 64 stays recorded
    CHECK_FALSE(window.fresh(64));
    // 129 * 64 + 5 lands in 64's word again (word 129 mod 128): the jump
    // clears the words from 3000's up to it, so 64's bit is gone, while 3000
    // is still within the window and stays recorded.
    CHECK(take(window, 129 * 64 + 5));
    CHECK_FALSE(window.fresh(64));    // behind the window now
    CHECK_FALSE(window.fresh(3000));  // within it and recorded
    CHECK(take(window, 2999));
    CHECK(take(window, 129 * 64 + 4));
  }
}

}  // namespace
}  // namespace overline::crypto
