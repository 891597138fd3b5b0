#pragma once
// What one direction of a link does to packets: delay, jitter, random and
// bursty loss, reordering, a rate cap with a bounded queue, and outages.
//
// Plain data, shared by the overline-impair proxy (deploy/impair) and the
// discrete-event simulator; LinkImpairment applies it to packets.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/types.h"

namespace overline::impairment {

// Two-state Markov loss model, stepped once per packet. In the good state a
// packet is lost with probability loss_in_good, in the bad state with
// loss_in_bad; after each packet the state flips with p_good_to_bad /
// p_bad_to_good. The defaults never enter the bad state.
struct GilbertElliott {
  double p_good_to_bad = 0.0;
  double p_bad_to_good = 1.0;
  double loss_in_bad = 1.0;
  double loss_in_good = 0.0;

  // The simple Gilbert model (every packet lost in the bad state, none in the
  // good state) whose long-run loss rate is `mean_loss` (0..1) and whose loss
  // bursts are `mean_burst_packets` (>= 1) long on average:
  //   p_bad_to_good = 1 / mean_burst_packets,
  //   p_good_to_bad = p_bad_to_good * mean_loss / (1 - mean_loss).
  // Fails when no such chain exists, e.g. 90% loss in bursts of 1 packet
  // (p_good_to_bad would exceed 1). mean_loss 0 gives a chain that never
  // enters the bad state.
  static Result<GilbertElliott, std::string> fromMeanLoss(double mean_loss, double mean_burst_packets);

  // Long-run fraction of packets lost.
  double meanLoss() const;
  // Mean number of consecutive packets spent in the bad state.
  double meanBadRunPackets() const;
};

// The link is down (every admitted packet dropped) during
// [start_us, start_us + duration_us).
struct Outage {
  TimeUs start_us = 0;
  DurationUs duration_us = 0;

  TimeUs endUs() const { return start_us + duration_us; }
  bool covers(TimeUs t) const { return t >= start_us && t < endUs(); }
};

struct ImpairmentSettings {
  // One-way delay added to every delivered packet.
  DurationUs delay_us = 0;
  // Each packet's delay is delay_us plus a uniform sample in
  // [-jitter_us, +jitter_us], floored at 0 (so jitter larger than the delay
  // skews the mean upward).
  DurationUs jitter_us = 0;
  // true: a packet never overtakes an earlier one, so jitter only bunches
  // packets (deliver_at = max(previous in-order deliver_at, sampled time)),
  // as on a real single path. false: jitter alone may reorder packets.
  bool keep_order = true;
  // Probability (0..1) that a packet is lost, independently of the others.
  double loss = 0.0;
  // Bursty loss on top of `loss`; nullopt = none.
  std::optional<GilbertElliott> burst;
  // Probability (0..1) that a packet is held back by an extra
  // reorder_delay_us, so it arrives after packets admitted up to that much
  // later. A held-back packet does not delay the packets behind it.
  double reorder = 0.0;
  DurationUs reorder_delay_us = 10 * kMillisecond;
  // Bottleneck rate in bits per second; 0 = unlimited. Packets are
  // serialised one after another at this rate before the delay applies; a
  // packet that would make the bytes waiting for serialisation exceed
  // queue_limit_bytes is dropped (a drop-tail queue; a packet larger than the
  // limit is always dropped).
  std::uint64_t rate_bps = 0;
  std::size_t queue_limit_bytes = 64 * 1024;
  // Scheduled outages, in any order; they may overlap.
  std::vector<Outage> outages;
};

// The first problem with `settings`, naming the field, e.g.
// "loss: 1.5 is outside 0..1"; nullopt when valid.
std::optional<std::string> checkSettings(const ImpairmentSettings& settings);

}  // namespace overline::impairment
