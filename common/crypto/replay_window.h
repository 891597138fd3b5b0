#pragma once
// ReplayWindow: which packet numbers of one sender under one key have been
// accepted (RFC 6479's sliding bitmap, as IPsec and WireGuard keep). A
// packet number is fresh when it is ahead of the highest accepted, or less
// than kBits - 64 behind it (the bitmap's word that the next slide reuses
// is not trusted) and not seen yet. Call fresh() before the (more
// expensive) tag check and accept() only after it: a forged packet never
// moves the window.
//
// kBits = 8,192 tolerates about that much reordering between one sender's
// packets to this receiver, e.g. 80 ms at 100,000 packets/s between a neighbour's
// two lines of different delay; older packets are refused as replays.

#include <array>
#include <cstdint>

namespace overline::crypto {

class ReplayWindow {
 public:
  static constexpr std::uint64_t kBits = 8192;

  bool fresh(std::uint64_t packet_number) const;
  // Records `packet_number` (which fresh() accepted); slides the window.
  void accept(std::uint64_t packet_number);
  std::uint64_t highest() const { return highest_; }

 private:
  std::array<std::uint64_t, kBits / 64> seen_{};
  std::uint64_t highest_ = 0;  // 0: nothing accepted yet (packet numbers start at 1)
};

}  // namespace overline::crypto
