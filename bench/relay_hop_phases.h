#pragma once
// The two measurements of one target (each on a fresh HopUnderTest).
//
// Throughput: the sender pushes `packets` DATA back to back, keeping few
// enough in flight that the hop's socket never overflows and its queue
// stays short in time: a relay's socket that overflows drops its
// neighbours' probe answers too, and answers queued behind tens of
// milliseconds of DATA count as lost probes, so its links would degrade
// (FEC on) or go down; that is not what is measured here. "Packets out"
// is what the hop emitted: at the receivers, delivered + dropped by their
// sockets for lack of room (SO_RXQ_OVFL), so a slow receiver does not cap
// the figure; per second over the first to the last kernel arrival at any
// receiver. Delivered pps is the same without the drops.
//
// Latency: DATA paced at `rate_pps`; arrival (when the receive thread read
// it, bench clock) - timestamp_us (when the sender built it) at receiver 0.

#include <cstdint>
#include <vector>

#include "bench/relay_hop_target.h"

namespace overline::bench {

struct ThroughputFigures {
  std::size_t sent = 0;
  double offered_pps = 0;     // sent / sending time
  std::size_t delivered = 0;  // summed over the receivers
  std::uint64_t dropped = 0;  // by the receivers' sockets, summed
  std::size_t duplicates = 0;
  std::size_t rejected = 0;        // DATA failing the tag check (must be 0)
  double window_s = 0;             // first to last arrival
  double out_pps = 0;              // (delivered + dropped) / window
  double delivered_pps = 0;        // delivered / window
  double input_pps = 0;            // out_pps / receivers: packets the hop took in per second
  double hop_cpu_percent = -1;     // hop CPU time / (last arrival - first send), % of one core; < 0: unknown
  double out_per_cpu_second = 0;   // out_pps / hop CPU share: packets out per second of the hop's CPU time
  std::uint64_t fec_packets = 0;   // parity the relay sent the receivers
  std::uint64_t nack_packets = 0;  // NACKs the relay sent the sender
  std::size_t window_stalls = 0;   // chunks sent after kWindowStallUs without progress
  bool gso = false;                // the sender used UDP GSO
};

struct LatencyFigures {
  double rate_pps = 0;
  std::size_t sent = 0;
  std::size_t received = 0;  // at receiver 0
  std::size_t rejected = 0;  // DATA failing the tag check (must be 0)
  DurationUs p50_us = 0;
  DurationUs p99_us = 0;
};

// `window` > 0: at most window / K DATA in flight (sent, and not yet read by
// receiver 0 nor overtaken by a later one it read), i.e. about `window`
// copies the hop has still to send; 0: no limit.
// Sending stops after `max_send_us` too, whatever `packets` says.
Result<ThroughputFigures, std::string> measureThroughput(HopUnderTest& hop, std::size_t packets, std::size_t window,
                                                         DurationUs max_send_us);
Result<LatencyFigures, std::string> measureLatency(HopUnderTest& hop, std::size_t packets, double rate_pps);

// Nearest-rank percentile, `fraction` in (0, 1]; 0 without samples.
DurationUs percentile(std::vector<DurationUs> samples, double fraction);

}  // namespace overline::bench
