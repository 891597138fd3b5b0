#pragma once
// The wire codec tests write their expected datagrams and payloads by hand,
// byte by byte, from the layout tables in common/wire/*.h; this turns such a
// list of integers (0..255) into bytes.

#include <cstddef>
#include <initializer_list>
#include <vector>

namespace overline::wire::testing {

using Bytes = std::vector<std::byte>;

inline Bytes bytes(std::initializer_list<int> values) {
  Bytes out;
  out.reserve(values.size());
  for (const int v : values) out.push_back(static_cast<std::byte>(v));
  return out;
}

}  // namespace overline::wire::testing
