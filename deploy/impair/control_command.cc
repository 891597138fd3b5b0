#include "deploy/impair/control_command.h"

#include <cmath>
#include <optional>

#include "common/impairment/impairment_knobs.h"

namespace overline::impair {
namespace {

constexpr double kMaxOutageMs = 86'400'000;  // one day

std::string_view trimmed(std::string_view line) {
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) {
    line.remove_suffix(1);
  }
  while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
  return line;
}

std::vector<std::string_view> words(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t at = 0;
  while (at < line.size()) {
    const std::size_t start = line.find_first_not_of(" \t", at);
    if (start == std::string_view::npos) break;
    const std::size_t end = std::min(line.find_first_of(" \t", start), line.size());
    out.push_back(line.substr(start, end - start));
    at = end;
  }
  return out;
}

std::optional<Directions> parseDirections(std::string_view word) {
  if (word == "a_to_b") return Directions::kAToB;
  if (word == "b_to_a") return Directions::kBToA;
  if (word == "both") return Directions::kBoth;
  return std::nullopt;
}

// Checks `command LINK DIR ...` has `count` words in all and reads LINK and DIR.
template <typename Command>
Result<Command, std::string> linkCommand(const std::vector<std::string_view>& w, std::size_t count,
                                         std::string_view usage) {
  if (w.size() != count) return Err("usage: " + std::string(usage));
  const auto directions = parseDirections(w[2]);
  if (!directions) {
    return Err("unknown direction \"" + std::string(w[2]) + "\" (expected a_to_b, b_to_a or both)");
  }
  Command command;
  command.link = std::string(w[1]);
  command.directions = *directions;
  return command;
}

template <typename Command>
Result<ControlCommand, std::string> widen(Result<Command, std::string> parsed) {
  if (!parsed) return Err(parsed.error());
  return ControlCommand(parsed.value());
}

// The `key=value` words from w[first] on; at least one.
Result<KnobChanges, std::string> parseKnobWords(const std::vector<std::string_view>& w, std::size_t first) {
  KnobChanges knobs;
  for (std::size_t i = first; i < w.size(); ++i) {
    const std::size_t eq = w[i].find('=');
    if (eq == std::string_view::npos || eq == 0 || eq + 1 == w[i].size()) {
      return Err("expected key=value, got \"" + std::string(w[i]) + "\"");
    }
    knobs.emplace_back(std::string(w[i].substr(0, eq)), std::string(w[i].substr(eq + 1)));
  }
  return knobs;
}

// An outage length in ms: (0, one day].
Result<DurationUs, std::string> parseOutageMs(std::string_view word) {
  const auto ms = impairment::parseDecimal(word);
  if (!ms || *ms <= 0 || *ms > kMaxOutageMs) {
    return Err("outage duration \"" + std::string(word) + "\" must be a number of ms in (0, " +
               impairment::formatDecimal(kMaxOutageMs) + "]");
  }
  return static_cast<DurationUs>(std::llround(*ms * 1000.0));
}

Result<ControlCommand, std::string> parseSet(const std::vector<std::string_view>& w) {
  constexpr std::string_view kUsage = "set LINK a_to_b|b_to_a|both key=value ...";
  if (w.size() < 4) return Err("usage: " + std::string(kUsage));
  auto set = linkCommand<SetCommand>(std::vector<std::string_view>(w.begin(), w.begin() + 3), 3, kUsage);
  if (!set) return Err(set.error());
  auto knobs = parseKnobWords(w, 3);
  if (!knobs) return Err(knobs.error());
  SetCommand command = set.value();
  command.knobs = std::move(knobs.value());
  return ControlCommand(std::move(command));
}

Result<ControlCommand, std::string> parseOutage(const std::vector<std::string_view>& w) {
  auto outage = linkCommand<OutageCommand>(w, 4, "outage LINK a_to_b|b_to_a|both MS");
  if (!outage) return Err(outage.error());
  const auto duration_us = parseOutageMs(w[3]);
  if (!duration_us) return Err(duration_us.error());
  OutageCommand command = outage.value();
  command.duration_us = duration_us.value();
  return ControlCommand(std::move(command));
}

std::optional<LineDirections> parseLineDirections(std::string_view word) {
  if (word == "out") return LineDirections::kOut;
  if (word == "in") return LineDirections::kIn;
  if (word == "both") return LineDirections::kBoth;
  return std::nullopt;
}

Result<ControlCommand, std::string> parseLineSet(const std::vector<std::string_view>& w) {
  if (w.size() < 4) return Err(std::string("usage: line-set LINE out|in|both key=value ..."));
  const auto directions = parseLineDirections(w[2]);
  if (!directions) return Err("unknown direction \"" + std::string(w[2]) + "\" (expected out, in or both)");
  auto knobs = parseKnobWords(w, 3);
  if (!knobs) return Err(knobs.error());
  return ControlCommand(LineSetCommand{std::string(w[1]), *directions, std::move(knobs.value())});
}

Result<ControlCommand, std::string> parseLineOutage(const std::vector<std::string_view>& w) {
  if (w.size() != 3) return Err(std::string("usage: line-outage LINE MS"));
  const auto duration_us = parseOutageMs(w[2]);
  if (!duration_us) return Err(duration_us.error());
  return ControlCommand(LineOutageCommand{std::string(w[1]), duration_us.value()});
}

Result<ControlCommand, std::string> parsePairSet(const std::vector<std::string_view>& w) {
  if (w.size() < 4) return Err(std::string("usage: pair-set FROM TO key=value ..."));
  auto knobs = parseKnobWords(w, 3);
  if (!knobs) return Err(knobs.error());
  return ControlCommand(PairSetCommand{std::string(w[1]), std::string(w[2]), std::move(knobs.value())});
}

}  // namespace

