#pragma once
// The command line of overline-bench-relay-hop (main in relay_hop_bench.cc).

#include <cstddef>
#include <string>
#include <vector>

namespace overline::bench {

struct Options {
  std::string relay_path;
  std::size_t payload_bytes = 1200;
  std::size_t packets = 200'000;        // DATA per throughput phase, at most...
  double throughput_seconds = 3;        // ...and sending for at most this long
  std::size_t window = 2'048;           // copies in flight through the hop (DATA x K); 0: no limit
  std::size_t latency_packets = 5'000;  // DATA per latency phase
  double latency_load = 0.10;           // latency rate: this share of the forwarder's capacity...
  double latency_max_pps = 20'000;      // ...but at most this
  std::vector<std::size_t> fanouts = {1, 10};
  int repeat = 5;
  std::size_t idle_streams = 0;  // > 0: the idle-streams mode instead
  int idle_seconds = 10;
  std::string json_path;  // empty: no JSON
  bool pin = true;
};

}  // namespace overline::bench
