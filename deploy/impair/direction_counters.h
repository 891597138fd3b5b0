#pragma once
// What overline-impair counts for one impaired direction (a link's a_to_b or
// b_to_a, or a switchboard pair) on top of the model's own decisions.

#include <cstdint>

namespace overline::impair {

struct DirectionCounters {
  std::uint64_t received = 0;     // packets from the expected source, taken in
  std::uint64_t delivered = 0;    // sent out of the far socket
  // UDP payload bytes of those packets: what the endpoints put on the
  // impaired path and what it carried to the far end (bench/ divides them by
  // the media bytes to get a protocol's bandwidth overhead).
  std::uint64_t received_bytes = 0;
  std::uint64_t delivered_bytes = 0;
  std::uint64_t queue_full = 0;   // the direction already had delay_queue_packets waiting
  std::uint64_t send_failed = 0;  // the kernel refused the send
  std::uint64_t queued = 0;       // waiting in the delay queue now
};

}  // namespace overline::impair
