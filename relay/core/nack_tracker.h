#pragma once
// NackTracker: loss detection for ONE stream on one relay, from the DATA it
// receives from its upstream, and the schedule of the NACKs that ask for the
// missing packets again. Pure: RelayCore feeds it packets and ticks with
// `now` and sends the NACKs it asks for.
//
// Rules (times in microseconds, RecoveryConfig names):
//  * onData(sequence): sequences compare in 32-bit serial arithmetic. The
//    first packet starts tracking; when its sequence s is below
//    kStartWindow, sequences 0..s-1 are missing too (publishers start at 0,
//    sdk/client.h, so those are the stream's lost first packets; for a relay
//    that joins a young stream they are the start it missed, still within
//    budget). A packet ahead of the highest so far
//    marks every skipped sequence missing, detected now. A jump of more than
//    kMaxGap sequences (either way) is a restarted or skipped stream, not
//    loss: tracking restarts there and nothing is NACKed for it. A packet
//    behind the highest that is missing clears it (kFilled): an original
//    that was only reordered, a retransmission or an FEC repair alike.
//  * A missing sequence is NACKed first reorder_allowance after its
//    detection, then again every max(1.25 x srtt + reorder_allowance,
//    min_nack_interval) while it stays missing, where srtt is the current
//    round trip to the upstream.
//  * It is no longer NACKed once now + srtt / 2 > detected + budget (an
//    answer could no longer arrive within the packet's latency budget: the
//    stream's budget as of its detection, measured from the moment this
//    relay noticed the gap), and given up (counted unrecovered) once now >
//    detected + budget; an answer to an earlier NACK arriving before that
//    still fills the gap.
//  * At most kMaxMissing sequences are tracked; beyond, the oldest is given
//    up. Tracking restarts (see above) give up everything still missing.

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "common/types.h"
#include "relay/core/relay_config.h"

namespace overline::relay {

class NackTracker {
 public:
  static constexpr std::uint32_t kMaxGap = 512;
  static constexpr std::size_t kMaxMissing = 512;
  static constexpr std::uint32_t kStartWindow = 64;

  enum class Arrival : std::uint8_t {
    kNew,     // ahead of everything so far (or the first packet, or a restart)
    kFilled,  // a missing sequence arrived
    kOld,     // behind the highest and not missing (not tracked)
  };
  Arrival onData(std::uint32_t sequence, TimeUs now, DurationUs budget_us, const RecoveryConfig& config);

  // Appends to `due` every missing sequence whose NACK is due at `now`, in
  // sequence order, and schedules its next NACK; gives up the sequences past
  // their budget first.
  void collectDue(TimeUs now, DurationUs srtt_us, const RecoveryConfig& config, std::vector<std::uint32_t>& due);

  bool hasMissing() const { return !missing_.empty(); }
  std::size_t missingCount() const { return missing_.size(); }
  // Sequences given up (budget passed, tracking cap, restart) since the
  // last call; resets the count.
  std::uint64_t takeUnrecovered() { return std::exchange(unrecovered_, 0); }

 private:
  struct Missing {
    std::uint32_t sequence = 0;
    TimeUs give_up_at_us = 0;  // detected + budget
    TimeUs next_nack_us = 0;
  };
  void restart(std::uint32_t sequence);

  bool started_ = false;
  std::uint32_t highest_ = 0;
  std::vector<Missing> missing_;  // in sequence order (oldest first)
  std::uint64_t unrecovered_ = 0;
};

}  // namespace overline::relay
