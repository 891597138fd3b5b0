#pragma once
// The controller process's configuration file (YAML) and its loader.
//
// Schema:
//
//   listen: 127.0.0.1:7400       optional; IPv4:port of the gRPC server
//                                (RelaySession, Admin, Edge); port 0 =
//                                ephemeral; default 127.0.0.1:7400
//   db_path: /var/lib/overline/controller
//                                required; RocksDB directory, created if
//                                missing (relative to the working directory)
//   token:                       required section: join tokens of edge allocation
//     key_hex: "0011…"           exactly one of key_hex and key_file: the
//     key_file: /etc/overline/join.key
//                                shared HMAC key as hex (the file holds the
//                                same text), at least 16 bytes
//     ttl_s: 300                 optional; 1..86400; default 300
//   routes:                      optional section (controller/core)
//     recompute_interval_ms: 1000  optional; 10..3600000; default 1000
//     debounce_ms: 50            optional; 0..60000; default 50
//     link_expiry_ms: 10000      optional; 100..3600000; default 10000
//     hysteresis_percent: 15     optional; 0..100; default 15
//     hysteresis_min_ms: 5       optional; 0..60000; default 5
//     region_rules:              optional; default none
//       - destination_region: eu required; unique
//         allowed_regions: [eu]  required; 1+ regions, must include
//                                destination_region
//   relays:                      optional section: pushed to relays (ConfigPush)
//     probe_interval_ms: 20      optional; 5..60000; default 20
//     report_interval_ms: 1000   optional; 100..60000; default 1000
//   edge:                        optional section
//     max_candidates: 3          optional; 1..8 (one token names them all); default 3
//     max_load_percent: 90       optional; 1..100; default 90
//   metrics:                     optional section
//     listen: 127.0.0.1:9465     optional; IPv4:port, port 0 = ephemeral,
//                                "off" disables; default 127.0.0.1:9465
//   log_level: info              optional; trace|debug|info|warn|error
//
// Unknown and duplicate keys are errors. Errors are ONE line,
// "<key path>: <problem>", e.g.
//   token.key_hex: odd number of hex digits
//   routes.region_rules[0].allowed_regions: must include destination_region "eu"
//   db_path: missing required key
// The loader never throws.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/endpoint.h"
#include "common/result.h"
#include "controller/controller_settings.h"

namespace overline::controller {

struct ControllerProcessConfig {
  Endpoint listen{0x7f000001, 7400};
  std::string db_path;
  ControllerSettings settings;
  // Prometheus /metrics listen address; nullopt when "off".
  std::optional<Endpoint> metrics_listen = Endpoint(0x7f000001, 9465);
  std::string log_level = "info";
};

// Parses and validates YAML text. A token.key_file is read here: it is
// part of the configuration, and its errors are reported against its key.
Result<ControllerProcessConfig, std::string> parseControllerConfig(std::string_view yaml_text);

// Reads `file_path` and parses it. A read failure is "cannot read file: <reason>".
Result<ControllerProcessConfig, std::string> loadControllerConfig(const std::string& file_path);

}  // namespace overline::controller
