#pragma once
// Result<T, E>: a value or an error, without exceptions (std::expected is
// C++23; this is the small subset we need until the toolchain has it).

#include <cassert>
#include <utility>
#include <variant>

namespace overline {

template <typename E>
struct Err {
  // A constructor, not only an aggregate: clang 14 (the fuzzers' compiler)
  // has no parenthesised aggregate initialisation, and `Err(x)` is common.
  explicit Err(E e) : error(std::move(e)) {}
  E error;
};
template <typename E>
Err(E) -> Err<E>;

template <typename T, typename E>
class Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(Err<E> err) : v_(std::in_place_index<1>, std::move(err.error)) {}  // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  const T& value() const& {
    assert(ok());
    return std::get<0>(v_);
  }
  T& value() & {
    assert(ok());
    return std::get<0>(v_);
  }
  const E& error() const {
    assert(!ok());
    return std::get<1>(v_);
  }
  const T* operator->() const { return &value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, E> v_;
};

}  // namespace overline
