#include "relay/core/link_monitor.h"

#include <algorithm>
#include <cmath>

#include "common/check/invariant.h"

namespace overline::relay {
namespace {

constexpr DurationUs kMinLossTimeoutUs = 50 * kMillisecond;

// a is after b in sequence space (RFC 1982 serial arithmetic).
bool sequenceAfter(std::uint32_t a, std::uint32_t b) { return static_cast<std::int32_t>(a - b) > 0; }

}  // namespace

std::string_view toString(LinkState state) {
  switch (state) {
    case LinkState::kUnknown: return "unknown";
    case LinkState::kDown: return "down";
    case LinkState::kDegraded: return "degraded";
    case LinkState::kUp: return "up";
  }
  return "invalid";
}

LinkMonitor::LinkMonitor(const ProbingConfig& config, DurationUs phase_us)
    : config_(config), phase_us_(phase_us), window_(std::max<std::uint32_t>(config.loss_window, 1)) {
  if (!OVERLINE_INVARIANT(config_.interval_us > 0)) config_.interval_us = ProbingConfig{}.interval_us;
  if (!OVERLINE_INVARIANT(phase_us_ >= 0 && phase_us_ < config_.interval_us)) phase_us_ = 0;
}

void LinkMonitor::setConfig(const ProbingConfig& config) {
  // RelayCore::setProbing keeps the window; release: the change is ignored.
  if (!OVERLINE_INVARIANT(config.loss_window == config_.loss_window && config.interval_us > 0)) return;
  if (started_) next_probe_us_ += config.interval_us - config_.interval_us;
  phase_us_ %= config.interval_us;
  config_ = config;
}

bool LinkMonitor::probeDue(TimeUs now) {
  if (!started_) {
    started_ = true;
    next_probe_us_ = now + phase_us_;
  }
  return now >= next_probe_us_;
}

std::uint32_t LinkMonitor::onProbeSent(TimeUs now) {
  const std::uint32_t sequence = next_sequence_++;
  ProbeRecord& record = window_[sequence % window_.size()];
  // The record leaving the window takes its outcome along. One still pending
  // is forgotten uncounted: it was never resolved within the window.
  if (record.outcome == Outcome::kAcked || record.outcome == Outcome::kLost ||
      record.outcome == Outcome::kLostThenAcked) {
    --resolved_in_window_;
    if (record.outcome != Outcome::kAcked) --lost_in_window_;
  }
  record = ProbeRecord{now, sequence, Outcome::kPending};
  if (sequenceAfter(sequence - static_cast<std::uint32_t>(window_.size()) + 1, oldest_unresolved_)) {
    oldest_unresolved_ = sequence - static_cast<std::uint32_t>(window_.size()) + 1;
  }
  if (!awaiting_ack_) {
    awaiting_ack_ = true;
    silent_since_us_ = now;
  }
  ++probes_sent_;
  // Keep the grid (no drift); after a stall, restart it rather than burst.
  next_probe_us_ += config_.interval_us;
  if (next_probe_us_ <= now) next_probe_us_ = now + config_.interval_us;
  return sequence;
}

bool LinkMonitor::onAck(std::uint32_t sequence, std::uint64_t timestamp_us, TimeUs now) {
  ProbeRecord& record = window_[sequence % window_.size()];
  if (record.sequence != sequence || static_cast<std::uint64_t>(record.sent_us) != timestamp_us) return false;
  if (record.outcome != Outcome::kPending && record.outcome != Outcome::kLost) return false;
  if (now < record.sent_us) return false;

  ++acks_received_;
  awaiting_ack_ = false;
  addRttSample(now - record.sent_us);
  if (record.outcome == Outcome::kPending) {
    resolve(record, Outcome::kAcked);
    ack_streak_ = ack_streak_ > 0 && sequence == streak_last_sequence_ + 1 ? ack_streak_ + 1 : 1;
    streak_last_sequence_ = sequence;
  } else {
    record.outcome = Outcome::kLostThenAcked;  // stays lost; only its RTT counts
  }
  updateState(now);
  return true;
}

void LinkMonitor::onTick(TimeUs now) {
  const DurationUs timeout_us = lossTimeoutUs();
  // Probes are sent in sequence order with one shared timeout, so they fall
  // due in that order: stop at the first one still within it.
  while (oldest_unresolved_ != next_sequence_) {
    ProbeRecord& record = window_[oldest_unresolved_ % window_.size()];
    if (record.sequence == oldest_unresolved_ && record.outcome == Outcome::kPending) {
      if (now - record.sent_us < timeout_us) break;
      resolve(record, Outcome::kLost);
    }
    ++oldest_unresolved_;
  }
  updateState(now);
}

double LinkMonitor::lossRatio() const {
  if (resolved_in_window_ == 0) return 0;
  return static_cast<double>(lost_in_window_) / resolved_in_window_;
}

DurationUs LinkMonitor::lossTimeoutUs() const {
  const auto four_srtt_us = static_cast<DurationUs>(4 * srtt_us_);
  return std::max({four_srtt_us, 2 * config_.interval_us, kMinLossTimeoutUs});
}

void LinkMonitor::resolve(ProbeRecord& record, Outcome outcome) {
  record.outcome = outcome;
  ++resolved_in_window_;
  if (outcome == Outcome::kLost) ++lost_in_window_;
}

void LinkMonitor::addRttSample(DurationUs sample_us) {
  const auto sample = static_cast<double>(sample_us);
  if (!has_rtt_) {
    has_rtt_ = true;
    srtt_us_ = sample;
    jitter_us_ = 0;
    return;
  }
  jitter_us_ += (std::abs(sample - srtt_us_) - jitter_us_) / 4;
  srtt_us_ += (sample - srtt_us_) / 8;
}

bool LinkMonitor::lossKnown() const { return resolved_in_window_ >= (window_.size() + 1) / 2; }

bool LinkMonitor::meetsDegradedRule() const {
  if (lossKnown() && lossRatio() >= config_.degraded_loss) return true;
  return config_.degraded_rtt_us > 0 && has_rtt_ && srtt_us_ > static_cast<double>(config_.degraded_rtt_us);
}

bool LinkMonitor::meetsRecoveredRule() const {
  if (lossKnown() && lossRatio() >= config_.recovered_loss) return false;
  return config_.degraded_rtt_us == 0 || srtt_us_ <= 0.9 * static_cast<double>(config_.degraded_rtt_us);
}

void LinkMonitor::updateState(TimeUs now) {
  if (awaiting_ack_ && now - silent_since_us_ >= config_.down_after_us) {
    state_ = LinkState::kDown;
    ack_streak_ = 0;
    return;
  }
  switch (state_) {
    case LinkState::kUnknown:
      if (ack_streak_ > 0) state_ = meetsDegradedRule() ? LinkState::kDegraded : LinkState::kUp;
      return;
    case LinkState::kDown:
      if (ack_streak_ >= config_.up_after_acks) {
        state_ = meetsDegradedRule() ? LinkState::kDegraded : LinkState::kUp;
      }
      return;
    case LinkState::kUp:
      if (meetsDegradedRule()) state_ = LinkState::kDegraded;
      return;
    case LinkState::kDegraded:
      if (meetsRecoveredRule()) state_ = LinkState::kUp;
      return;
  }
}

}  // namespace overline::relay
