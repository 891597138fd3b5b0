#include "relay/core/stream_directory.h"

#include <algorithm>
#include <limits>

namespace overline::relay {

StreamDirectory::StreamDirectory(DurationUs expiry_us, std::size_t max_streams)
    : expiry_us_(expiry_us), max_streams_(max_streams), next_expiry_us_(std::numeric_limits<TimeUs>::max()) {}

StreamDirectory::Verdict StreamDirectory::onAnnounce(const wire::AnnounceView& announce, std::uint32_t sequence,
                                                     std::uint64_t origin_clock_us, TimeUs now,
                                                     std::vector<StreamId>& changed) {
  const NodeId origin = announce.origin();
  auto seen = seen_.find(origin);
  if (seen == seen_.end()) {
    if (seen_.size() >= max_streams_) return Verdict::kFull;
    seen = seen_.emplace(origin, DedupWindow{}).first;
  }
  if (!seen->second.accept(sequence, origin_clock_us)) return Verdict::kSeen;

  const TimeUs expires_at_us = now + expiry_us_;
  bool recorded = false;
  for (std::size_t i = 0; i < announce.streamCount(); ++i) {
    const StreamId stream = announce.stream(i);
    auto it = entries_.find(stream);
    if (it == entries_.end()) {
      if (entries_.size() >= max_streams_) continue;
      it = entries_.emplace(stream, Entry{}).first;
    }
    Entry& entry = it->second;
    const auto known = std::find(entry.origins.begin(), entry.origins.begin() + entry.count, origin);
    if (known != entry.origins.begin() + entry.count) {
      entry.expires_at_us[known - entry.origins.begin()] = expires_at_us;
      recorded = true;
      continue;
    }
    if (entry.count == kMaxOriginsPerStream) continue;
    entry.origins[entry.count] = origin;
    entry.expires_at_us[entry.count] = expires_at_us;
    ++entry.count;
    changed.push_back(stream);
    recorded = true;
  }
  if (!recorded) return Verdict::kFull;
  next_expiry_us_ = std::min(next_expiry_us_, expires_at_us);
  // Flooded on even when only partly recorded: the neighbours may have room.
  return Verdict::kNew;
}

std::span<const NodeId> StreamDirectory::origins(StreamId stream) const {
  const auto it = entries_.find(stream);
  if (it == entries_.end()) return {};
  return std::span(it->second.origins.data(), it->second.count);
}

TimeUs StreamDirectory::expire(TimeUs now, std::vector<StreamId>& changed) {
  if (now < next_expiry_us_) return next_expiry_us_;
  TimeUs next = std::numeric_limits<TimeUs>::max();
  for (auto it = entries_.begin(); it != entries_.end();) {
    Entry& entry = it->second;
    std::size_t kept = 0;
    for (std::size_t i = 0; i < entry.count; ++i) {
      if (entry.expires_at_us[i] <= now) continue;
      // Keeps the oldest-first order.
      entry.origins[kept] = entry.origins[i];
      entry.expires_at_us[kept] = entry.expires_at_us[i];
      next = std::min(next, entry.expires_at_us[kept]);
      ++kept;
    }
    if (kept != entry.count) changed.push_back(it->first);
    entry.count = kept;
    it = kept == 0 ? entries_.erase(it) : std::next(it);
  }
  next_expiry_us_ = next;
  return next;
}

}  // namespace overline::relay
