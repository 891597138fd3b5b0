#pragma once
// PathSelector: which of the links to ONE neighbour carries traffic (the
// "active" link), and which second link redundant DATA also uses. Pure: it
// is fed the links' current quality and `now` on every RelayCore tick.
//
// Links are indexed local_line * remote_line_count + remote_line. Index 0
// (local line 0 -> neighbour line 0) is active until something is measured.
//
// Ranking: by class first, UP > DEGRADED > UNKNOWN > DOWN, then by score
// (lower is better), then by index. The score of a measured link is
//   (srtt + 2 x jitter) x (1 + 5 x max(0, loss_ratio - 0.02))
// in microseconds. Jitter is weighted twice because a receiver's playout
// buffer has to absorb it. Loss scales the score rather than adding to it,
// so it weighs the same on a 2 ms and a 200 ms link against the relative
// switch_margin: each 1% of loss above 2% costs 5%. The first 2% are free
// because a 100-probe window cannot tell 0% from 2% (one or two probes), and
// that noise must not move traffic; heavy loss (DEGRADED) already outranks
// any score. A link with no RTT sample yet scores +infinity.
//
// Switching rules, applied on each update():
//  * the active link is DOWN: switch at once to the best non-DOWN link;
//  * a link of a better class exists: switch to the best one at once;
//  * same class: switch only once some link has scored better than the
//    active one by switch_margin (relative) AND min_margin (absolute),
//    continuously for switch_hold; then take the best such link. Any update
//    where no link is that much better restarts the hold.
// All links DOWN: stay where we are (nothing is better). Every switch is
// counted, except the first move away from an UNKNOWN link (the start-up
// default), which is a choice rather than a change.

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>

#include "common/types.h"
#include "relay/core/link_monitor.h"
#include "relay/core/relay_config.h"

namespace overline::relay {

struct LinkQuality {
  LinkState state = LinkState::kUnknown;
  double score_us = std::numeric_limits<double>::infinity();
};

// The score defined above, from a monitor's current estimates.
LinkQuality qualityOf(const LinkMonitor& link);

class PathSelector {
 public:
  // `link_count` == local lines x `remote_line_count`, both >= 1.
  PathSelector(const PathChoiceConfig& config, std::size_t link_count, std::size_t remote_line_count);

  // Applies the switching rules to `links` (index-aligned, size link_count)
  // and refreshes second(). Returns true when the active link changed and the
  // change counts as a switch.
  bool update(std::span<const LinkQuality> links, TimeUs now);

  std::size_t active() const { return active_; }
  // The link redundant DATA uses besides active(): the best non-DOWN link
  // with a different local line AND a different remote line, else the best
  // other non-DOWN link, else none. As of the last update().
  std::optional<std::size_t> second() const { return second_; }

  std::size_t localLineOf(std::size_t link) const { return link / remote_line_count_; }
  std::size_t remoteLineOf(std::size_t link) const { return link % remote_line_count_; }

 private:
  // The best link among those `eligible` accepts, or nullopt.
  template <typename Eligible>
  std::optional<std::size_t> best(std::span<const LinkQuality> links, Eligible eligible) const;
  bool muchBetter(const LinkQuality& candidate, const LinkQuality& current) const;

  PathChoiceConfig config_;
  std::size_t link_count_;
  std::size_t remote_line_count_;
  std::size_t active_ = 0;
  std::optional<std::size_t> second_;
  // Since when some same-class link has been much better than the active one.
  std::optional<TimeUs> better_since_us_;
};

}  // namespace overline::relay
