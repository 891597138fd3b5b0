#pragma once
// SendPacer: when to send each packet of a constant-bitrate test stream.
//
// The stream is cut into frames at `fps`; each frame carries the packets that
// keep the long-run payload rate at exactly `bitrate_bps` (the per-frame count
// alternates, e.g. 9, 8, 8, 9, ... for 2 Mbit/s of 1000-byte payloads at
// 30 fps; the first frame is never empty). The wire header and UDP/IP
// overhead are not counted in the bitrate.
//
// Packets of a frame are spread evenly over the frame interval rather than
// sent as one burst, like a WebRTC pacer: a burst of a whole frame can
// overflow the sender's or a relay's socket buffer, and the measured loss
// should describe the path, not the sender.
//
// Pure: time is passed in (any monotonic microsecond clock). Usage:
//   wait until nextSendAt(); send one packet; onSent(now).
// A sender that falls behind sends late packets as fast as it can, but never
// catches up on a frame whose interval has fully passed: those packets are
// skipped and counted in skippedPackets(), so a stall does not turn into a
// burst. Not thread-safe.

#include <cstdint>

#include "common/types.h"

namespace overline::sdk {

struct PacerConfig {
  std::uint64_t bitrate_bps = 2'000'000;  // payload bits per second, > 0
  std::uint32_t payload_bytes = 1000;     // > 0
  std::uint32_t fps = 30;                 // > 0
};

class SendPacer {
 public:
  // Preconditions (asserted): every PacerConfig field > 0.
  SendPacer(const PacerConfig& config, TimeUs start);

  // Average packets per frame (bitrate / 8 / payload_bytes / fps).
  double packetsPerFrame() const;

  TimeUs nextSendAt() const;
  // The packet due at nextSendAt() has been sent at `now`.
  void onSent(TimeUs now);

  std::uint64_t frameIndex() const { return frame_; }
  std::uint64_t packetsInCurrentFrame() const { return frame_packets_; }
  std::uint64_t skippedPackets() const { return skipped_; }

 private:
  TimeUs frameStart(std::uint64_t frame) const;
  // Moves to the first frame >= `frame` that carries at least one packet.
  void enterFrame(std::uint64_t frame);

  PacerConfig config_;
  TimeUs start_;
  // Every frame earns bitrate_bps of credit; a packet costs
  // 8 * payload_bytes * fps of it (all scaled by fps to stay integral).
  std::uint64_t credit_per_packet_;
  std::uint64_t credit_;  // unspent credit, < credit_per_packet_ between frames
  std::uint64_t frame_ = 0;
  std::uint64_t packet_ = 0;         // index of the next packet within the frame
  std::uint64_t frame_packets_ = 0;  // packets in frame_, >= 1
  std::uint64_t skipped_ = 0;
};

}  // namespace overline::sdk
