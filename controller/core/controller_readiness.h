#pragma once
// Whether the controller can take work — relay sessions, Admin and Edge
// RPCs — as its /readyz reports it. Pure: controller/controller_metrics.h
// keeps the inputs in atomics (set by controller/main.cc) and asks this on
// the status server's threads.
//
// Ready = the store is open, the gRPC server serves (with the route worker
// running) and the controller is not shutting down.

#include <cstdint>
#include <string_view>

namespace overline::controller {

enum class ControllerReadiness : std::uint8_t {
  kReady,
  kStopping,      // a stop signal arrived: sessions are being closed
  kStoreClosed,   // the store is not open yet
  kNotServing,    // the gRPC server and route worker are not up yet
};

struct ControllerReadinessInput {
  bool store_open = false;
  bool serving = false;
  bool stopping = false;
};

// The first reason that applies, in the order of the enum; kReady if none.
ControllerReadiness decideControllerReadiness(const ControllerReadinessInput& input);

// One line for /readyz ("shutting down", ...); "ready" for kReady.
std::string_view toString(ControllerReadiness readiness);

}  // namespace overline::controller
