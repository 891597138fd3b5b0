#pragma once
// Whether the relay should be sent new work — SDK clients by allocation and
// load balancers, transit by its neighbours' operators — as its /readyz
// reports it. Pure: relay/io/relay_metrics.h feeds it on the loop thread and
// publishes the verdict for the status server's threads.
//
// Ready = every line socket bound and open, not draining, and either no
// controller configured, or the controller session up, or headless with a
// controller route table applied earlier (the relay forwards on its last
// tables while the controller is away). A relay whose controller has never
// answered has no routes beyond its static config: not ready.

#include <cstdint>
#include <string_view>

namespace overline::relay {

enum class RelayReadiness : std::uint8_t {
  kReady,
  kLinesClosed,         // its line sockets are closed: the relay is stopping
  kDraining,            // a SIGTERM drain is under way
  kNoControllerTables,  // controller configured, session down, no table from it yet
};

struct RelayReadinessInput {
  bool lines_open = false;            // every line socket bound and open
  bool draining = false;              // a SIGTERM drain is under way
  bool controller_configured = false;
  bool controller_connected = false;  // a session's hello was accepted and its stream is up
  bool controller_tables = false;     // a controller route table was applied since start
};

// The first reason that applies, in the order of the enum; kReady if none.
RelayReadiness decideRelayReadiness(const RelayReadinessInput& input);

// One line for /readyz: "draining", "controller session down and no route
// table yet", ...; "ready" for kReady.
std::string_view toString(RelayReadiness readiness);

}  // namespace overline::relay
