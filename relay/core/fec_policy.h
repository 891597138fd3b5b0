#pragma once
// FecPolicy: how much parity one hop (stream -> downstream neighbour) gets,
// from the link's measured loss and RTT and the stream's latency budget, in
// the spirit of WebRTC's hybrid NACK/FEC: NACK repairs losses at the cost of
// a round trip per attempt and no bandwidth when nothing is lost; FEC costs
// bandwidth all the time but repairs without waiting. So:
//
//  * loss below enable_loss (1%): no FEC at all (m = 0). NACK alone handles
//    rare losses, and a clean link carries zero FEC overhead.
//  * k: max_k (8), or fewer when the stream is slow, so that filling a group
//    takes at most max_group_fill_us (~10 ms); a slow stream's groups
//    would otherwise be flushed half full by the encoder's timer.
//  * m = ceil(k x loss x factor) + 1, capped at k. k x loss is the expected
//    number of losses in a group; the +1 covers the spread around it.
//    factor is factor_with_nack (1) when the budget leaves room for at least
//    min_nack_rounds (3) NACK rounds, rounds = budget / (srtt +
//    nack_allowance_us): NACK then cleans up what FEC misses, and FEC only
//    has to take the bulk so NACK is not overwhelmed. With fewer rounds FEC
//    must do most of the work alone and factor_without_nack (2) applies.
//
// Example targets (k = 8): 5% loss -> m 2 (25% overhead); 10% -> 2 with
// NACK room, 3 without; 30% -> 4 with, 6 without.
//
// Hysteresis (update()): a stronger target (more parity per data packet)
// applies at once, because loss that just rose is hurting now. A weaker one
// applies only after targets have stayed weaker for hold_us, and then the
// strongest of them, so one quiet loss window does not switch FEC off and on
// again. FEC, once on, stays on until loss falls below disable_loss (0.5%).
//
// Pure and clock-injected; one FecPolicy per (stream, downstream) hop.

#include <optional>

#include "common/types.h"
#include "relay/core/fec_types.h"

namespace overline::relay {

struct FecPolicyConfig {
  double enable_loss = 0.01;
  double disable_loss = 0.005;
  std::uint8_t max_k = 8;  // 1..16
  DurationUs max_group_fill_us = 10 * kMillisecond;
  // Time one NACK round needs beyond the RTT: the receiver's reorder
  // allowance plus pacing.
  DurationUs nack_allowance_us = 20 * kMillisecond;
  double min_nack_rounds = 3.0;
  double factor_with_nack = 1.0;
  double factor_without_nack = 2.0;
  DurationUs hold_us = 2 * kSecond;
};

struct FecPolicyInput {
  double loss_ratio = 0.0;           // the link's recent loss, 0..1 (LinkMonitor's window)
  DurationUs srtt_us = 0;            // the link's smoothed RTT
  DurationUs latency_budget_us = 0;  // time this hop may spend on recovery; 0 = unknown (no NACK room assumed)
  double packet_rate_pps = 0.0;      // the stream's DATA rate; 0 = unknown (max_k)
};

// The protection the rules above ask for, without hysteresis. `currently_on`
// selects the on/off threshold (disable_loss while FEC is on).
FecProtection fecTarget(const FecPolicyInput& input, const FecPolicyConfig& config, bool currently_on);

class FecPolicy {
 public:
  explicit FecPolicy(FecPolicyConfig config = {}) : config_(config) {}

  // Feeds fresh measurements (say every probe interval or tick); returns the
  // protection to use from now on. `now` must not decrease.
  FecProtection update(const FecPolicyInput& input, TimeUs now);
  FecProtection current() const { return current_; }

 private:
  FecPolicyConfig config_;
  FecProtection current_;
  // Since when every target has been weaker than current_, and the
  // strongest of them.
  std::optional<TimeUs> weaker_since_;
  FecProtection strongest_weaker_;
};

}  // namespace overline::relay
