#pragma once
// overline-impair's configuration file (YAML) and its loader.
//
// Schema (impair.example.yaml is a complete, commented example):
//
//   links:                      1..1000 entries; required unless there is a
//                               switchboard (both may be given)
//     - name: r1.l0-r2.l0       required; unique; 1..64 chars of [A-Za-z0-9._:-]
//       a: 127.0.1.1:4000       required; endpoint A (IPv4:port, port != 0)
//       a_side: 127.9.0.1:5000  required; the proxy's socket A sends to; port 0 = ephemeral
//       b: 127.0.2.1:4000       required; endpoint B (port != 0, != a)
//       b_side: 127.9.0.2:5000  required; the proxy's socket B sends to; port 0 = ephemeral
//       a_to_b: {...}           optional; impairment of A -> B; default none
//       b_to_a: {...}           optional; impairment of B -> A; default none
//   switchboard:                optional; "the Internet" between relays (switchboard.h)
//     default: {...}            optional; knobs of every directed line pair
//                               until a command changes them; default none
//     access: {...}             optional; client access (access_clients.h):
//                               any other sender is an SDK client and
//                               reaches the lines through a port of its own,
//                               with these knobs each way; absent = such
//                               datagrams are foreign (dropped)
//     lines:                    required; 1..256 entries
//       - name: r1.l0           required; unique among lines; same characters as link names
//         real: 127.5.1.1:40000 required; the line's own address (port != 0, unique)
//         stand_in: 127.5.201.1:0
//                               required; the proxy's socket standing in for
//                               the line; port 0 = ephemeral
//   seed: 1                     optional; 0..2^64-1; default 1
//   delay_queue_packets: 10000  optional; 1..1000000 packets per direction
//                               waiting for their delivery time; default 10000
//   socket_buffer_bytes: 4194304
//                               optional; SO_RCVBUF/SO_SNDBUF of every socket;
//                               4096..1073741824; default 4 MiB
//
// A direction mapping takes the knobs of common/impairment/impairment_knobs.h,
// every one optional (default 0 = off, reorder_delay_ms 10, queue_bytes 65536):
//   delay_ms jitter_ms loss_percent reorder_percent reorder_delay_ms rate_kbps queue_bytes
//   burst: {mean_loss_percent: 10, mean_burst_packets: 5}   (both required)
//
// A non-zero bind address (a_side, b_side, stand_in) may appear only once. Unknown and
// duplicate keys are errors. Errors are ONE line, "<key path>: <problem>":
//   links[0].a_side: expected IPv4:port, got "x"
//   links[1].a_to_b.loss_percent: 150 is out of range 0..100
//   links[0].b_to_a.burst: mean_loss_percent 90 is too high for mean_burst_packets 1 (at most 50)
// The loader never throws.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/endpoint.h"
#include "common/impairment/impairment_knobs.h"
#include "common/result.h"

namespace overline::impair {

struct ImpairLinkConfig {
  std::string name;
  Endpoint a;
  Endpoint a_side;
  Endpoint b;
  Endpoint b_side;
  impairment::ImpairmentKnobs a_to_b;  // valid: toSettings() succeeds
  impairment::ImpairmentKnobs b_to_a;
};

struct SwitchboardLineConfig {
  std::string name;
  Endpoint real;      // where the line's packets come from and where they are delivered
  Endpoint stand_in;  // the proxy binds this; everyone else uses it as the line's address
};

struct SwitchboardConfig {
  impairment::ImpairmentKnobs default_knobs;  // valid: toSettings() succeeds
  // Client access knobs (valid); nullopt = no client access.
  std::optional<impairment::ImpairmentKnobs> access_knobs;
  std::vector<SwitchboardLineConfig> lines;   // 1..kMaxSwitchboardLines; index = line index
};

// One stand-in socket per line; line indices must fit a LineIndex.
constexpr std::size_t kMaxSwitchboardLines = 256;

struct ImpairConfig {
  std::vector<ImpairLinkConfig> links;
  std::optional<SwitchboardConfig> switchboard;
  std::uint64_t seed = 1;
  std::size_t delay_queue_packets = 10'000;
  std::size_t socket_buffer_bytes = 4 * 1024 * 1024;
};

// Parses and validates YAML text.
Result<ImpairConfig, std::string> parseImpairConfig(std::string_view yaml_text);

// Reads `file_path` and parses it. A read failure is "cannot read file: <reason>".
Result<ImpairConfig, std::string> loadImpairConfig(const std::string& file_path);

// True for a valid link name: 1..64 chars of [A-Za-z0-9._:-] (no spaces, so
// a name is one word of a control command).
bool isValidLinkName(std::string_view name);

}  // namespace overline::impair
