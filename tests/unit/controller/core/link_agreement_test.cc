#include "controller/core/link_agreement.h"

#include <catch2/catch.hpp>

namespace overline::controller {
namespace {

LinkMeasurement link(NodeId from, LineIndex from_line, NodeId to, LineIndex to_line, DurationUs rtt, double loss,
                     LinkState state = LinkState::kUp) {
  return {from, from_line, to, to_line, rtt, rtt / 10, loss, state};
}

TEST_CASE("a link both ends report takes the worse figures of the two") {
  const auto agreed = agreeOnLinks({link(1, 0, 2, 1, 1'000, 0.0),                          // 1 claims 1 ms
                                    link(2, 1, 1, 0, 80'000, 0.05, LinkState::kDegraded)});  // 2 sees 80 ms
  REQUIRE(agreed.size() == 2);
  for (const LinkMeasurement& m : agreed) {
    CHECK(m.rtt_us == 80'000);
    CHECK(m.jitter_us == 8'000);
    CHECK(m.loss == 0.05);
    CHECK(m.state == LinkState::kDegraded);
  }
  CHECK(agreed[0].from == 1);  // order and identity kept
  CHECK(agreed[1].from == 2);
}

TEST_CASE("down at either end is down") {
  const auto agreed = agreeOnLinks({link(1, 0, 2, 0, 5'000, 0.0), link(2, 0, 1, 0, 5'000, 0.0, LinkState::kDown)});
  CHECK(agreed[0].state == LinkState::kDown);
  CHECK(agreed[1].state == LinkState::kDown);
}

TEST_CASE("other line pairs and one-sided links are left as reported") {
  const auto agreed = agreeOnLinks({link(1, 0, 2, 0, 5'000, 0.0), link(2, 1, 1, 0, 90'000, 0.5),
                                    link(3, 0, 1, 0, 7'000, 0.01)});
  CHECK(agreed[0].rtt_us == 5'000);   // 2 reported line 1 -> 1's line 0, not 0 -> 0
  CHECK(agreed[1].rtt_us == 90'000);
  CHECK(agreed[2].rtt_us == 7'000);
}

}  // namespace
}  // namespace overline::controller
