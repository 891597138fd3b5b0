#include "relay/core/path_selector.h"

#include <algorithm>
#include <cmath>

#include "common/check/invariant.h"

namespace overline::relay {
namespace {

// The score's loss factor (see the header): free up to kLossNoiseRatio, then
// kLossWeight times the excess.
constexpr double kLossNoiseRatio = 0.02;
constexpr double kLossWeight = 5;

int rank(LinkState state) {
  switch (state) {
    case LinkState::kDown: return 0;
    case LinkState::kUnknown: return 1;
    case LinkState::kDegraded: return 2;
    case LinkState::kUp: return 3;
  }
  return 0;
}

// Strict "a ranks before b" (index breaks ties, by the callers' scan order).
bool ranksBefore(const LinkQuality& a, const LinkQuality& b) {
  if (rank(a.state) != rank(b.state)) return rank(a.state) > rank(b.state);
  return a.score_us < b.score_us;
}

}  // namespace

LinkQuality qualityOf(const LinkMonitor& link) {
  LinkQuality quality;
  quality.state = link.state();
  if (link.hasRttSample()) {
    const double loss_factor = 1 + kLossWeight * std::max(0.0, link.lossRatio() - kLossNoiseRatio);
    quality.score_us = (link.srttUs() + 2 * link.jitterUs()) * loss_factor;
  }
  return quality;
}

PathSelector::PathSelector(const PathChoiceConfig& config, std::size_t link_count, std::size_t remote_line_count)
    : config_(config), link_count_(link_count), remote_line_count_(remote_line_count) {
  if (!OVERLINE_INVARIANT(link_count_ >= 1 && remote_line_count_ >= 1 && link_count_ % remote_line_count_ == 0)) {
    // Keeps localLineOf() and remoteLineOf() defined; the line split is then only approximate.
    link_count_ = std::max<std::size_t>(link_count_, 1);
    remote_line_count_ = 1;
  }
}

template <typename Eligible>
std::optional<std::size_t> PathSelector::best(std::span<const LinkQuality> links, Eligible eligible) const {
  std::optional<std::size_t> found;
  for (std::size_t i = 0; i < links.size(); ++i) {
    if (!eligible(i)) continue;
    if (!found || ranksBefore(links[i], links[*found])) found = i;
  }
  return found;
}

bool PathSelector::muchBetter(const LinkQuality& candidate, const LinkQuality& current) const {
  if (!std::isfinite(candidate.score_us)) return false;
  if (!std::isfinite(current.score_us)) return true;
  const double gain_us = current.score_us - candidate.score_us;
  return gain_us >= config_.switch_margin * current.score_us &&
         gain_us >= static_cast<double>(config_.min_margin_us) && gain_us > 0;
}

bool PathSelector::update(std::span<const LinkQuality> links, TimeUs now) {
  if (!OVERLINE_INVARIANT(links.size() == link_count_)) return false;  // keeps the current choice
  const LinkQuality& current = links[active_];
  const std::size_t top = *best(links, [](std::size_t) { return true; });
  std::optional<std::size_t> next;

  if (rank(links[top].state) > rank(current.state)) {
    next = top;  // a better class (this covers "the active link is DOWN")
  } else if (current.state != LinkState::kDown) {
    const auto candidate = best(links, [&](std::size_t i) {
      return i != active_ && links[i].state == current.state && muchBetter(links[i], current);
    });
    if (!candidate) {
      better_since_us_.reset();
    } else {
      if (!better_since_us_) better_since_us_ = now;
      if (now - *better_since_us_ >= config_.switch_hold_us) next = candidate;
    }
  }

  bool counted = false;
  if (next && *next != active_) {
    counted = current.state != LinkState::kUnknown;
    active_ = *next;
    better_since_us_.reset();
  }

  const std::size_t local = localLineOf(active_);
  const std::size_t remote = remoteLineOf(active_);
  second_ = best(links, [&](std::size_t i) {
    return i != active_ && links[i].state != LinkState::kDown && localLineOf(i) != local &&
           remoteLineOf(i) != remote;
  });
  if (!second_) {
    second_ = best(links, [&](std::size_t i) { return i != active_ && links[i].state != LinkState::kDown; });
  }
  return counted;
}

}  // namespace overline::relay
