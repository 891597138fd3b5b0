#pragma once
// overline-impair's runtime control language: one command per text line.
//
//   set LINK DIR key=value ...   change knobs (common/impairment/impairment_knobs.h);
//                                keys not named keep their value
//   down LINK DIR                drop everything until `up`
//   up LINK DIR                  end `down` and cancel outages of `outage`
//   outage LINK DIR MS           down now, up again by itself after MS ms
//   stats                        one JSON line of counters
//   quit                         stop the proxy (exit 0)
//
// DIR is a_to_b, b_to_a or both. Words are separated by spaces or tabs; a
// trailing '\r' is ignored. Blank lines and lines starting with '#' are not
// commands (isBlankOrComment) and get no answer.
//
// Parsing is pure; whether LINK exists and whether the knobs are valid is
// checked when the command runs.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "common/result.h"
#include "common/types.h"

namespace overline::impair {

enum class Directions : std::uint8_t { kAToB, kBToA, kBoth };

struct SetCommand {
  std::string link;
  Directions directions = Directions::kBoth;
  std::vector<std::pair<std::string, std::string>> knobs;  // (key, value text), in line order
};
struct DownCommand {
  std::string link;
  Directions directions = Directions::kBoth;
};
struct UpCommand {
  std::string link;
  Directions directions = Directions::kBoth;
};
struct OutageCommand {
  std::string link;
  Directions directions = Directions::kBoth;
  DurationUs duration_us = 0;
};
struct StatsCommand {};
struct QuitCommand {};

using ControlCommand =
    std::variant<SetCommand, DownCommand, UpCommand, OutageCommand, StatsCommand, QuitCommand>;

bool isBlankOrComment(std::string_view line);

// Parses one command line. The error is the text after "error: ", e.g.
// `unknown command "foo" (expected set, down, up, outage, stats or quit)`.
Result<ControlCommand, std::string> parseControlCommand(std::string_view line);

}  // namespace overline::impair
