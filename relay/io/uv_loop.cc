#include "relay/io/uv_loop.h"

#include <cstdio>
#include <cstdlib>

namespace overline::relay {

Result<std::unique_ptr<UvLoop>, std::string> UvLoop::create() {
  std::unique_ptr<UvLoop> loop(new UvLoop());
  if (const int rc = uv_loop_init(loop->loop_.get()); rc != 0) {
    loop->loop_.reset();  // never initialised: nothing to close
    return Err(std::string("cannot create event loop: ") + uv_strerror(rc));
  }
  return loop;
}

UvLoop::~UvLoop() {
  if (!loop_) return;
  uv_run(loop_.get(), UV_RUN_NOWAIT);
  if (const int rc = uv_loop_close(loop_.get()); rc != 0) {
    std::fprintf(stderr, "overline-relay: bug: event loop closed with open handles (%s):\n", uv_strerror(rc));
    uv_print_all_handles(loop_.get(), stderr);
    std::abort();
  }
}

void UvLoop::run() { uv_run(loop_.get(), UV_RUN_DEFAULT); }

}  // namespace overline::relay
