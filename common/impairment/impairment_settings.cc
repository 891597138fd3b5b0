#include "common/impairment/impairment_settings.h"

#include <cmath>
#include <cstdio>

namespace overline::impairment {
namespace {

// Shortest readable form for error messages: 0.9, 1e-06, 12.5.
std::string number(double value) {
  char text[32];
  std::snprintf(text, sizeof(text), "%g", value);
  return text;
}

bool isProbability(double p) { return std::isfinite(p) && p >= 0.0 && p <= 1.0; }

std::string outsideUnitRange(const char* field, double value) {
  return std::string(field) + ": " + number(value) + " is outside 0..1";
}

}  // namespace

Result<GilbertElliott, std::string> GilbertElliott::fromMeanLoss(double mean_loss, double mean_burst_packets) {
  if (!std::isfinite(mean_loss) || mean_loss < 0.0 || mean_loss >= 1.0) {
    return Err("mean loss " + number(mean_loss) + " must be in 0..1 (1 excluded)");
  }
  if (!std::isfinite(mean_burst_packets) || mean_burst_packets < 1.0) {
    return Err("mean burst length " + number(mean_burst_packets) + " must be at least 1 packet");
  }
  GilbertElliott model;
  model.p_bad_to_good = 1.0 / mean_burst_packets;
  model.p_good_to_bad = model.p_bad_to_good * mean_loss / (1.0 - mean_loss);
  if (model.p_good_to_bad > 1.0) {
    // Even leaving the good state after every packet cannot lose that much
    // in bursts that short: good runs are at least one packet long.
    return Err("mean loss " + number(mean_loss) + " is too high for bursts of " + number(mean_burst_packets) +
               " packets (at most " + number(mean_burst_packets / (1.0 + mean_burst_packets)) + ")");
  }
  return model;
}

double GilbertElliott::meanLoss() const {
  const double leave_rates = p_good_to_bad + p_bad_to_good;
  if (leave_rates == 0.0) return loss_in_good;  // stays in the (good) start state forever
  const double time_in_bad = p_good_to_bad / leave_rates;
  return time_in_bad * loss_in_bad + (1.0 - time_in_bad) * loss_in_good;
}

double GilbertElliott::meanBadRunPackets() const { return 1.0 / p_bad_to_good; }

std::optional<std::string> checkSettings(const ImpairmentSettings& settings) {
  if (settings.delay_us < 0) return "delay_us: must not be negative";
  if (settings.jitter_us < 0) return "jitter_us: must not be negative";
  if (!isProbability(settings.loss)) return outsideUnitRange("loss", settings.loss);
  if (settings.burst) {
    const GilbertElliott& b = *settings.burst;
    if (!isProbability(b.p_good_to_bad)) return outsideUnitRange("burst.p_good_to_bad", b.p_good_to_bad);
    if (!isProbability(b.p_bad_to_good)) return outsideUnitRange("burst.p_bad_to_good", b.p_bad_to_good);
    if (!isProbability(b.loss_in_bad)) return outsideUnitRange("burst.loss_in_bad", b.loss_in_bad);
    if (!isProbability(b.loss_in_good)) return outsideUnitRange("burst.loss_in_good", b.loss_in_good);
  }
  if (!isProbability(settings.reorder)) return outsideUnitRange("reorder", settings.reorder);
  if (settings.reorder_delay_us < 0) return "reorder_delay_us: must not be negative";
  if (settings.rate_bps > 0 && settings.queue_limit_bytes == 0) {
    return "queue_limit_bytes: must be at least 1 with a rate cap";
  }
  for (const Outage& outage : settings.outages) {
    if (outage.duration_us < 0) return "outages: duration_us must not be negative";
  }
  return std::nullopt;
}

}  // namespace overline::impairment
