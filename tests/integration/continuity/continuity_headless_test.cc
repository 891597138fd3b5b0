// Issue 13: the edge kills of the other continuity tests with the
// controller dead: every tool allocates its edges while the controller
// runs, then the controller is killed (the relays run headless on their
// last tables), then the edge relay. The tools can only move to candidates
// they already know, and must, with the same bounds: receiving again within
// 1 s single-homed, nothing lost dual-homed (continuity_fixture.h). The
// controller and the relay are restarted between repetitions (five here,
// ten with the controller up). Each case is a CTest entry of its own (by tag).

#include <catch2/catch.hpp>

#include "tests/integration/continuity/continuity_fixture.h"

using namespace overline::localmesh::testing;

TEST_CASE("headless, a publisher's edge dies: subscribers receive again within 1 s, or lose nothing behind "
          "--homes 2",
          "[publisher_edge]") {
  auto mesh = startContinuityMesh();
  const KillFigures figures = runKillTrials(*mesh, {Victim::kPublisherEdge, /*headless=*/true}, kHeadlessRepetitions);
  reportKillFigures("headless, publisher's edge killed", figures);
}

TEST_CASE("headless, a subscriber's edge dies: it receives again within 1 s, or loses nothing with --homes 2",
          "[subscriber_edge]") {
  auto mesh = startContinuityMesh();
  const KillFigures figures = runKillTrials(*mesh, {Victim::kSubscriberEdge, /*headless=*/true}, kHeadlessRepetitions);
  reportKillFigures("headless, subscriber's edge killed", figures);
}
