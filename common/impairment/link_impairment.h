#pragma once
// LinkImpairment decides the fate of each packet sent over one direction of
// an impaired link: dropped (and why) or delivered at a given time.
//
// Pure and clock-injected (STYLE rules 1 and 2): it never reads a clock or
// touches a socket, so the overline-impair proxy and the discrete-event
// simulator drive the same model. Single-threaded; `now` passed to admit()
// must never decrease.
//
// Per packet, in this order:
//   1. down switch or an outage covering `now`        -> DropReason::kOutage
//   2. burst model steps; loss in its current state   -> kBurstLoss
//   3. independent random loss                        -> kRandomLoss
//   4. rate cap: drop-tail queue full                 -> kRateLimit
//      otherwise the packet leaves the bottleneck once serialised
//   5. delay + jitter; kept in order unless keep_order is off; reorder
//      may add reorder_delay_us on top.
// Dropped packets do not occupy the bottleneck.
//
// Determinism: the same seed, settings and sequence of admit() calls give
// the same decisions. Each random feature (burst, loss, jitter, reorder)
// draws from its own generator derived from the seed, a fixed number of
// draws for every admitted packet whether or not the feature is enabled or
// the packet survives, so packet k always gets draw k of each feature and
// changing one setting does not change which packets another feature picks.
// The draws use only std::mt19937_64 (whose output the standard fixes) and
// our own conversions, so decisions are the same with any standard library.

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <random>
#include <string_view>

#include "common/impairment/impairment_settings.h"
#include "common/types.h"

namespace overline::impairment {

enum class DropReason : std::uint8_t {
  kRandomLoss,  // ImpairmentSettings::loss
  kBurstLoss,   // ImpairmentSettings::burst
  kOutage,      // down switch or a scheduled outage
  kRateLimit,   // bottleneck queue full
};
constexpr std::size_t kDropReasonCount = 4;
// "random_loss", "burst_loss", "outage", "rate_limit".
std::string_view toString(DropReason reason);

struct Decision {
  std::optional<DropReason> drop;  // nullopt: deliver at deliver_at_us
  TimeUs deliver_at_us = 0;        // meaningful only when delivered()

  bool delivered() const { return !drop.has_value(); }
};

// Monotonic counts of admit() outcomes; admitted == delivered + dropped total.
struct ImpairmentCounters {
  std::uint64_t admitted = 0;
  std::uint64_t delivered = 0;
  std::uint64_t reordered = 0;  // delivered packets held back by `reorder`
  std::array<std::uint64_t, kDropReasonCount> dropped{};

  std::uint64_t droppedBy(DropReason reason) const { return dropped[static_cast<std::size_t>(reason)]; }
};

// Mixes a base seed with a stream number (splitmix64), so one configured
// seed can seed many independent links: deriveSeed(seed, link * 2 + dir).
std::uint64_t deriveSeed(std::uint64_t seed, std::uint64_t stream);

class LinkImpairment {
 public:
  // `settings` must pass checkSettings(); anything else is a caller bug and
  // aborts.
  LinkImpairment(ImpairmentSettings settings, std::uint64_t seed);

  // Decides the fate of one packet of `bytes` bytes handed to the link at `now`.
  Decision admit(TimeUs now, std::size_t bytes);

  // Replaces the settings (same contract as the constructor). Random state,
  // the burst model's state, the bottleneck backlog and the in-order
  // delivery horizon carry over, so a packet admitted after a delay cut
  // still never overtakes earlier ones when keep_order is on.
  void setSettings(ImpairmentSettings settings);
  const ImpairmentSettings& settings() const { return settings_; }

  // Manual down switch, independent of the scheduled outages.
  void setDown(bool down) { down_ = down; }
  // Adds an outage to settings().outages (it must have duration_us >= 0).
  void addOutage(Outage outage);
  // Removes every scheduled outage, running or not.
  void clearOutages() { settings_.outages.clear(); }
  // True while the down switch is on or an outage covers `now`.
  bool isDownAt(TimeUs now) const;

  // Bytes of the packets the bottleneck has not finished serialising at
  // `now` (0 without a rate cap).
  std::size_t queuedBytesAt(TimeUs now) const;

  const ImpairmentCounters& counters() const { return counters_; }

 private:
  // A uniform double in [0, 1) from 53 random bits.
  static double unitInterval(std::mt19937_64& rng);
  Decision drop(DropReason reason);
  bool burstLoses();
  // When a packet admitted at `now` finishes serialisation, or nullopt when
  // the bottleneck queue has no room for it.
  std::optional<TimeUs> serialise(TimeUs now, std::size_t bytes);
  DurationUs sampleDelay();

  ImpairmentSettings settings_;
  bool down_ = false;
  std::mt19937_64 burst_rng_;
  std::mt19937_64 loss_rng_;
  std::mt19937_64 jitter_rng_;
  std::mt19937_64 reorder_rng_;
  bool burst_bad_ = false;  // Gilbert-Elliott state; starts good
  // Packets in the bottleneck, oldest first: when each finishes serialising,
  // and its size. Entries finished by `now` are pruned on admit().
  struct InBottleneck {
    TimeUs done_at_us;
    std::size_t bytes;
  };
  std::deque<InBottleneck> bottleneck_;
  std::size_t bottleneck_bytes_ = 0;  // sum of bottleneck_[i].bytes
  // Latest deliver time given to an in-order packet; later in-order packets
  // are delivered no earlier (keep_order).
  std::optional<TimeUs> last_in_order_deliver_at_us_;
  ImpairmentCounters counters_;
};

}  // namespace overline::impairment
