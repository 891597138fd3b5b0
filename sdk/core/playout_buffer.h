#pragma once
// PlayoutBuffer: puts one subscribed stream's DATA back into sequence order
// within the stream's latency budget, for the SDK's receive callback.
//
// Relays recover lost packets hop by hop (NACK, FEC) and forward what they
// recover late and out of order; the subscriber must still see the stream in
// order and must not wait longer than the budget for a packet that will not
// come. Contract:
//  * The next expected sequence is released at once (no added delay when
//    nothing is missing).
//  * A packet after a gap is held until the gap is filled or the deadline of
//    the missing packet passes; then the missing ones are given up (`lost`)
//    and the held ones released in order (`reordered` counts them).
//  * Deadline of a packet = its send time on the local clock + the budget.
//    The send time is timestamp_us + the publisher->local clock offset
//    (ClockOffsetEstimator: the minimum of arrival - timestamp_us, which also
//    holds the path's smallest one-way delay, so a packet released at its
//    deadline left the publisher up to budget + that delay ago). A missing
//    packet's timestamp is interpolated between the last released packet
//    and the first held one.
//  * A packet arriving after its sequence was given up, or after its own
//    deadline, is `late` and dropped. A repeat of a sequence released or
//    held is a `duplicate` and dropped.
//  * A sequence more than kResyncDistance from the next expected one (either
//    way), or one behind it but with a timestamp newer than any seen, means
//    the publisher restarted: what is held is released in order and the
//    stream starts again at that packet (`resyncs`).
//  * At most `max_held_packets` are held; one more gives up the oldest gap
//    at once (`overflows`), so memory is bounded however long a gap lasts.
// Every sequence from the first released one to the next expected one is
// either delivered or lost; late packets are a subset of the lost ones that
// did arrive, eventually.
//
// The budget comes from each DATA header (latency_budget; 0 = the
// configured default). Sequences are extended to 64 bits across the 2^32
// wrap, as in ReceiveStats.
//
// Pure and clock-injected: `now` is the caller's monotonic clock, used for
// arrivals and deadlines alike. Not thread-safe.

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <vector>

#include "common/types.h"
#include "common/wire/packet.h"
#include "sdk/core/clock_offset_estimator.h"
#include "sdk/core/latency_budget.h"

namespace overline::sdk {

struct PlayoutConfig {
  DurationUs default_budget_us = kDefaultLatencyBudgetUs;  // for DATA whose header states none
  std::size_t max_held_packets = 4096;
  DurationUs offset_window_us = 10 * kSecond;  // ClockOffsetEstimator window
};

struct PlayoutCounters {
  std::uint64_t delivered = 0;   // released in sequence order
  std::uint64_t reordered = 0;   // of those, released after being held for an earlier one
  std::uint64_t lost = 0;        // sequences given up (never released)
  std::uint64_t late = 0;        // arrivals dropped: sequence already given up, or past their own deadline
  std::uint64_t duplicates = 0;  // arrivals dropped: sequence already released or held
  std::uint64_t overflows = 0;   // gaps given up early because max_held_packets were held
  std::uint64_t resyncs = 0;     // publisher restarts (see above)
};

// A released packet. `payload` is valid only during onRelease().
struct PlayoutPacket {
  const wire::Header& header;
  std::span<const std::byte> payload;
  std::uint64_t arrival_us;  // as given to onPacket, passed through unchanged
  bool held;                 // waited for an earlier packet
};

class PlayoutBuffer {
 public:
  static constexpr std::int64_t kResyncDistance = 1 << 15;

  class Listener {
   public:
    virtual ~Listener() = default;
    // Called in sequence order, from within onPacket() or onTimer().
    virtual void onRelease(const PlayoutPacket& packet) = 0;
  };

  explicit PlayoutBuffer(const PlayoutConfig& config);

  // One received DATA packet of the stream. `payload` is copied only when
  // the packet has to be held.
  void onPacket(const wire::Header& header, std::span<const std::byte> payload, std::uint64_t arrival_us,
                TimeUs now, Listener& listener);
  // Gives up missing packets whose deadline is <= now and releases what
  // they held back. Call at nextDeadline().
  void onTimer(TimeUs now, Listener& listener);
  // When onTimer() has work: the deadline of the oldest missing packet, if
  // any packet is held.
  std::optional<TimeUs> nextDeadline() const;

  const PlayoutCounters& counters() const { return counters_; }
  std::size_t heldCount() const { return held_.size(); }

 private:
  struct Held {
    wire::Header header;
    std::vector<std::byte> payload;
    std::uint64_t arrival_us = 0;
  };

  void start(std::int64_t extended, const wire::Header& header, std::span<const std::byte> payload,
             std::uint64_t arrival_us, TimeUs now, Listener& listener);
  std::int64_t extend(std::uint32_t sequence) const;
  // Releases held packets from next_ on and gives up missing ones whose deadline passed.
  void advance(TimeUs now, Listener& listener);
  void release(const wire::Header& header, std::span<const std::byte> payload, std::uint64_t arrival_us,
               bool held, Listener& listener);
  void giveUpNext();
  void flushHeld(Listener& listener);
  TimeUs deadlineOf(std::uint64_t timestamp_us) const;
  TimeUs missingDeadline() const;  // of next_; held_ must not be empty
  bool wasReleased(std::int64_t extended) const;
  void markHistory(std::int64_t extended, bool released);

  const PlayoutConfig config_;
  PlayoutCounters counters_;
  ClockOffsetEstimator offset_;
  DurationUs budget_us_;

  bool started_ = false;
  std::int64_t next_ = 0;  // extended sequence expected next
  // The last released packet: the lower neighbour for interpolating a
  // missing packet's timestamp.
  std::int64_t anchor_sequence_ = 0;
  std::uint64_t anchor_timestamp_us_ = 0;
  std::uint64_t newest_timestamp_us_ = 0;
  std::map<std::int64_t, Held> held_;  // extended sequence > next_ -> packet
  // Bit (s mod kResyncDistance) for s in [next_ - kResyncDistance, next_):
  // set when s was released, clear when it was given up.
  std::array<std::uint64_t, kResyncDistance / 64> released_{};
};

}  // namespace overline::sdk
