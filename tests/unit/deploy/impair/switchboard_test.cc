// The switchboard's routing and per-pair decisions, with made-up times and
// endpoints: which pair a datagram travels, where and from where it goes,
// what line controls and knob commands change, and what is counted.

#include "deploy/impair/switchboard.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <vector>

using overline::Endpoint;
using overline::kMillisecond;
using overline::TimeUs;
using overline::impair::KnobChanges;
using overline::impair::LineDirections;
using overline::impair::Switchboard;
using overline::impair::SwitchboardConfig;

namespace {

constexpr std::size_t kBytes = 1000;

// Two relays with two lines each: r1.l0 r1.l1 r2.l0 r2.l1 (indices 0..3).
SwitchboardConfig twoRelays() {
  SwitchboardConfig config;
  for (const auto& [name, real] : std::vector<std::pair<std::string, std::string>>{
           {"r1.l0", "127.5.1.1:40000"},
           {"r1.l1", "127.5.1.2:40000"},
           {"r2.l0", "127.5.2.1:40000"},
           {"r2.l1", "127.5.2.2:40000"}}) {
    config.lines.push_back({name, *Endpoint::parse(real), Endpoint(0, 0)});
  }
  return config;
}

constexpr std::size_t kR1L0 = 0;
constexpr std::size_t kR1L1 = 1;
constexpr std::size_t kR2L0 = 2;
constexpr std::size_t kR2L1 = 3;

const Endpoint& real(const Switchboard& board, std::size_t line) { return board.line(line).real; }

// Sends one datagram from every line to every other line's stand-in at
// `now`; returns which (from, to) were delivered.
std::vector<std::pair<std::size_t, std::size_t>> deliveredPairs(Switchboard& board, TimeUs now) {
  std::vector<std::pair<std::size_t, std::size_t>> delivered;
  for (std::size_t from = 0; from < board.lineCount(); ++from) {
    for (std::size_t to = 0; to < board.lineCount(); ++to) {
      if (from == to) continue;
      if (board.admit(to, real(board, from), now, kBytes).deliver) delivered.emplace_back(from, to);
    }
  }
  return delivered;
}

}  // namespace

TEST_CASE("a datagram at S(X) from Y travels the pair Y -> X, crossed pairs included") {
  Switchboard board(twoRelays(), 1);
  for (std::size_t from = 0; from < 4; ++from) {
    for (std::size_t to = 0; to < 4; ++to) {
      if (from == to) continue;
      INFO(from << " -> " << to);
      const auto verdict = board.admit(to, real(board, from), 5 * kMillisecond, kBytes);
      REQUIRE(verdict.pair != nullptr);
      // The proxy sends it from S(pair->from) to line(pair->to).real: the
      // receiver sees the sender's stand-in, which its config lists.
      CHECK(verdict.pair->from == from);
      CHECK(verdict.pair->to == to);
      CHECK(verdict.deliver);
      CHECK(verdict.deliver_at_us == 5 * kMillisecond);  // no default impairment
    }
  }
  CHECK(board.pairs().size() == 12);
  // A reply to the address the receiver saw travels the reverse pair.
  const auto there = board.admit(kR2L1, real(board, kR1L0), 0, kBytes);
  const auto back = board.admit(there.pair->from, real(board, there.pair->to), 0, kBytes);
  CHECK(back.pair->from == kR2L1);
  CHECK(back.pair->to == kR1L0);
}

TEST_CASE("datagrams from strangers or from the stand-in's own line are foreign") {
  Switchboard board(twoRelays(), 1);
  const auto stranger = board.admit(kR2L0, *Endpoint::parse("127.5.9.9:1234"), 0, kBytes);
  CHECK(stranger.pair == nullptr);
  CHECK_FALSE(stranger.deliver);
  // A line's real address with another port is someone else.
  CHECK(board.admit(kR2L0, Endpoint(real(board, kR1L0).address(), 1), 0, kBytes).pair == nullptr);
  CHECK(board.admit(kR2L0, real(board, kR2L0), 0, kBytes).pair == nullptr);
  CHECK(board.lineTotals(kR2L0).foreign == 3);
  CHECK(board.lineTotals(kR1L0).foreign == 0);
  CHECK(board.pairs().empty());
}

