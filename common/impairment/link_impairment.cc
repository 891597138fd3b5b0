#include "common/impairment/link_impairment.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace overline::impairment {
namespace {

// Streams of deriveSeed() for the per-feature generators.
enum RandomStream : std::uint64_t { kBurstStream, kLossStream, kJitterStream, kReorderStream };

void requireValid(const ImpairmentSettings& settings) {
  if (auto problem = checkSettings(settings)) {
    std::fprintf(stderr, "bug: invalid ImpairmentSettings: %s\n", problem->c_str());
    std::abort();
  }
}

// Time to push `bytes` through a `rate_bps` bottleneck, rounded up to whole
// microseconds (so a capped link is never faster than its rate).
DurationUs serialisationUs(std::size_t bytes, std::uint64_t rate_bps) {
  const std::uint64_t bit_us = static_cast<std::uint64_t>(bytes) * 8 * 1'000'000;
  return static_cast<DurationUs>((bit_us + rate_bps - 1) / rate_bps);
}

}  // namespace

std::string_view toString(DropReason reason) {
  switch (reason) {
    case DropReason::kRandomLoss: return "random_loss";
    case DropReason::kBurstLoss: return "burst_loss";
    case DropReason::kOutage: return "outage";
    case DropReason::kRateLimit: return "rate_limit";
  }
  return "unknown";
}

std::uint64_t deriveSeed(std::uint64_t seed, std::uint64_t stream) {
  // splitmix64 (Steele, Lea, Flood 2014) of the seed offset by the stream:
  // nearby (seed, stream) pairs give unrelated outputs.
  std::uint64_t z = seed + (stream + 1) * 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

LinkImpairment::LinkImpairment(ImpairmentSettings settings, std::uint64_t seed)
    : settings_(std::move(settings)),
      burst_rng_(deriveSeed(seed, kBurstStream)),
      loss_rng_(deriveSeed(seed, kLossStream)),
      jitter_rng_(deriveSeed(seed, kJitterStream)),
      reorder_rng_(deriveSeed(seed, kReorderStream)) {
  requireValid(settings_);
}

void LinkImpairment::setSettings(ImpairmentSettings settings) {
  requireValid(settings);
  settings_ = std::move(settings);
}

void LinkImpairment::addOutage(Outage outage) {
  settings_.outages.push_back(outage);
  requireValid(settings_);
}

bool LinkImpairment::isDownAt(TimeUs now) const {
  return down_ || std::any_of(settings_.outages.begin(), settings_.outages.end(),
                              [now](const Outage& outage) { return outage.covers(now); });
}

std::size_t LinkImpairment::queuedBytesAt(TimeUs now) const {
  std::size_t queued = bottleneck_bytes_;
  for (auto it = bottleneck_.begin(); it != bottleneck_.end() && it->done_at_us <= now; ++it) {
    queued -= it->bytes;
  }
  return queued;
}

double LinkImpairment::unitInterval(std::mt19937_64& rng) {
  return static_cast<double>(rng() >> 11) * 0x1.0p-53;
}

Decision LinkImpairment::drop(DropReason reason) {
  ++counters_.dropped[static_cast<std::size_t>(reason)];
  return Decision{reason, 0};
}

Decision LinkImpairment::admit(TimeUs now, std::size_t bytes) {
  ++counters_.admitted;
  std::erase_if(settings_.outages, [now](const Outage& outage) { return outage.endUs() <= now; });

  // Every packet takes its draws from every generator up front (see the
  // header: packet k always uses draw k of each feature).
  const bool burst_lost = burstLoses();
  const bool randomly_lost = unitInterval(loss_rng_) < settings_.loss;
  const DurationUs delay_us = sampleDelay();
  const bool reordered = unitInterval(reorder_rng_) < settings_.reorder;

  if (isDownAt(now)) return drop(DropReason::kOutage);
  if (burst_lost) return drop(DropReason::kBurstLoss);
  if (randomly_lost) return drop(DropReason::kRandomLoss);
  const std::optional<TimeUs> departs_at_us = serialise(now, bytes);
  if (!departs_at_us) return drop(DropReason::kRateLimit);

  TimeUs deliver_at_us = *departs_at_us + delay_us;
  if (reordered && settings_.reorder_delay_us > 0) {
    // Held back, and outside the in-order horizon: packets behind it are
    // not delayed by it, which is what makes them overtake it.
    deliver_at_us += settings_.reorder_delay_us;
    ++counters_.reordered;
  } else if (settings_.keep_order) {
    if (last_in_order_deliver_at_us_) deliver_at_us = std::max(deliver_at_us, *last_in_order_deliver_at_us_);
    last_in_order_deliver_at_us_ = deliver_at_us;
  }
  ++counters_.delivered;
  return Decision{std::nullopt, deliver_at_us};
}

bool LinkImpairment::burstLoses() {
  // Two draws per packet, burst model or not (determinism, see the header).
  const double transition = unitInterval(burst_rng_);
  const double loss = unitInterval(burst_rng_);
  if (!settings_.burst) return false;
  const GilbertElliott& model = *settings_.burst;
  if (burst_bad_) {
    if (transition < model.p_bad_to_good) burst_bad_ = false;
  } else if (transition < model.p_good_to_bad) {
    burst_bad_ = true;
  }
  return loss < (burst_bad_ ? model.loss_in_bad : model.loss_in_good);
}

DurationUs LinkImpairment::sampleDelay() {
  const double u = unitInterval(jitter_rng_);
  const DurationUs jitter = settings_.jitter_us;
  // Uniform integer in [-jitter, +jitter].
  const auto offset = static_cast<DurationUs>(std::floor(u * static_cast<double>(2 * jitter + 1))) - jitter;
  return std::max<DurationUs>(0, settings_.delay_us + offset);
}

std::optional<TimeUs> LinkImpairment::serialise(TimeUs now, std::size_t bytes) {
  while (!bottleneck_.empty() && bottleneck_.front().done_at_us <= now) {
    bottleneck_bytes_ -= bottleneck_.front().bytes;
    bottleneck_.pop_front();
  }
  // Without a cap a packet departs at once; packets still in the bottleneck
  // from an earlier cap drain on their own schedule (keep_order stops
  // newer packets overtaking them).
  if (settings_.rate_bps == 0) return now;
  if (bottleneck_bytes_ + bytes > settings_.queue_limit_bytes) return std::nullopt;
  const TimeUs starts_at_us = bottleneck_.empty() ? now : bottleneck_.back().done_at_us;
  const TimeUs done_at_us = starts_at_us + serialisationUs(bytes, settings_.rate_bps);
  bottleneck_.push_back({done_at_us, bytes});
  bottleneck_bytes_ += bytes;
  return done_at_us;
}

}  // namespace overline::impairment
