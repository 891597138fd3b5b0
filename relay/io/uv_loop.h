#pragma once
// Owns one uv_loop_t for the lifetime of the relay process's loop thread.

#include <uv.h>

#include <memory>
#include <string>

#include "common/result.h"

namespace overline::relay {

class UvLoop {
 public:
  static Result<std::unique_ptr<UvLoop>, std::string> create();

  // Every handle wrapper on this loop must be destroyed (its handle closed)
  // before the loop: the destructor runs one more loop turn so pending close
  // callbacks free their handles, then closes the loop. A handle still open
  // at that point is a broken invariant (a leaked wrapper): it prints the
  // open handles and aborts.
  ~UvLoop();
  UvLoop(const UvLoop&) = delete;
  UvLoop& operator=(const UvLoop&) = delete;

  uv_loop_t& get() { return *loop_; }
  // Runs until no active handle is left (after a clean stop).
  void run();

 private:
  UvLoop() = default;
  std::unique_ptr<uv_loop_t> loop_ = std::make_unique<uv_loop_t>();
};

}  // namespace overline::relay