TEST_CASE("a down line drops exactly the pairs it sends or receives on") {
  Switchboard board(twoRelays(), 1);
  board.setLineDown(kR1L0, true);
  CHECK(deliveredPairs(board, 0) == std::vector<std::pair<std::size_t, std::size_t>>{
                                        {kR1L1, kR2L0}, {kR1L1, kR2L1},
                                        {kR2L0, kR1L1}, {kR2L0, kR2L1},
                                        {kR2L1, kR1L1}, {kR2L1, kR2L0}});
  // Every datagram r1.l0 sent, and every one sent to it, was dropped as line_down.
  const auto totals = board.lineTotals(kR1L0);
  CHECK(totals.sent == 3);
  CHECK(totals.sent_bytes == 3 * kBytes);  // offered bytes count, dropped or not
  CHECK(totals.dropped == 3);
  CHECK(totals.received == 0);  // the proxy counts deliveries; nothing to deliver here
  CHECK(totals.received_bytes == 0);
  for (Switchboard::Pair* pair : board.pairs()) {
    INFO(pair->from << " -> " << pair->to);
    const bool touches = pair->from == kR1L0 || pair->to == kR1L0;
    CHECK(pair->line_down == (touches ? 1u : 0u));
    CHECK(pair->model.counters().admitted == (touches ? 0u : 1u));  // the model is not consulted
  }

  board.setLineDown(kR1L0, false);
  CHECK(deliveredPairs(board, 1).size() == 12);
}

TEST_CASE("a line outage ends by itself; line-up ends it early") {
  Switchboard board(twoRelays(), 1);
  const TimeUs start = 1'000 * kMillisecond;
  board.addLineOutage(kR2L1, start, 300 * kMillisecond);
  CHECK(board.isLineDownAt(kR2L1, start));
  CHECK(board.isLineDownAt(kR2L1, start + 299 * kMillisecond));
  CHECK_FALSE(board.isLineDownAt(kR2L1, start + 300 * kMillisecond));
  CHECK_FALSE(board.admit(kR2L1, real(board, kR1L0), start + 100 * kMillisecond, kBytes).deliver);
  CHECK(board.admit(kR2L1, real(board, kR1L0), start + 300 * kMillisecond, kBytes).deliver);

  // A shorter outage inside a running one does not cut it short.
  board.addLineOutage(kR2L1, start + 400 * kMillisecond, 500 * kMillisecond);
  board.addLineOutage(kR2L1, start + 500 * kMillisecond, 100 * kMillisecond);
  CHECK(board.isLineDownAt(kR2L1, start + 800 * kMillisecond));
  board.setLineDown(kR2L1, false);
  CHECK_FALSE(board.isLineDownAt(kR2L1, start + 800 * kMillisecond));
}

TEST_CASE("line-set applies to the pairs a line sends on, receives on, or both") {
  const KnobChanges lossy = {{"loss_percent", "100"}};
  auto lossyPairs = [&](LineDirections directions) {
    Switchboard board(twoRelays(), 1);
    REQUIRE(board.setLineKnobs(kR1L1, directions, lossy) == "");
    std::vector<std::pair<std::size_t, std::size_t>> lossy_pairs;
    for (const Switchboard::Pair* pair : board.pairs()) {
      if (pair->knobs.loss_percent == 100) lossy_pairs.emplace_back(pair->from, pair->to);
    }
    // And they behave as set: exactly those pairs lose everything.
    auto delivered = deliveredPairs(board, 0);
    CHECK(delivered.size() + lossy_pairs.size() == 12);
    for (const auto& pair : lossy_pairs) {
      CHECK(std::find(delivered.begin(), delivered.end(), pair) == delivered.end());
    }
    return lossy_pairs;
  };
  using Pairs = std::vector<std::pair<std::size_t, std::size_t>>;
  CHECK(lossyPairs(LineDirections::kOut) == Pairs{{kR1L1, kR1L0}, {kR1L1, kR2L0}, {kR1L1, kR2L1}});
  CHECK(lossyPairs(LineDirections::kIn) == Pairs{{kR1L0, kR1L1}, {kR2L0, kR1L1}, {kR2L1, kR1L1}});
  CHECK(lossyPairs(LineDirections::kBoth) == Pairs{{kR1L0, kR1L1},
                                                   {kR1L1, kR1L0},
                                                   {kR1L1, kR2L0},
                                                   {kR1L1, kR2L1},
                                                   {kR2L0, kR1L1},
                                                   {kR2L1, kR1L1}});
}

