// The controller's /readyz decision.

#include "controller/core/controller_readiness.h"

#include <catch2/catch.hpp>

namespace overline::controller {
namespace {

TEST_CASE("the controller is ready with its store open and its server serving") {
  CHECK(decideControllerReadiness({.store_open = true, .serving = true, .stopping = false}) ==
        ControllerReadiness::kReady);
}

TEST_CASE("the controller is not ready while it starts") {
  CHECK(decideControllerReadiness({.store_open = false, .serving = false, .stopping = false}) ==
        ControllerReadiness::kStoreClosed);
  CHECK(decideControllerReadiness({.store_open = true, .serving = false, .stopping = false}) ==
        ControllerReadiness::kNotServing);
}

TEST_CASE("a stopping controller is not ready, whatever else holds") {
  CHECK(decideControllerReadiness({.store_open = true, .serving = true, .stopping = true}) ==
        ControllerReadiness::kStopping);
  CHECK(decideControllerReadiness({.store_open = false, .serving = false, .stopping = true}) ==
        ControllerReadiness::kStopping);
  CHECK(toString(ControllerReadiness::kStopping) == "shutting down");
  CHECK(toString(ControllerReadiness::kStoreClosed) == "store not open");
  CHECK(toString(ControllerReadiness::kNotServing) == "gRPC server not serving yet");
  CHECK(toString(ControllerReadiness::kReady) == "ready");
}

}  // namespace
}  // namespace overline::controller
