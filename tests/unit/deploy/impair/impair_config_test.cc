// overline-impair's config loader, switchboard section: what it accepts and
// the one-line errors it gives. (Links are covered end to end by
// tests/integration/impair.)

#include "deploy/impair/impair_config.h"

#include <catch2/catch.hpp>

using overline::Endpoint;
using overline::impair::parseImpairConfig;

TEST_CASE("a switchboard section alone is a complete config") {
  const auto config = parseImpairConfig(R"(
switchboard:
  default: {delay_ms: 5, loss_percent: 1}
  lines:
    - {name: "r1.l0", real: "127.5.1.1:40000", stand_in: "127.5.201.1:0"}
    - {name: "r2.l0", real: "127.5.2.1:40000", stand_in: "127.5.202.1:41000"}
seed: 9
)");
  INFO((config ? std::string() : config.error()));
  REQUIRE(config.ok());
  CHECK(config.value().links.empty());
  REQUIRE(config.value().switchboard.has_value());
  const auto& switchboard = *config.value().switchboard;
  CHECK(switchboard.default_knobs.delay_ms == 5);
  CHECK(switchboard.default_knobs.loss_percent == 1);
  REQUIRE(switchboard.lines.size() == 2);
  CHECK(switchboard.lines[1].name == "r2.l0");
  CHECK(switchboard.lines[1].real == *Endpoint::parse("127.5.2.1:40000"));
  CHECK(switchboard.lines[1].stand_in == *Endpoint::parse("127.5.202.1:41000"));
  CHECK(config.value().seed == 9);
}

TEST_CASE("links and a switchboard may share one proxy") {
  const auto config = parseImpairConfig(R"(
links:
  - {name: a-b, a: "127.0.0.1:9", a_side: "127.0.0.1:0", b: "127.0.0.1:10", b_side: "127.0.0.1:0"}
switchboard:
  lines: [{name: x, real: "127.0.0.1:11", stand_in: "127.0.0.2:0"}]
)");
  REQUIRE(config.ok());
  CHECK(config.value().links.size() == 1);
  CHECK(config.value().switchboard->lines.size() == 1);
  CHECK(config.value().switchboard->default_knobs.delay_ms == 0);
}

TEST_CASE("switchboard errors name the key") {
  const std::string line = "{name: a, real: \"127.0.0.1:9\", stand_in: \"127.0.0.2:5000\"}";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"seed: 1\n", "links: missing required key (give links, switchboard or both)"},
      {"switchboard: {lines: []}\n", "switchboard.lines: expected 1..256 entries, got 0"},
      {"switchboard: {lines: [{name: a, real: \"127.0.0.1:0\", stand_in: \"127.0.0.2:0\"}]}\n",
       "switchboard.lines[0].real: port 0 is not a valid destination"},
      {"switchboard: {lines: [" + line + ", {name: a, real: \"127.0.0.1:10\", stand_in: \"127.0.0.2:0\"}]}\n",
       "switchboard.lines[1].name: \"a\" is already used by switchboard.lines[0]"},
      {"switchboard: {lines: [" + line + ", {name: b, real: \"127.0.0.1:9\", stand_in: \"127.0.0.2:0\"}]}\n",
       "switchboard.lines[1].real: 127.0.0.1:9 is already the real address of switchboard.lines[0]"},
      {"switchboard: {lines: [" + line + ", {name: b, real: \"127.0.0.1:10\", stand_in: \"127.0.0.2:5000\"}]}\n",
       "switchboard.lines[1].stand_in: 127.0.0.2:5000 is already used by switchboard.lines[0].stand_in"},
      {"links: [{name: l, a: \"127.0.0.1:1\", a_side: \"127.0.0.2:5000\", b: \"127.0.0.1:2\", "
       "b_side: \"127.0.0.2:0\"}]\nswitchboard: {lines: [" + line + "]}\n",
       "switchboard.lines[0].stand_in: 127.0.0.2:5000 is already used by links[0].a_side"},
      {"switchboard: {default: {loss_percent: 101}, lines: [" + line + "]}\n",
       "switchboard.default.loss_percent: 101 is out of range 0..100"},
      {"switchboard: {lines: [{name: a, real: \"127.0.0.1:9\"}]}\n",
       "switchboard.lines[0].stand_in: missing required key"},
      {"switchboard: {lines: [" + line + "], extra: 1}\n", "switchboard.extra: unknown key"},
  };
  for (const auto& [yaml, error] : cases) {
    INFO(yaml);
    const auto config = parseImpairConfig(yaml);
    REQUIRE_FALSE(config.ok());
    CHECK(config.error() == error);
  }
}
