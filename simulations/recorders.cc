#include "simulations/recorders.h"

#include <algorithm>
#include <utility>

namespace overline::sim {

CounterTrace::CounterTrace(Simulator& simulator, TimeUs start_us, DurationUs interval_us,
                           std::function<std::uint64_t()> read)
    : read_(std::move(read)) {
  simulator.schedulePeriodic(start_us, interval_us, [this, &simulator] {
    const std::uint64_t value = read_();
    if (changes_.empty() || changes_.back().value != value) changes_.push_back(Sample{simulator.now(), value});
    return true;
  });
}

std::uint64_t CounterTrace::valueAt(TimeUs at_us) const {
  const auto after = std::upper_bound(changes_.begin(), changes_.end(), at_us,
                                      [](TimeUs t, const Sample& sample) { return t < sample.at_us; });
  return after == changes_.begin() ? 0 : std::prev(after)->value;
}

std::optional<TimeUs> CounterTrace::firstChangeAfter(TimeUs after_us) const {
  const auto after = std::upper_bound(changes_.begin(), changes_.end(), after_us,
                                      [](TimeUs t, const Sample& sample) { return t < sample.at_us; });
  if (after == changes_.end()) return std::nullopt;
  return after->at_us;
}

DataPathLog::DataPathLog(SimNetwork& network, NodeId from, NodeId to) {
  network.addObserver([this, from, to](const Transmission& transmission) {
    const std::optional<LineRef> sender = relayLineAt(transmission.from);
    const std::optional<LineRef> receiver = relayLineAt(transmission.to);
    if (!sender || !receiver || sender->node != from || receiver->node != to) return;
    const std::optional<wire::Header> header = transmission.header();
    // Retransmissions answer NACKs on another link by design: not the path.
    if (!header || header->type != wire::PacketType::kData || (header->flags & wire::kFlagRetransmit) != 0) return;
    ++packets_;
    if (!changes_.empty() && changes_.back().from_line == sender->line && changes_.back().to_line == receiver->line) {
      return;
    }
    changes_.push_back(LinePairUse{transmission.sent_at_us, sender->line, receiver->line});
  });
}

std::optional<LinePairUse> DataPathLog::pairAt(TimeUs at_us) const {
  const auto after = std::upper_bound(changes_.begin(), changes_.end(), at_us,
                                      [](TimeUs t, const LinePairUse& use) { return t < use.since_us; });
  if (after == changes_.begin()) return std::nullopt;
  return *std::prev(after);
}

std::optional<LinePairUse> DataPathLog::firstChangeAfter(TimeUs after_us) const {
  const auto after = std::upper_bound(changes_.begin(), changes_.end(), after_us,
                                      [](TimeUs t, const LinePairUse& use) { return t < use.since_us; });
  if (after == changes_.end()) return std::nullopt;
  return *after;
}

}  // namespace overline::sim
