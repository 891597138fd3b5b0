#pragma once
// The controller process's configuration file (YAML) and its loader.
//
// Schema:
//
//   listen:                      optional section: one gRPC listener per
//                                audience, each IPv4:port (port 0 = ephemeral)
//     relays: 0.0.0.0:7401       RelaySession, mutual TLS (relay certificates);
//                                default 0.0.0.0:7401
//     admin: 127.0.0.1:7400      Admin, mutual TLS (operator certificates);
//                                default 127.0.0.1:7400 (loopback: ops reach
//                                it over ssh unless they choose otherwise)
//     edge: 0.0.0.0:7402         Edge, server-only TLS (SDK clients carry no
//                                certificate); default 0.0.0.0:7402
//   tls:                         required section: the controller's identity
//     ca_file: /etc/overline/pki/ca.pem          required; CA bundle that
//                                signs relay and operator certificates
//     cert_file: /etc/overline/pki/controller.pem  required; an
//                                overline:controller:<name> certificate
//                                (overlinectl pki issue-controller)
//     key_file: /etc/overline/pki/controller.key   required
//                                The files are read and cross-checked at load
//                                (common/tls/tls_files.h): errors name the
//                                file, e.g. "tls.cert_file: /etc/overline/pki/
//                                controller.pem: expired at 2026-11-30T10:00:00Z"
//   keys:                        optional section: data-plane key epochs
//                                (controller/core/key_schedule.h)
//     rotate_interval_s: 86400   optional; 0 (only `overlinectl keys rotate`)
//                                or 60..31536000; default 86400
//     activation_delay_s: 30     optional; 1..3600; relays send with a new
//                                epoch this long after it starts; default 30
//     retire_after_s: 300        optional; 1..86400; an older epoch goes this
//                                long after a newer one activated; default 300
//   events:                      optional section
//     max_events: 100000         optional; 1000..100000000; the event log
//                                keeps the newest this many; default 100000
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
#include "common/tls/tls_files.h"
#include "controller/controller_settings.h"

namespace overline::controller {

struct ControllerListeners {
  Endpoint relays{0, 7401};
  Endpoint admin{0x7f000001, 7400};
  Endpoint edge{0, 7402};

  friend bool operator==(const ControllerListeners&, const ControllerListeners&) = default;
};

struct ControllerProcessConfig {
  ControllerListeners listen;
  tls::IdentityFiles tls;  // loaded and checked
  std::string db_path;
  ControllerSettings settings;
  // Prometheus /metrics listen address; nullopt when "off".
  std::optional<Endpoint> metrics_listen = Endpoint(0x7f000001, 9465);
  std::string log_level = "info";
  std::uint64_t max_events = 100'000;
};

// Parses and validates YAML text. A token.key_file and the tls files are
// read here: they are part of the configuration, and their errors are
// reported against their keys (the certificates are checked against the
// wall clock at the time of the call).
Result<ControllerProcessConfig, std::string> parseControllerConfig(std::string_view yaml_text);

// Reads `file_path` and parses it. A read failure is "cannot read file: <reason>".
Result<ControllerProcessConfig, std::string> loadControllerConfig(const std::string& file_path);

}  // namespace overline::controller
