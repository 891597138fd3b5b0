#include "sdk/core/send_pacer.h"

#include <algorithm>

#include "common/check/invariant.h"

namespace overline::sdk {

SendPacer::SendPacer(const PacerConfig& config, TimeUs start)
    : config_(config),
      start_(start),
      credit_per_packet_(std::uint64_t{8} * config.payload_bytes * config.fps),
      // Starting one short of a whole packet rounds every cumulative count up
      // (ceil((k + 1) * bitrate / divisor) packets after frame k), so frame 0
      // is never empty and the long-run rate stays exact.
      credit_(credit_per_packet_ - 1) {
  if (!OVERLINE_INVARIANT(config.bitrate_bps > 0 && config.payload_bytes > 0 && config.fps > 0)) {
    // Release: at least 1 (bit/s, byte, frame/s) instead of a division by zero or an endless enterFrame().
    config_.bitrate_bps = std::max<std::uint64_t>(config_.bitrate_bps, 1);
    config_.payload_bytes = std::max<std::uint32_t>(config_.payload_bytes, 1);
    config_.fps = std::max<std::uint32_t>(config_.fps, 1);
    credit_per_packet_ = std::uint64_t{8} * config_.payload_bytes * config_.fps;
    credit_ = credit_per_packet_ - 1;
  }
  enterFrame(0);
}

double SendPacer::packetsPerFrame() const {
  return static_cast<double>(config_.bitrate_bps) / static_cast<double>(credit_per_packet_);
}

TimeUs SendPacer::frameStart(std::uint64_t frame) const {
  return start_ + static_cast<TimeUs>(frame * static_cast<std::uint64_t>(kSecond) / config_.fps);
}

void SendPacer::enterFrame(std::uint64_t frame) {
  for (frame_ = frame;; ++frame_) {
    credit_ += config_.bitrate_bps;
    const std::uint64_t packets = credit_ / credit_per_packet_;
    credit_ -= packets * credit_per_packet_;
    if (packets > 0) {
      frame_packets_ = packets;
      packet_ = 0;
      return;
    }
  }
}

TimeUs SendPacer::nextSendAt() const {
  const TimeUs begin = frameStart(frame_);
  const DurationUs interval = frameStart(frame_ + 1) - begin;
  return begin + interval * static_cast<DurationUs>(packet_) / static_cast<DurationUs>(frame_packets_);
}

void SendPacer::onSent(TimeUs now) {
  if (++packet_ == frame_packets_) enterFrame(frame_ + 1);
  while (now >= frameStart(frame_ + 1)) {
    skipped_ += frame_packets_ - packet_;
    enterFrame(frame_ + 1);
  }
}

}  // namespace overline::sdk
