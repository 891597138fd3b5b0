#pragma once
// LinkMonitor: continuous probing of ONE link (local line i -> neighbour line
// j) and its quality estimate. Pure: time comes in as `now`, packets go out
// through RelayCore, which asks probeDue(), sends the PROBE and reports it
// with onProbeSent(); PROBE_ACKs come back through onAck().
//
// Estimates (microseconds):
//  * srtt: EWMA of RTT samples with gain 1/8 (RFC 6298's SRTT). The first
//    sample sets it.
//  * jitter: EWMA with gain 1/4 of |sample - srtt|, i.e. the mean deviation of
//    RTT samples (RFC 6298's RTTVAR), updated before srtt. It starts at 0,
//    not RFC 6298's R/2: it scores paths, it does not time anything out.
//  * loss: over the last `loss_window` probes, lost / resolved, where a probe
//    is resolved once answered or lost. A probe is lost when unanswered after
//    max(4 x srtt, 2 x interval, 50 ms). An ACK arriving after that ("late")
//    still gives an RTT sample and proves the link alive, but the probe stays
//    lost. The window is a ring of loss_window records, allocated once.
//
// States (LinkState):
//  * UNKNOWN: never measured. Every link starts here; it is usable (RelayCore
//    keeps sending on the default pair, local line 0 -> neighbour line 0,
//    while all links are UNKNOWN) so a relay never waits for probes before
//    forwarding. The first ACK answered in time makes it UP (or DEGRADED by
//    the rules below); down_after without any ACK makes it DOWN.
//  * DOWN: from any state, when no ACK at all has arrived since a probe sent
//    down_after ago (so a pause in our own probing never looks like silence).
//    Leaves DOWN only after up_after_acks consecutive probes, in sequence
//    order, answered in time (an ACK that skips a sequence restarts the
//    count), to UP or DEGRADED.
//  * DEGRADED: loss >= degraded_loss, or srtt > degraded_rtt when that rule is
//    on. The loss rule needs at least half the window resolved, so one early
//    loss cannot mark a new link. Back to UP when loss < recovered_loss and
//    (RTT rule off or srtt <= 90% of degraded_rtt): the gaps are hysteresis.
//    Losses during an outage stay in the window, so a link back from a long
//    outage comes back DEGRADED until they age out (a flapping link never
//    looks as good as a steady one).
//
// Cost: one 64-byte PROBE (48-byte header and its tag) per link per
// interval, answered by one 64-byte PROBE_ACK (92 bytes each with UDP/IPv4
// headers). At the default 20 ms that is 50 probes/s = 3,200 B/s (4,600 B/s
// on the wire) sent per link, plus the same again in ACKs coming back. Both
// ends probe, so each direction of a link carries 50 probes + 50 ACKs =
// 6,400 B/s (9,200 B/s on the wire). Two lines on each side make 4 links
// per neighbour.

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "common/types.h"
#include "relay/core/relay_config.h"

namespace overline::relay {

enum class LinkState : std::uint8_t { kUnknown, kDown, kDegraded, kUp };
std::string_view toString(LinkState state);

class LinkMonitor {
 public:
  // `phase_us` (in [0, interval)) staggers this link's probes against the
  // others': its first probe is due phase_us after the first probeDue() call.
  LinkMonitor(const ProbingConfig& config, DurationUs phase_us);

  // Replaces the probing settings (a config reload), keeping the window,
  // RTT figures and state. `config.loss_window` must equal the current one
  // (asserted). The next probe moves to one new interval after the last.
  void setConfig(const ProbingConfig& config);

  // Whether a probe is due at `now`. The first call starts the schedule.
  bool probeDue(TimeUs now);
  // Records a probe sent (or attempted) at `now`; returns its sequence. The
  // probe's timestamp_us must be `now`.
  std::uint32_t onProbeSent(TimeUs now);
  // A PROBE_ACK echoing `sequence` and `timestamp_us`. Returns false, changing
  // nothing, when it matches no probe in the window (stale, duplicate, forged).
  bool onAck(std::uint32_t sequence, std::uint64_t timestamp_us, TimeUs now);
  // Declares overdue probes lost and applies the DOWN rule.
  void onTick(TimeUs now);

  LinkState state() const { return state_; }
  bool hasRttSample() const { return has_rtt_; }
  double srttUs() const { return srtt_us_; }      // 0 before the first sample
  double jitterUs() const { return jitter_us_; }  // 0 before the second sample
  double lossRatio() const;                       // 0 before any probe is resolved
  std::uint64_t probesSent() const { return probes_sent_; }
  std::uint64_t acksReceived() const { return acks_received_; }
  // When the next probe is due; meaningful after the first probeDue().
  TimeUs nextProbeAt() const { return next_probe_us_; }

 private:
  enum class Outcome : std::uint8_t { kEmpty, kPending, kAcked, kLost, kLostThenAcked };
  struct ProbeRecord {  // 16 bytes
    TimeUs sent_us = 0;
    std::uint32_t sequence = 0;
    Outcome outcome = Outcome::kEmpty;
  };

  DurationUs lossTimeoutUs() const;
  void resolve(ProbeRecord& record, Outcome outcome);
  void addRttSample(DurationUs sample_us);
  bool lossKnown() const;
  bool meetsDegradedRule() const;
  bool meetsRecoveredRule() const;
  void updateState(TimeUs now);

  ProbingConfig config_;
  DurationUs phase_us_;
  bool started_ = false;
  TimeUs next_probe_us_ = 0;

  std::vector<ProbeRecord> window_;  // loss_window records, slot = sequence % size
  std::uint32_t next_sequence_ = 0;
  std::uint32_t oldest_unresolved_ = 0;  // timeout scan cursor, in sequence order
  std::uint32_t resolved_in_window_ = 0;
  std::uint32_t lost_in_window_ = 0;

  bool has_rtt_ = false;
  double srtt_us_ = 0;
  double jitter_us_ = 0;

  LinkState state_ = LinkState::kUnknown;
  // Send time of the first probe after the last ACK: the silence the DOWN
  // rule measures. Unset while no probe is waiting for an answer.
  bool awaiting_ack_ = false;
  TimeUs silent_since_us_ = 0;
  // Probes answered in time in unbroken sequence order, the last of them
  // being streak_last_sequence_. An ACK for any other sequence (one was
  // skipped: lost or still missing) starts a new streak.
  std::uint32_t ack_streak_ = 0;
  std::uint32_t streak_last_sequence_ = 0;

  std::uint64_t probes_sent_ = 0;
  std::uint64_t acks_received_ = 0;
};

}  // namespace overline::relay
