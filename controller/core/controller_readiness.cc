#include "controller/core/controller_readiness.h"

namespace overline::controller {

ControllerReadiness decideControllerReadiness(const ControllerReadinessInput& input) {
  if (input.stopping) return ControllerReadiness::kStopping;
  if (!input.store_open) return ControllerReadiness::kStoreClosed;
  if (!input.serving) return ControllerReadiness::kNotServing;
  return ControllerReadiness::kReady;
}

std::string_view toString(ControllerReadiness readiness) {
  switch (readiness) {
    case ControllerReadiness::kReady: return "ready";
    case ControllerReadiness::kStopping: return "shutting down";
    case ControllerReadiness::kStoreClosed: return "store not open";
    case ControllerReadiness::kNotServing: return "gRPC server not serving yet";
  }
  return "unknown";
}

}  // namespace overline::controller
