#include "controller/core/key_schedule.h"

#include <algorithm>

namespace overline::controller {

KeySchedule::KeySchedule(std::vector<KeyEpoch> epochs) {
  std::stable_sort(epochs.begin(), epochs.end(), [](const KeyEpoch& a, const KeyEpoch& b) { return a.epoch < b.epoch; });
  for (KeyEpoch& epoch : epochs) {
    if (epoch.epoch == 0 || (!epochs_.empty() && epochs_.back().epoch == epoch.epoch)) continue;
    epochs_.push_back(std::move(epoch));
  }
}

const KeyEpoch& KeySchedule::rotate(std::int64_t now_unix_s, const KeySecret& secret,
                                    std::int64_t activation_delay_s) {
  KeyEpoch next;
  next.epoch = epochs_.empty() ? 1 : epochs_.back().epoch + 1;
  next.secret = secret;
  next.created_unix_s = now_unix_s;
  // Nobody holds an older key to send with: the first epoch is live at once.
  next.activate_at_unix_s = epochs_.empty() ? now_unix_s : now_unix_s + activation_delay_s;
  epochs_.push_back(next);
  return epochs_.back();
}

const KeyEpoch* KeySchedule::newestActive(std::int64_t now_unix_s) const {
  const KeyEpoch* active = nullptr;
  for (const KeyEpoch& epoch : epochs_) {
    if (epoch.activate_at_unix_s <= now_unix_s) active = &epoch;
  }
  return active;
}

bool KeySchedule::rotationDue(std::int64_t now_unix_s, const KeyPolicy& policy) const {
  if (epochs_.empty()) return true;
  if (policy.rotate_interval_s <= 0) return false;
  return now_unix_s >= epochs_.back().activate_at_unix_s + policy.rotate_interval_s;
}

bool KeySchedule::retire(std::int64_t now_unix_s, std::int64_t retire_after_s) {
  const KeyEpoch* active = newestActive(now_unix_s);
  if (active == nullptr || now_unix_s < active->activate_at_unix_s + retire_after_s) return false;
  const std::uint32_t keep_from = active->epoch;
  const auto before = epochs_.size();
  std::erase_if(epochs_, [&](const KeyEpoch& epoch) { return epoch.epoch < keep_from; });
  return epochs_.size() != before;
}

std::optional<std::uint32_t> KeySchedule::sendingEpoch(std::int64_t now_unix_s) const {
  if (epochs_.empty()) return std::nullopt;
  const KeyEpoch* active = newestActive(now_unix_s);
  return active != nullptr ? active->epoch : epochs_.front().epoch;
}

std::optional<std::int64_t> KeySchedule::nextChangeAt(const KeyPolicy& policy) const {
  if (epochs_.empty()) return std::nullopt;
  std::optional<std::int64_t> next;
  const auto consider = [&](std::int64_t at) { next = next ? std::min(*next, at) : at; };
  if (policy.rotate_interval_s > 0) consider(epochs_.back().activate_at_unix_s + policy.rotate_interval_s);
  // Retirement: each epoch after the first, once active for retire_after_s,
  // lets the ones before it go.
  if (epochs_.size() > 1) {
    for (std::size_t i = 1; i < epochs_.size(); ++i) consider(epochs_[i].activate_at_unix_s + policy.retire_after_s);
  }
  return next;
}

}  // namespace overline::controller
