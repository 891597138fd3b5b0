#include "relay/core/fec_policy.h"

#include <algorithm>
#include <cmath>

#include "common/wire/fec_payload.h"

namespace overline::relay {
namespace {

bool stronger(FecProtection a, FecProtection b) { return a.overhead() > b.overhead(); }

}  // namespace

FecProtection fecTarget(const FecPolicyInput& input, const FecPolicyConfig& config, bool currently_on) {
  const double threshold = currently_on ? config.disable_loss : config.enable_loss;
  if (!(input.loss_ratio >= threshold)) return {};  // also catches NaN

  const int max_k = std::clamp<int>(config.max_k, 1, static_cast<int>(wire::kMaxFecDataPackets));
  int k = max_k;
  if (input.packet_rate_pps > 0.0) {
    const double per_fill = input.packet_rate_pps * static_cast<double>(config.max_group_fill_us) / kSecond;
    k = std::clamp(static_cast<int>(per_fill), 1, max_k);
  }

  const double rounds = input.latency_budget_us <= 0
                            ? 0.0
                            : static_cast<double>(input.latency_budget_us) /
                                  static_cast<double>(std::max<DurationUs>(1, input.srtt_us + config.nack_allowance_us));
  const double factor = rounds >= config.min_nack_rounds ? config.factor_with_nack : config.factor_without_nack;
  const double loss = std::min(input.loss_ratio, 1.0);
  // The epsilon keeps an exact product (8 x 0.25 x 1 = 2) from rounding up
  // to the next integer through floating-point error.
  const int m = static_cast<int>(std::ceil(k * loss * factor - 1e-9)) + 1;
  return {static_cast<std::uint8_t>(k), static_cast<std::uint8_t>(std::clamp(m, 1, k))};
}

FecProtection FecPolicy::update(const FecPolicyInput& input, TimeUs now) {
  const FecProtection target = fecTarget(input, config_, current_.enabled());
  if (target == current_ || stronger(target, current_)) {
    current_ = target;
    weaker_since_.reset();
    return current_;
  }
  if (!weaker_since_) {
    weaker_since_ = now;
    strongest_weaker_ = target;
  } else if (stronger(target, strongest_weaker_)) {
    strongest_weaker_ = target;
  }
  if (now - *weaker_since_ >= config_.hold_us) {
    current_ = strongest_weaker_;
    weaker_since_.reset();
    // A target weaker still starts the next hold now.
    if (stronger(current_, target)) {
      weaker_since_ = now;
      strongest_weaker_ = target;
    }
  }
  return current_;
}

}  // namespace overline::relay
