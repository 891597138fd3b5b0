// The switchboard commands of overline-impair's control language, and the
// knob update they share with `set`.

#include "deploy/impair/control_command.h"

#include <catch2/catch.hpp>

using overline::kMillisecond;
using namespace overline::impair;

namespace {

template <typename Command>
Command parsed(const std::string& line) {
  const auto command = parseControlCommand(line);
  INFO(line << ": " << (command ? std::string() : command.error()));
  REQUIRE(command.ok());
  REQUIRE(std::holds_alternative<Command>(command.value()));
  return std::get<Command>(command.value());
}

std::string problem(const std::string& line) {
  const auto command = parseControlCommand(line);
  INFO(line);
  REQUIRE_FALSE(command.ok());
  return command.error();
}

}  // namespace

TEST_CASE("switchboard commands parse") {
  const auto set = parsed<LineSetCommand>("line-set r1.l0 out delay_ms=20 loss_percent=1\r");
  CHECK(set.line == "r1.l0");
  CHECK(set.directions == LineDirections::kOut);
  CHECK(set.knobs == KnobChanges{{"delay_ms", "20"}, {"loss_percent", "1"}});
  CHECK(parsed<LineSetCommand>("line-set x in delay_ms=1").directions == LineDirections::kIn);
  CHECK(parsed<LineSetCommand>("line-set x both delay_ms=1").directions == LineDirections::kBoth);
  CHECK(parsed<LineDownCommand>("line-down r2.l1").line == "r2.l1");
  CHECK(parsed<LineUpCommand>("  line-up\tr2.l1 ").line == "r2.l1");
  const auto outage = parsed<LineOutageCommand>("line-outage r1.l1 1500");
  CHECK(outage.line == "r1.l1");
  CHECK(outage.duration_us == 1500 * kMillisecond);
  const auto pair = parsed<PairSetCommand>("pair-set r1.l0 r2.l1 rate_kbps=800");
  CHECK(pair.from == "r1.l0");
  CHECK(pair.to == "r2.l1");
  CHECK(pair.knobs == KnobChanges{{"rate_kbps", "800"}});
}

TEST_CASE("malformed switchboard commands say what is wrong") {
  CHECK(problem("line-set r1.l0 out") == "usage: line-set LINE out|in|both key=value ...");
  CHECK(problem("line-set r1.l0 a_to_b delay_ms=1") == "unknown direction \"a_to_b\" (expected out, in or both)");
  CHECK(problem("line-set r1.l0 out delay_ms") == "expected key=value, got \"delay_ms\"");
  CHECK(problem("line-down") == "usage: line-down LINE");
  CHECK(problem("line-up a b") == "usage: line-up LINE");
  CHECK(problem("line-outage r1.l0") == "usage: line-outage LINE MS");
  CHECK(problem("line-outage r1.l0 0").find("must be a number of ms") != std::string::npos);
  CHECK(problem("pair-set r1.l0 r2.l0") == "usage: pair-set FROM TO key=value ...");
  CHECK(problem("pair-set r1.l0 r2.l0 =1") == "expected key=value, got \"=1\"");
  CHECK(problem("line-sett x out a=1").find("line-set, line-down, line-up, line-outage, pair-set") !=
        std::string::npos);
}

TEST_CASE("applyKnobChanges applies in order and checks the result as a whole") {
  overline::impairment::ImpairmentKnobs knobs;
  knobs.delay_ms = 10;
  const auto update = applyKnobChanges(knobs, {{"loss_percent", "2"}, {"loss_percent", "3"}});
  REQUIRE(update.ok());
  CHECK(update.value().knobs.delay_ms == 10);
  CHECK(update.value().knobs.loss_percent == 3);
  CHECK(update.value().settings.delay_us == 10 * kMillisecond);
  CHECK(update.value().settings.loss == Approx(0.03));
  CHECK(applyKnobChanges(knobs, {{"burst_loss_percent", "5"}}).error() ==
        "burst_len: must be set (>= 1) when burst_loss_percent > 0");
  CHECK(applyKnobChanges(knobs, {{"jitter", "1"}}).error() == "jitter: unknown key");
}
