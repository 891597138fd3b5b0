// Issue 13: a subscriber's edge relay dies (SIGKILL) mid-stream, ten times
// over, on the demo's mesh with realistic delays and a controller up. The
// single-homed subscriber receives again within 1 s and the dual-homed one
// (--homes 2) loses nothing; no tool names another stream than its own
// (continuity_fixture.h).

#include <catch2/catch.hpp>

#include "tests/integration/continuity/continuity_fixture.h"

using namespace overline::localmesh::testing;

TEST_CASE("a subscriber's edge dies: it receives again within 1 s, or loses nothing with --homes 2") {
  auto mesh = startContinuityMesh();
  const KillFigures figures = runKillTrials(*mesh, {Victim::kSubscriberEdge, /*headless=*/false}, kRepetitions);
  reportKillFigures("subscriber's edge killed", figures);
}
