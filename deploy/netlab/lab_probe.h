#pragma once
// Raw UDP ping-pong between two lab lines, independent of the relay: checks
// that a line carries traffic, that an outage kills it and how much loss an
// impairment really causes, in each direction.

#include <chrono>
#include <cstdint>

#include "common/result.h"
#include "deploy/netlab/lab_layout.h"

namespace overline::netlab {

struct LossMeasurement {
  int sent = 0;              // pings from `from`
  int forward_received = 0;  // distinct pings that reached `to` (each echoed once)
  int back_received = 0;     // distinct echoes that came back to `from`

  // Fractions 0..1; 0 when nothing was sent in that direction.
  double forwardLoss() const { return sent ? 1.0 - static_cast<double>(forward_received) / sent : 0.0; }
  double backLoss() const {
    return forward_received ? 1.0 - static_cast<double>(back_received) / forward_received : 0.0;
  }
};

// Sends `packets` datagrams from line `from` to line `to` (their relay
// addresses, port kProbePort: usable while relays run on kLinePort); `to`
// echoes each one it gets. Sent in batches of 50, each batch waiting at most
// `quiet` after the last arrival for stragglers, so a dead line costs
// `packets / 50 * 2 * quiet` at most. Errors: unknown lines, two lines of
// one relay (their traffic never leaves its namespace), socket failures.
Result<LossMeasurement, std::string> measureLoss(const LabLayout& layout, LineRef from, LineRef to, int packets,
                                                 std::chrono::milliseconds quiet = std::chrono::milliseconds(20));

}  // namespace overline::netlab
