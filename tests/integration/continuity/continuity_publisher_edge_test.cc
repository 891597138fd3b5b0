// Issue 13: the publishers' edge relay dies (SIGKILL) mid-stream, ten times
// over, on the demo's mesh with realistic delays and a controller up. The
// subscribers in us and ap receive again within 1 s behind a single-homed
// publisher and lose nothing behind a dual-homed one (--homes 2); no tool
// names another stream than its own (continuity_fixture.h).

#include <catch2/catch.hpp>

#include "tests/integration/continuity/continuity_fixture.h"

using namespace overline::localmesh::testing;

TEST_CASE("a publisher's edge dies: subscribers on other PoPs receive again within 1 s, or lose nothing behind "
          "--homes 2") {
  auto mesh = startContinuityMesh();
  const KillFigures figures = runKillTrials(*mesh, {Victim::kPublisherEdge, /*headless=*/false}, kRepetitions);
  reportKillFigures("publisher's edge killed", figures);
}
