#pragma once
// Runs code inside a lab namespace without moving the calling thread.
//
// A socket belongs to the network namespace of the thread that created it
// and keeps it for life, whichever thread uses it later. So the tests and the
// CLI reach a relay's loopback-only metrics endpoint, or open probe sockets on
// its line addresses, by creating those sockets on a short-lived thread that
// joined the namespace (setns). The root namespace is never given an address
// or route for the lab.

#include <optional>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>

#include "common/result.h"

namespace overline::netlab {

// Moves the calling thread into network namespace `ns` (a name under
// /run/netns, as `ip netns add` makes). Returns "" or why it failed. Only for
// threads that end afterwards: runInNamespace below.
std::string joinNamespace(const std::string& ns);

// Calls `fn()` on a new thread that joined `ns` and returns its result
// (which must not be void); the thread ends before this returns.
template <typename F>
auto runInNamespace(const std::string& ns, F&& fn) -> Result<std::invoke_result_t<F&>, std::string> {
  std::optional<std::invoke_result_t<F&>> value;
  std::string error;
  std::thread worker([&] {
    error = joinNamespace(ns);
    if (error.empty()) value.emplace(fn());
  });
  worker.join();
  if (!value) return Err{error};
  return std::move(*value);
}

}  // namespace overline::netlab
