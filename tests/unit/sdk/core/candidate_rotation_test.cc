// CandidateRotation (sdk/core/candidate_rotation.h): the order in which a
// client joins its candidate edges, round and round, passing over recent
// failures while another candidate is free.

#include "sdk/core/candidate_rotation.h"

#include <catch2/catch.hpp>

namespace overline::sdk {
namespace {

constexpr DurationUs kBackoff = 2 * kSecond;
constexpr TimeUs kT0 = 1'000'000;

TEST_CASE("CandidateRotation: in order, never one in use, wrapping around", "[candidate_rotation]") {
  CandidateRotation rotation(3, kBackoff);
  CHECK(rotation.acquire(kT0) == 0u);
  CHECK(rotation.acquire(kT0) == 1u);
  CHECK(rotation.acquire(kT0) == 2u);
  CHECK_FALSE(rotation.acquire(kT0).has_value());  // all in use
  CHECK(rotation.inUse(1));

  // 1 fails: the next pick starts after the last one (2), wraps, and finds
  // 1 the only free one, in its backoff: still picked (nothing else to try).
  rotation.release(1, kT0);
  CHECK_FALSE(rotation.inUse(1));
  CHECK(rotation.acquire(kT0 + 1) == 1u);
}

TEST_CASE("CandidateRotation: a recent failure is passed over while another is free", "[candidate_rotation]") {
  CandidateRotation rotation(3, kBackoff);
  REQUIRE(rotation.acquire(kT0) == 0u);
  rotation.release(0, kT0);                  // 0 died
  REQUIRE(rotation.acquire(kT0) == 1u);      // the next one
  rotation.release(1, kT0 + kSecond);        // 1 died soon after
  CHECK(rotation.acquire(kT0 + kSecond) == 2u);  // 2, then...
  rotation.release(2, kT0 + kSecond + 1);
  // ...all three failed within the backoff: the one that failed longest ago.
  CHECK(rotation.acquire(kT0 + kSecond + 2) == 0u);
  rotation.release(0, kT0 + kSecond + 3);
  // 1 is out of its backoff first: picked before 2 and 0, which are not.
  CHECK(rotation.acquire(kT0 + kSecond + kBackoff) == 1u);
}

TEST_CASE("CandidateRotation: passes over a recent failure for a rested one further on", "[candidate_rotation]") {
  CandidateRotation rotation(3, kBackoff);
  REQUIRE(rotation.acquire(kT0) == 0u);
  REQUIRE(rotation.acquire(kT0) == 1u);
  REQUIRE(rotation.acquire(kT0) == 2u);  // the search starts at 0 again
  rotation.release(1, kT0);
  rotation.release(0, kT0 + kBackoff);
  // 0 comes first, but failed just now; 1's backoff is over.
  CHECK(rotation.acquire(kT0 + kBackoff + 1) == 1u);
}

TEST_CASE("CandidateRotation: a candidate out of its backoff is picked in rotation order", "[candidate_rotation]") {
  CandidateRotation rotation(3, kBackoff);
  REQUIRE(rotation.acquire(kT0) == 0u);
  REQUIRE(rotation.acquire(kT0) == 1u);
  rotation.release(0, kT0);
  // The search starts after 1: 2 is free and rested.
  CHECK(rotation.acquire(kT0 + 1) == 2u);
  // Only 0 is free, and its backoff is over: an ordinary pick.
  rotation.release(1, kT0 + 2);
  CHECK(rotation.acquire(kT0 + kBackoff) == 0u);
}

TEST_CASE("CandidateRotation: one candidate is always retried", "[candidate_rotation]") {
  CandidateRotation rotation(1, kBackoff);
  for (int i = 0; i < 3; ++i) {
    REQUIRE(rotation.acquire(kT0 + i) == 0u);
    rotation.release(0, kT0 + i);
  }
}

}  // namespace
}  // namespace overline::sdk
