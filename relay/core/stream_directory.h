#pragma once
// StreamDirectory: where each stream is published right now, i.e. the relays
// ("origins") at which a client publishes it, learned from the ANNOUNCE
// packets (wire/announce_payload.h) every origin floods through the mesh.
//
// Why: a stream id names the edge it was first published at (its home,
// common/types.h), and subscribers never learn another id. But a publisher
// moves when its edge dies, and a dual-homed one publishes through two edges
// at once. Relays therefore subscribe toward a stream's current origins and
// fall back to its home only while they know of none. Announcements are soft
// state between relays, so a stream that moves is found again with the
// controller down.
//
// Flooding: an origin numbers its ANNOUNCE packets (sequence) and stamps
// them with its wall clock. A relay records the streams of a packet it has
// not seen before and floods it on to its other neighbours; a copy that
// arrives again over another path is recognised (per origin, a DedupWindow
// of packet numbers) and goes no further. An entry expires expiry_us after
// the last packet that named it, so an origin that died or whose publisher
// left drops out within expiry_us.
//
// Bounded: at most max_streams streams with kMaxOriginsPerStream origins
// each, and max_streams origins; the entries that would need more are left
// out, and an announcement none of whose entries fit is not flooded
// (kFull; the caller counts it). Pure and
// single-threaded; times are the caller's monotonic clock.

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <unordered_map>
#include <vector>

#include "common/types.h"
#include "common/wire/announce_payload.h"
#include "relay/core/dedup_window.h"

namespace overline::relay {

class StreamDirectory {
 public:
  // Two edges of a dual-homed publisher, plus room for a move while one of
  // them is still expiring.
  static constexpr std::size_t kMaxOriginsPerStream = 4;

  StreamDirectory(DurationUs expiry_us, std::size_t max_streams);

  enum class Verdict : std::uint8_t {
    kNew,   // recorded: flood it on
    kSeen,  // this packet arrived before (over another path): nothing changed
    kFull,  // not recorded: a bound was reached
  };
  // An ANNOUNCE numbered `sequence`, made at `origin_clock_us` on the
  // origin's clock. Appends to `changed` every stream whose origin set changed.
  Verdict onAnnounce(const wire::AnnounceView& announce, std::uint32_t sequence, std::uint64_t origin_clock_us,
                     TimeUs now, std::vector<StreamId>& changed);

  // The stream's known origins, oldest announcement first (a stable order);
  // empty when none is known.
  std::span<const NodeId> origins(StreamId stream) const;

  // Forgets entries that expired at `now`, appending the streams whose origin
  // set changed. Returns the next time an entry expires (max when none).
  TimeUs expire(TimeUs now, std::vector<StreamId>& changed);

  // When expire() next has something to do (max when nothing is recorded).
  TimeUs nextExpiry() const { return next_expiry_us_; }

  std::size_t streamCount() const { return entries_.size(); }

 private:
  struct Entry {
    std::array<NodeId, kMaxOriginsPerStream> origins{};
    std::array<TimeUs, kMaxOriginsPerStream> expires_at_us{};
    std::size_t count = 0;
  };

  const DurationUs expiry_us_;
  const std::size_t max_streams_;
  std::unordered_map<StreamId, Entry> entries_;
  std::unordered_map<NodeId, DedupWindow> seen_;  // per origin: its packet numbers seen
  TimeUs next_expiry_us_;
};

}  // namespace overline::relay
