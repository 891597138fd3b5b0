#include "deploy/impair/switchboard.h"

#include <algorithm>

namespace overline::impair {

Switchboard::Pair::Pair(std::size_t from_line, std::size_t to_line,
                        const impairment::ImpairmentKnobs& initial_knobs, std::uint64_t seed)
    // The config loader has checked that the default knobs convert; commands
    // check theirs before they reach a pair.
    : from(from_line), to(to_line), knobs(initial_knobs), model(impairment::toSettings(knobs).value(), seed) {}

namespace {

// Access clients draw from their own stream of the switchboard's seed, far
// from the pairs' (from * lineCount() + to < 2^16).
constexpr std::uint64_t kAccessSeedStream = std::uint64_t{1} << 32;

}  // namespace

Switchboard::Switchboard(const SwitchboardConfig& config, std::uint64_t seed)
    : default_knobs_(config.default_knobs), seed_(seed) {
  if (config.access_knobs) {
    access_ = std::make_unique<AccessClients>(*config.access_knobs, impairment::deriveSeed(seed, kAccessSeedStream));
  }
  lines_.reserve(config.lines.size());
  for (std::size_t i = 0; i < config.lines.size(); ++i) {
    lines_.push_back(Line{config.lines[i], false, std::nullopt, 0});
    line_of_real_.emplace(config.lines[i].real, i);
  }
  pairs_.resize(lines_.size() * lines_.size());
}

std::optional<std::size_t> Switchboard::findLine(std::string_view name) const {
  for (std::size_t i = 0; i < lines_.size(); ++i) {
    if (lines_[i].config.name == name) return i;
  }
  return std::nullopt;
}

Switchboard::Verdict Switchboard::admit(std::size_t to, const Endpoint& from, TimeUs now, std::size_t bytes) {
  const auto sender = line_of_real_.find(from);
  if (sender == line_of_real_.end() && access_) {
    Verdict verdict;
    verdict.client = access_->clientAt(from, verdict.new_client);
    if (verdict.client == nullptr) return verdict;  // refused: too many clients
    AccessClients::Client& client = *verdict.client;
    ++client.up_counters.received;
    client.up_counters.received_bytes += bytes;
    const impairment::Decision decision = client.up.admit(now, bytes);
    verdict.deliver = decision.delivered();
    verdict.deliver_at_us = decision.deliver_at_us;
    return verdict;
  }
  if (sender == line_of_real_.end() || sender->second == to) {
    ++lines_[to].foreign;
    return {};
  }
  Pair& travelled = pair(sender->second, to);
  ++travelled.counters.received;
  travelled.counters.received_bytes += bytes;
  if (isLineDownAt(travelled.from, now) || isLineDownAt(to, now)) {
    ++travelled.line_down;
    return {&travelled, false, 0};
  }
  const impairment::Decision decision = travelled.model.admit(now, bytes);
  return {&travelled, decision.delivered(), decision.deliver_at_us};
}

Switchboard::ClientVerdict Switchboard::admitToClient(std::size_t client_index, const Endpoint& from, TimeUs now,
                                                      std::size_t bytes) {
  AccessClients::Client& client = access_->client(client_index);
  const auto sender = line_of_real_.find(from);
  if (sender == line_of_real_.end()) {
    ++client.foreign;
    return {};
  }
  ++client.down_counters.received;
  client.down_counters.received_bytes += bytes;
  const impairment::Decision decision = client.down.admit(now, bytes);
  return {sender->second, decision.delivered(), decision.deliver_at_us};
}

std::string Switchboard::setLineKnobs(std::size_t line, LineDirections directions, const KnobChanges& changes) {
  std::vector<std::pair<std::size_t, std::size_t>> selected;
  for (std::size_t other = 0; other < lines_.size(); ++other) {
    if (other == line) continue;
    if (directions != LineDirections::kIn) selected.emplace_back(line, other);
    if (directions != LineDirections::kOut) selected.emplace_back(other, line);
  }
  return setKnobs(selected, changes);
}

std::string Switchboard::setPairKnobs(std::size_t from, std::size_t to, const KnobChanges& changes) {
  if (from == to) return "a line has no pair with itself";
  return setKnobs({{from, to}}, changes);
}

std::string Switchboard::setKnobs(const std::vector<std::pair<std::size_t, std::size_t>>& pairs,
                                  const KnobChanges& changes) {
  // A pair not created yet has the default knobs, so every update can be
  // checked before any pair exists or changes.
  std::vector<KnobUpdate> updates;
  updates.reserve(pairs.size());
  for (const auto& [from, to] : pairs) {
    const Pair* existing = findPair(from, to);
    auto update = applyKnobChanges(existing != nullptr ? existing->knobs : default_knobs_, changes);
    if (!update) return update.error();
    updates.push_back(std::move(update.value()));
  }
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    Pair& changed = pair(pairs[i].first, pairs[i].second);
    KnobUpdate& update = updates[i];
    update.settings.outages = changed.model.settings().outages;
    changed.model.setSettings(std::move(update.settings));
    changed.knobs = update.knobs;
  }
  return "";
}

void Switchboard::setLineDown(std::size_t line, bool down) {
  lines_[line].down = down;
  if (!down) lines_[line].outage_end_us.reset();
}

void Switchboard::addLineOutage(std::size_t line, TimeUs now, DurationUs duration_us) {
  std::optional<TimeUs>& end_us = lines_[line].outage_end_us;
  // An outage already over ends before this one starts, so max() is right
  // whether or not it is still running.
  end_us = std::max(end_us.value_or(now), now + duration_us);
}

bool Switchboard::isLineDownAt(std::size_t line, TimeUs now) const {
  const Line& state = lines_[line];
  return state.down || (state.outage_end_us && now < *state.outage_end_us);
}

Switchboard::LineTotals Switchboard::lineTotals(std::size_t line) const {
  LineTotals totals;
  totals.foreign = lines_[line].foreign;
  for (std::size_t other = 0; other < lines_.size(); ++other) {
    if (const Pair* out = findPair(line, other)) {
      const impairment::ImpairmentCounters& model = out->model.counters();
      totals.sent += out->counters.received;
      totals.sent_bytes += out->counters.received_bytes;
      totals.dropped += out->line_down + (model.admitted - model.delivered) + out->counters.queue_full +
                        out->counters.send_failed;
    }
    if (const Pair* in = findPair(other, line)) {
      totals.received += in->counters.delivered;
      totals.received_bytes += in->counters.delivered_bytes;
    }
  }
  return totals;
}

std::vector<Switchboard::Pair*> Switchboard::pairs() {
  std::vector<Pair*> created;
  for (const auto& entry : pairs_) {
    if (entry) created.push_back(entry.get());
  }
  return created;
}

Switchboard::Pair& Switchboard::pair(std::size_t from, std::size_t to) {
  const std::size_t index = from * lines_.size() + to;
  std::unique_ptr<Pair>& entry = pairs_[index];
  if (!entry) entry = std::make_unique<Pair>(from, to, default_knobs_, impairment::deriveSeed(seed_, index));
  return *entry;
}

Switchboard::Pair* Switchboard::findPair(std::size_t from, std::size_t to) const {
  return pairs_[from * lines_.size() + to].get();
}

}  // namespace overline::impair
