// The relay's /readyz decision over every input combination that matters.

#include "relay/core/relay_readiness.h"

#include <catch2/catch.hpp>

namespace overline::relay {
namespace {

RelayReadinessInput openLines() {
  RelayReadinessInput input;
  input.lines_open = true;
  return input;
}

RelayReadinessInput withController(bool connected, bool tables) {
  RelayReadinessInput input = openLines();
  input.controller_configured = true;
  input.controller_connected = connected;
  input.controller_tables = tables;
  return input;
}

TEST_CASE("a relay without a controller is ready once its lines are open") {
  CHECK(decideRelayReadiness(openLines()) == RelayReadiness::kReady);
  CHECK(decideRelayReadiness(RelayReadinessInput{}) == RelayReadiness::kLinesClosed);
}

TEST_CASE("a relay with a controller needs the session or a table from it") {
  CHECK(decideRelayReadiness(withController(false, false)) == RelayReadiness::kNoControllerTables);
  CHECK(decideRelayReadiness(withController(true, false)) == RelayReadiness::kReady);
  CHECK(decideRelayReadiness(withController(true, true)) == RelayReadiness::kReady);
  // Headless: the controller went away after a table arrived.
  CHECK(decideRelayReadiness(withController(false, true)) == RelayReadiness::kReady);
}

TEST_CASE("draining and closed lines win over everything") {
  RelayReadinessInput draining = withController(true, true);
  draining.draining = true;
  CHECK(decideRelayReadiness(draining) == RelayReadiness::kDraining);
  RelayReadinessInput draining_static = openLines();
  draining_static.draining = true;
  CHECK(decideRelayReadiness(draining_static) == RelayReadiness::kDraining);
  RelayReadinessInput closed = draining;
  closed.lines_open = false;
  CHECK(decideRelayReadiness(closed) == RelayReadiness::kLinesClosed);
}

TEST_CASE("every verdict has its one-line reason") {
  CHECK(toString(RelayReadiness::kReady) == "ready");
  CHECK(toString(RelayReadiness::kLinesClosed) == "line sockets closed");
  CHECK(toString(RelayReadiness::kDraining) == "draining");
  CHECK(toString(RelayReadiness::kNoControllerTables) == "controller session down and no route table yet");
}

}  // namespace
}  // namespace overline::relay
