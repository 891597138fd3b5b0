#include "relay/core/relay_readiness.h"

namespace overline::relay {

RelayReadiness decideRelayReadiness(const RelayReadinessInput& input) {
  if (!input.lines_open) return RelayReadiness::kLinesClosed;
  if (input.draining) return RelayReadiness::kDraining;
  if (input.controller_configured && !input.controller_connected && !input.controller_tables) {
    return RelayReadiness::kNoControllerTables;
  }
  return RelayReadiness::kReady;
}

std::string_view toString(RelayReadiness readiness) {
  switch (readiness) {
    case RelayReadiness::kReady: return "ready";
    case RelayReadiness::kLinesClosed: return "line sockets closed";
    case RelayReadiness::kDraining: return "draining";
    case RelayReadiness::kNoControllerTables: return "controller session down and no route table yet";
  }
  return "unknown";
}

}  // namespace overline::relay
