#include "common/crypto/replay_window.h"

#include <algorithm>

namespace overline::crypto {
namespace {

constexpr std::uint64_t kWords = ReplayWindow::kBits / 64;

std::uint64_t wordOf(std::uint64_t n) { return (n / 64) % kWords; }
std::uint64_t bitOf(std::uint64_t n) { return std::uint64_t{1} << (n % 64); }

}  // namespace

bool ReplayWindow::fresh(std::uint64_t packet_number) const {
  if (packet_number == 0) return false;  // never sent: numbers start at 1
  if (packet_number > highest_) return true;
  if (highest_ - packet_number >= kBits - 64) return false;  // behind the window (minus the word being reused)
  return (seen_[wordOf(packet_number)] & bitOf(packet_number)) == 0;
}

void ReplayWindow::accept(std::uint64_t packet_number) {
  if (packet_number > highest_) {
    // Clear the words between the old highest's word and the new one's.
    const std::uint64_t old_word = highest_ / 64;
    const std::uint64_t new_word = packet_number / 64;
    const std::uint64_t clear = std::min(new_word - old_word, kWords);
    for (std::uint64_t w = 1; w <= clear; ++w) seen_[(old_word + w) % kWords] = 0;
    highest_ = packet_number;
  }
  seen_[wordOf(packet_number)] |= bitOf(packet_number);
}

}  // namespace overline::crypto
