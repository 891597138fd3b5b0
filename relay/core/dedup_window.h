#pragma once
// DedupWindow: which DATA sequences of one stream this relay has already
// forwarded, so a second copy (redundant mode, or two upstreams during a
// failback) is dropped instead of being delivered twice. Fixed size, no
// allocation: a 1,024-bit bitmap of the sequences up to 1,023 behind the
// highest one seen, kept per stream.
//
// accept(sequence, timestamp_us) is true for a sequence not seen before and
// records it. Sequences compare in 32-bit serial arithmetic (RFC 1982), so
// the window slides across the wrap from 0xFFFFFFFF to 0 like anywhere else.
//  * ahead of the highest: accepted; the window slides forward.
//  * within the window: accepted once, then a duplicate.
//  * 1,024 or more behind the highest: rejected as duplicate-or-too-old. A
//    copy that late cannot be told from a duplicate, and media that late is
//    useless anyway.
//  * not ahead, but with a timestamp_us later than the highest sequence's:
//    a restarted publisher (the SDK starts every run at sequence 0, and a
//    stream id survives the restart). The window restarts at that sequence.
//    A true duplicate carries its original's timestamp, never a later one.

#include <array>
#include <cstdint>

namespace overline::relay {

class DedupWindow {
 public:
  static constexpr std::uint32_t kSize = 1024;  // divides 2^32, so slots survive the wrap

  bool accept(std::uint32_t sequence, std::uint64_t timestamp_us);
  // How far `sequence` is ahead of the highest accepted one (serial
  // arithmetic; negative when behind); 0 before the first.
  std::int64_t distanceAhead(std::uint32_t sequence) const {
    return started_ ? static_cast<std::int32_t>(sequence - highest_) : 0;
  }

 private:
  void restart(std::uint32_t sequence, std::uint64_t timestamp_us);
  bool test(std::uint32_t sequence) const;
  void set(std::uint32_t sequence);
  void clear(std::uint32_t sequence);

  std::array<std::uint64_t, kSize / 64> seen_{};
  std::uint32_t highest_ = 0;
  std::uint64_t highest_timestamp_us_ = 0;
  bool started_ = false;
};

}  // namespace overline::relay
