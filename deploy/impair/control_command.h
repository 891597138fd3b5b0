#pragma once
// overline-impair's runtime control language: one command per text line.
//
//   set LINK DIR key=value ...   change knobs (common/impairment/impairment_knobs.h);
//                                keys not named keep their value
//   down LINK DIR                drop everything until `up`
//   up LINK DIR                  end `down` and cancel outages of `outage`
//   outage LINK DIR MS           down now, up again by itself after MS ms
//   line-set LINE LDIR key=value ...
//                                change knobs of every switchboard pair LINE
//                                sends on (out), receives on (in) or both
//   line-down LINE               LINE drops everything it sends or receives until line-up
//   line-up LINE                 end line-down and cancel outages of line-outage
//   line-outage LINE MS          line-down now, up again by itself after MS ms
//   pair-set FROM TO key=value ...
//                                change knobs of the switchboard pair FROM -> TO
//   stats                        one JSON line of counters
//   quit                         stop the proxy (exit 0)
//
// DIR is a_to_b, b_to_a or both; LDIR is out, in or both. Words are separated
// by spaces or tabs; a trailing '\r' is ignored. Blank lines and lines
// starting with '#' are not commands (isBlankOrComment) and get no answer.
//
// Parsing is pure; whether LINK or LINE exists and whether the knobs are
// valid is checked when the command runs (applyKnobChanges).

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "common/impairment/impairment_knobs.h"
#include "common/impairment/impairment_settings.h"
#include "common/result.h"
#include "common/types.h"

namespace overline::impair {

enum class Directions : std::uint8_t { kAToB, kBToA, kBoth };
// Which switchboard pairs of a line: those it sends on, receives on, or both.
enum class LineDirections : std::uint8_t { kOut, kIn, kBoth };

// The `key=value` words of a command: (key, value text), in line order.
using KnobChanges = std::vector<std::pair<std::string, std::string>>;

struct SetCommand {
  std::string link;
  Directions directions = Directions::kBoth;
  KnobChanges knobs;
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
struct LineSetCommand {
  std::string line;
  LineDirections directions = LineDirections::kBoth;
  KnobChanges knobs;
};
struct LineDownCommand {
  std::string line;
};
struct LineUpCommand {
  std::string line;
};
struct LineOutageCommand {
  std::string line;
  DurationUs duration_us = 0;
};
struct PairSetCommand {
  std::string from;
  std::string to;
  KnobChanges knobs;
};
struct StatsCommand {};
struct QuitCommand {};

using ControlCommand =
    std::variant<SetCommand, DownCommand, UpCommand, OutageCommand, LineSetCommand, LineDownCommand,
                 LineUpCommand, LineOutageCommand, PairSetCommand, StatsCommand, QuitCommand>;

bool isBlankOrComment(std::string_view line);

// Parses one command line. The error is the text after "error: ", e.g.
// `unknown command "foo" (expected set, down, up, outage, line-set, ...)`.
Result<ControlCommand, std::string> parseControlCommand(std::string_view line);

// What a set-style command makes of one direction's knobs: the new knobs and
// the settings they convert to (without outages: a knob change never starts
// or ends one).
struct KnobUpdate {
  impairment::ImpairmentKnobs knobs;
  impairment::ImpairmentSettings settings;
};
// `knobs` with `changes` applied in order. The error is the answer text
// after "error: ", e.g. `loss_percent: 150 is out of range 0..100`.
Result<KnobUpdate, std::string> applyKnobChanges(const impairment::ImpairmentKnobs& knobs,
                                                 const KnobChanges& changes);

// " key=value" for every knob, for logs.
std::string describeKnobs(const impairment::ImpairmentKnobs& knobs);

}  // namespace overline::impair
