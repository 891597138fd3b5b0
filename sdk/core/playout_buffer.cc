#include "sdk/core/playout_buffer.h"

#include <algorithm>
#include <utility>

namespace overline::sdk {
namespace {

std::size_t slot(std::int64_t extended) {
  return static_cast<std::size_t>(static_cast<std::uint64_t>(extended) %
                                  static_cast<std::uint64_t>(PlayoutBuffer::kResyncDistance));
}

}  // namespace

PlayoutBuffer::PlayoutBuffer(const PlayoutConfig& config)
    : config_(config), offset_(config.offset_window_us), budget_us_(config.default_budget_us) {}

void PlayoutBuffer::onPacket(const wire::Header& header, std::span<const std::byte> payload,
                             std::uint64_t arrival_us, TimeUs now, Listener& listener) {
  budget_us_ = decodeLatencyBudget(header.latency_budget, config_.default_budget_us);
  const std::uint64_t timestamp_us = header.timestamp_us;
  if (!started_) {
    start(header.sequence, header, payload, arrival_us, now, listener);
    return;
  }
  const std::int64_t extended = extend(header.sequence);
  const std::int64_t distance = extended - next_;
  if (distance >= kResyncDistance || distance < -kResyncDistance ||
      (distance < 0 && timestamp_us > newest_timestamp_us_)) {
    flushHeld(listener);
    ++counters_.resyncs;
    start(extended, header, payload, arrival_us, now, listener);
    return;
  }
  offset_.onSample(now, now - static_cast<std::int64_t>(timestamp_us));
  newest_timestamp_us_ = std::max(newest_timestamp_us_, timestamp_us);
  advance(now, listener);  // what fell due before this packet came

  if (extended < next_) {
    if (extended >= next_ - kResyncDistance && wasReleased(extended)) {
      ++counters_.duplicates;
    } else {
      ++counters_.late;  // given up (or too old to tell)
    }
    return;
  }
  if (held_.contains(extended)) {
    ++counters_.duplicates;
    return;
  }
  if (now > deadlineOf(timestamp_us)) {
    // Not held: its sequence stays missing and is given up with the gap.
    ++counters_.late;
    return;
  }
  if (extended == next_) {
    release(header, payload, arrival_us, /*held=*/false, listener);
    advance(now, listener);
    return;
  }
  held_.emplace(extended, Held{header, {payload.begin(), payload.end()}, arrival_us});
  while (held_.size() > config_.max_held_packets) {
    ++counters_.overflows;
    while (held_.begin()->first != next_) giveUpNext();
    advance(now, listener);
  }
  advance(now, listener);  // the new upper neighbour may put a gap's deadline in the past
}

void PlayoutBuffer::onTimer(TimeUs now, Listener& listener) {
  if (started_) advance(now, listener);
}

std::optional<TimeUs> PlayoutBuffer::nextDeadline() const {
  if (held_.empty()) return std::nullopt;
  return missingDeadline();
}

void PlayoutBuffer::start(std::int64_t extended, const wire::Header& header, std::span<const std::byte> payload,
                          std::uint64_t arrival_us, TimeUs now, Listener& listener) {
  started_ = true;
  next_ = extended;
  released_.fill(0);
  offset_.reset();
  offset_.onSample(now, now - static_cast<std::int64_t>(header.timestamp_us));
  newest_timestamp_us_ = header.timestamp_us;
  release(header, payload, arrival_us, /*held=*/false, listener);
}

std::int64_t PlayoutBuffer::extend(std::uint32_t sequence) const {
  // The signed 32-bit distance picks the 64-bit value nearest next_.
  return next_ + static_cast<std::int32_t>(sequence - static_cast<std::uint32_t>(next_));
}

void PlayoutBuffer::advance(TimeUs now, Listener& listener) {
  while (!held_.empty()) {
    const auto first = held_.begin();
    if (first->first == next_) {
      Held packet = std::move(first->second);
      held_.erase(first);
      release(packet.header, packet.payload, packet.arrival_us, /*held=*/true, listener);
      continue;
    }
    if (missingDeadline() > now) return;
    giveUpNext();
  }
}

void PlayoutBuffer::release(const wire::Header& header, std::span<const std::byte> payload,
                            std::uint64_t arrival_us, bool held, Listener& listener) {
  ++counters_.delivered;
  if (held) ++counters_.reordered;
  markHistory(next_, /*released=*/true);
  anchor_sequence_ = next_;
  anchor_timestamp_us_ = header.timestamp_us;
  ++next_;
  listener.onRelease(PlayoutPacket{header, payload, arrival_us, held});
}

void PlayoutBuffer::giveUpNext() {
  ++counters_.lost;
  markHistory(next_, /*released=*/false);
  ++next_;
}

void PlayoutBuffer::flushHeld(Listener& listener) {
  while (!held_.empty()) {
    const auto first = held_.begin();
    if (first->first != next_) {
      giveUpNext();
      continue;
    }
    Held packet = std::move(first->second);
    held_.erase(first);
    release(packet.header, packet.payload, packet.arrival_us, /*held=*/true, listener);
  }
}

TimeUs PlayoutBuffer::deadlineOf(std::uint64_t timestamp_us) const {
  // offset() is set: every packet that reaches here was sampled first.
  return static_cast<TimeUs>(timestamp_us) + offset_.offset().value_or(0) + budget_us_;
}

TimeUs PlayoutBuffer::missingDeadline() const {
  // next_ lies strictly between the last released packet and the first held
  // one; interpolate its timestamp linearly between theirs. A publisher
  // clock that stepped back between them gives the earlier timestamp.
  const auto& [held_sequence, held] = *held_.begin();
  std::uint64_t estimate_us = anchor_timestamp_us_;
  if (held.header.timestamp_us > anchor_timestamp_us_) {
    const double fraction = static_cast<double>(next_ - anchor_sequence_) /
                            static_cast<double>(held_sequence - anchor_sequence_);
    estimate_us += static_cast<std::uint64_t>(
        fraction * static_cast<double>(held.header.timestamp_us - anchor_timestamp_us_));
  }
  return deadlineOf(estimate_us);
}

bool PlayoutBuffer::wasReleased(std::int64_t extended) const {
  const std::size_t s = slot(extended);
  return (released_[s / 64] >> (s % 64) & 1) != 0;
}

void PlayoutBuffer::markHistory(std::int64_t extended, bool released) {
  const std::size_t s = slot(extended);
  const std::uint64_t mask = std::uint64_t{1} << (s % 64);
  if (released) {
    released_[s / 64] |= mask;
  } else {
    released_[s / 64] &= ~mask;
  }
}

}  // namespace overline::sdk