TEST_CASE("pair-set changes one directed pair; unnamed knobs keep their values") {
  SwitchboardConfig config = twoRelays();
  config.default_knobs.delay_ms = 10;
  Switchboard board(config, 1);
  REQUIRE(board.setPairKnobs(kR1L0, kR2L1, {{"jitter_ms", "0"}, {"delay_ms", "40"}}) == "");
  REQUIRE(board.setLineKnobs(kR2L1, LineDirections::kIn, {{"loss_percent", "0.5"}}) == "");
  const auto crossed = board.admit(kR2L1, real(board, kR1L0), 0, kBytes);
  CHECK(crossed.deliver_at_us == 40 * kMillisecond);
  CHECK(crossed.pair->knobs.loss_percent == 0.5);
  // The reverse pair and the straight pair keep the default.
  CHECK(board.admit(kR1L0, real(board, kR2L1), 0, kBytes).deliver_at_us == 10 * kMillisecond);
  CHECK(board.admit(kR2L0, real(board, kR1L0), 0, kBytes).deliver_at_us == 10 * kMillisecond);
  CHECK(board.setPairKnobs(kR1L0, kR1L0, {{"delay_ms", "1"}}) == "a line has no pair with itself");
}

TEST_CASE("a rejected knob change changes nothing and creates no pair") {
  Switchboard board(twoRelays(), 1);
  REQUIRE(board.setPairKnobs(kR1L0, kR2L0, {{"delay_ms", "5"}}) == "");
  CHECK(board.setLineKnobs(kR1L0, LineDirections::kBoth, {{"delay_ms", "7"}, {"loss_percent", "150"}}) ==
        "loss_percent: 150 is out of range 0..100");
  CHECK(board.setLineKnobs(kR1L0, LineDirections::kOut, {{"burst_loss_percent", "90"}, {"burst_len", "1"}})
            .find("burst_loss_percent: 90 is too high") == 0);
  CHECK(board.setPairKnobs(kR2L0, kR1L0, {{"delay", "1"}}) == "delay: unknown key");
  REQUIRE(board.pairs().size() == 1);
  CHECK(board.pairs()[0]->knobs.delay_ms == 5);
}

TEST_CASE("pairs draw from their own seeds, reproducibly") {
  SwitchboardConfig config = twoRelays();
  config.default_knobs.loss_percent = 50;
  // Which of 200 datagrams pair (from -> to) delivers.
  auto pattern = [](Switchboard& board, std::size_t from, std::size_t to) {
    std::vector<bool> delivered;
    for (int i = 0; i < 200; ++i) {
      delivered.push_back(board.admit(to, real(board, from), i * kMillisecond, kBytes).deliver);
    }
    return delivered;
  };
  Switchboard first(config, 42);
  Switchboard again(config, 42);
  Switchboard other_seed(config, 43);
  const auto crossed = pattern(first, kR1L0, kR2L1);
  CHECK(pattern(again, kR1L0, kR2L1) == crossed);
  CHECK(pattern(first, kR1L0, kR2L0) != crossed);
  CHECK(pattern(other_seed, kR1L0, kR2L1) != crossed);
  const auto lost = static_cast<std::size_t>(std::count(crossed.begin(), crossed.end(), false));
  CHECK(lost > 60);
  CHECK(lost < 140);
}

TEST_CASE("line totals add up the line's pairs") {
  Switchboard board(twoRelays(), 1);
  REQUIRE(board.setPairKnobs(kR1L0, kR2L0, {{"loss_percent", "100"}}) == "");
  for (int i = 0; i < 5; ++i) {
    board.admit(kR2L0, real(board, kR1L0), i, kBytes);  // all lost
    const auto kept = board.admit(kR2L1, real(board, kR1L0), i, kBytes);
    REQUIRE(kept.deliver);
    ++kept.pair->counters.delivered;  // what the proxy does once it has sent it
  }
  const auto sender = board.lineTotals(kR1L0);
  CHECK(sender.sent == 10);
  CHECK(sender.dropped == 5);
  CHECK(sender.received == 0);
  CHECK(board.lineTotals(kR2L1).received == 5);
  CHECK(board.lineTotals(kR2L0).received == 0);
}
