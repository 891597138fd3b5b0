#include "common/result.h"

#include <catch2/catch.hpp>
#include <memory>
#include <string>

namespace overline {
namespace {

enum class TestError { kFirst, kSecond };

Result<int, TestError> half(int x) {
  if (x % 2 != 0) return Err{TestError::kSecond};
  return x / 2;
}

TEST_CASE("Result holds a value", "[result]") {
  const Result<std::string, TestError> r = std::string("abc");
  REQUIRE(r.ok());
  CHECK(static_cast<bool>(r));
  CHECK(r.value() == "abc");
  CHECK(*r == "abc");
  CHECK(r->size() == 3);
}

TEST_CASE("Result holds an error", "[result]") {
  const Result<std::string, TestError> r = Err{TestError::kFirst};
  CHECK_FALSE(r.ok());
  CHECK_FALSE(static_cast<bool>(r));
  CHECK(r.error() == TestError::kFirst);
}

TEST_CASE("Result returned from a function", "[result]") {
  CHECK(half(8).value() == 4);
  CHECK(half(7).error() == TestError::kSecond);
}

TEST_CASE("Result distinguishes value and error of the same type", "[result]") {
  const Result<int, int> value = 3;
  const Result<int, int> error = Err{3};
  CHECK(value.ok());
  CHECK(value.value() == 3);
  CHECK_FALSE(error.ok());
  CHECK(error.error() == 3);
}

TEST_CASE("Result holds move-only values and allows mutation", "[result]") {
  Result<std::unique_ptr<int>, TestError> r = std::make_unique<int>(5);
  REQUIRE(r.ok());
  *r.value() = 6;
  CHECK(*r.value() == 6);
}

}  // namespace
}  // namespace overline