bool isBlankOrComment(std::string_view line) {
  const std::string_view text = trimmed(line);
  return text.empty() || text.front() == '#';
}

Result<ControlCommand, std::string> parseControlCommand(std::string_view line) {
  const std::vector<std::string_view> w = words(trimmed(line));
  if (w.empty()) return Err(std::string("empty command"));
  const std::string_view name = w[0];
  if (name == "set") return parseSet(w);
  if (name == "down") return widen(linkCommand<DownCommand>(w, 3, "down LINK a_to_b|b_to_a|both"));
  if (name == "up") return widen(linkCommand<UpCommand>(w, 3, "up LINK a_to_b|b_to_a|both"));
  if (name == "outage") return parseOutage(w);
  if (name == "line-set") return parseLineSet(w);
  if (name == "line-down" || name == "line-up") {
    if (w.size() != 2) return Err("usage: " + std::string(name) + " LINE");
    if (name == "line-down") return ControlCommand(LineDownCommand{std::string(w[1])});
    return ControlCommand(LineUpCommand{std::string(w[1])});
  }
  if (name == "line-outage") return parseLineOutage(w);
  if (name == "pair-set") return parsePairSet(w);
  if (name == "stats" || name == "quit") {
    if (w.size() != 1) return Err(std::string(name) + " takes no arguments");
    if (name == "stats") return ControlCommand(StatsCommand{});
    return ControlCommand(QuitCommand{});
  }
  constexpr std::size_t kMaxShown = 40;
  return Err("unknown command \"" + std::string(name.substr(0, kMaxShown)) +
             "\" (expected set, down, up, outage, line-set, line-down, line-up, line-outage, pair-set, "
             "stats or quit)");
}

Result<KnobUpdate, std::string> applyKnobChanges(const impairment::ImpairmentKnobs& knobs,
                                                 const KnobChanges& changes) {
  KnobUpdate update{knobs, {}};
  for (const auto& [key, value] : changes) {
    if (auto problem = impairment::setKnob(update.knobs, key, value)) return Err(key + ": " + *problem);
  }
  auto settings = impairment::toSettings(update.knobs);
  if (!settings) return Err(settings.error());
  update.settings = std::move(settings.value());
  return update;
}

std::string describeKnobs(const impairment::ImpairmentKnobs& knobs) {
  std::string description;
  for (const auto& [key, value] : impairment::knobValues(knobs)) {
    description += " " + std::string(key) + "=" + impairment::formatDecimal(value);
  }
  return description;
}

}  // namespace overline::impair
