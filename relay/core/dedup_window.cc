#include "relay/core/dedup_window.h"

namespace overline::relay {

bool DedupWindow::accept(std::uint32_t sequence, std::uint64_t timestamp_us) {
  if (!started_) {
    restart(sequence, timestamp_us);
    return true;
  }
  const auto ahead = static_cast<std::int32_t>(sequence - highest_);
  if (ahead > 0) {
    if (static_cast<std::uint32_t>(ahead) >= kSize) {
      seen_.fill(0);
    } else {
      // Slots of the sequences skipped over now stand for newer ones.
      for (std::uint32_t s = highest_ + 1; s != sequence; ++s) clear(s);
    }
    highest_ = sequence;
    highest_timestamp_us_ = timestamp_us;
    set(sequence);
    return true;
  }
  if (timestamp_us > highest_timestamp_us_) {
    restart(sequence, timestamp_us);
    return true;
  }
  if (highest_ - sequence >= kSize || test(sequence)) return false;
  set(sequence);
  return true;
}

void DedupWindow::restart(std::uint32_t sequence, std::uint64_t timestamp_us) {
  started_ = true;
  seen_.fill(0);
  highest_ = sequence;
  highest_timestamp_us_ = timestamp_us;
  set(sequence);
}

bool DedupWindow::test(std::uint32_t sequence) const {
  const std::uint32_t slot = sequence % kSize;
  return (seen_[slot / 64] >> (slot % 64)) & 1u;
}

void DedupWindow::set(std::uint32_t sequence) {
  const std::uint32_t slot = sequence % kSize;
  seen_[slot / 64] |= std::uint64_t{1} << (slot % 64);
}

void DedupWindow::clear(std::uint32_t sequence) {
  const std::uint32_t slot = sequence % kSize;
  seen_[slot / 64] &= ~(std::uint64_t{1} << (slot % 64));
}

}  // namespace overline::relay
