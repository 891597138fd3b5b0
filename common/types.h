#pragma once
// Basic identifiers and time units shared by every component.
//
// Time inside core code is always passed in as TimeUs (microseconds on a
// monotonic clock chosen by the caller); core code never reads a clock itself.

#include <cstdint>

namespace overline {

// Microseconds since an arbitrary epoch of the caller's monotonic clock.
using TimeUs = std::int64_t;
// A span of time in microseconds.
using DurationUs = std::int64_t;

constexpr DurationUs kMillisecond = 1000;
constexpr DurationUs kSecond = 1000 * kMillisecond;

// A relay node (PoP) id. 0 is reserved for "not a relay" (SDK clients).
using NodeId = std::uint32_t;
constexpr NodeId kNoNode = 0;

// A stream id names one published media flow for its whole life. Its upper 32
// bits are the id of its home: the edge relay it was first published at (the
// origin, until the publisher moves or publishes through a second edge; then
// relays learn its current origins from announcements,
// relay/core/stream_directory.h, and use the home only while they know of
// none). The lower 32 bits are chosen by the publisher.
using StreamId = std::uint64_t;

constexpr StreamId makeStreamId(NodeId origin, std::uint32_t local_id) {
  return (static_cast<StreamId>(origin) << 32) | local_id;
}
constexpr NodeId streamOrigin(StreamId id) { return static_cast<NodeId>(id >> 32); }
constexpr std::uint32_t streamLocalId(StreamId id) {
  return static_cast<std::uint32_t>(id & 0xffffffffu);
}

// Index of one of this node's lines (uplinks), 0-based, in config order.
using LineIndex = std::uint8_t;

}  // namespace overline
