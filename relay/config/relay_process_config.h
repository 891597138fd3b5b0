#pragma once
// The relay process's configuration file (YAML) and its loader.
//
// Schema (deploy/relay.example.yaml is a complete, commented example):
//
//   node_id: 1                   required; 1..4294967295
//   region: eu-west              required; non-empty string
//   lines:                       required; 1..256 entries (2+ in production),
//                                in LineIndex order
//     - name: isp-a              required; unique; 1..32 chars of [a-z0-9_-]
//                                (it is a metric label value)
//       bind: 127.0.1.1:40001    required; IPv4:port the line's socket binds;
//                                port 0 = ephemeral; a non-zero address:port
//                                may appear only once
//       public: 203.0.113.1:40001
//                                optional; IPv4:port peers and clients send
//                                to (sent to the controller); default: the
//                                bound address
//       isp: isp-a               optional; ISP tag, 1..64 chars; lines with
//                                equal tags fail together; default: name
//   neighbours:                  optional; default none
//     - node_id: 2               required; 1..4294967295, != node_id, unique
//       lines: ["127.0.2.1:40001", "127.0.2.2:40001"]
//                                required; 1..256 IPv4:port (port != 0), in
//                                the neighbour's line order; an address may
//                                belong to only one neighbour
//   routes:                      optional; default none (direct neighbours
//                                are implicit routes, without backup)
//     - destination: 4           required; 1..4294967295, != node_id, unique
//       next_hop: 2              required; a configured neighbour's node_id
//                                (the primary; may be the destination itself)
//       backup: 3                optional; a configured neighbour's node_id,
//                                != next_hop; used while next_hop is down
//   subscriptions:               optional section
//     refresh_interval_ms: 500   optional; 1..3600000; default 500
//     expiry_ms: 1500            optional; > refresh_interval_ms, <= 3600000;
//                                default 1500
//   limits:                      optional section
//     max_clients: 10000         optional; 1..4294967295; default 10000
//     max_clients_per_ip: 1024   optional; 1..4294967295; SDK sessions from
//                                one IPv4 address (NATs); default 1024
//     max_streams: 100000        optional; 1..4294967295; default 100000
//     max_client_streams: 50000  optional; 1..max_streams; streams a client's
//                                SUBSCRIBE may create (the rest is kept for
//                                transit); default max_streams / 2
//     max_subscriptions_per_client: 64
//                                optional; 1..4294967295; default 64
//     max_publications_per_client: 16
//                                optional; 1..4294967295; streams one client
//                                session may own at this origin; default 16
//     client_expiry_ms: 5000     optional; 1..86400000; default 5000
//   probing:                     optional section (relay/core/link_monitor.h)
//     interval_ms: 20            optional; 5..60000; default 20
//     down_after_ms: 100         optional; > interval_ms, <= 3600000; default 100
//     up_after_acks: 5           optional; 1..1000; default 5
//     loss_window: 100           optional; 10..10000 probes; default 100
//     degraded_loss_percent: 10  optional; 1..100; default 10
//     recovered_loss_percent: 3  optional; 0..99, < degraded_loss_percent;
//                                default 3
//     degraded_rtt_ms: 0         optional; 0..60000, 0 = no RTT rule; default 0
//   path_choice:                 optional section (relay/core/path_selector.h)
//     switch_margin_percent: 20  optional; 0..99; default 20
//     min_margin_ms: 2           optional; 0..60000; default 2
//     switch_hold_ms: 1000       optional; 0..3600000; default 1000
//   failover:                    optional section (relay/core/failover_table.h)
//     failback_hold_ms: 3000     optional; 0..3600000; default 3000
//   recovery:                    optional section (per-hop NACK retransmission;
//                                relay/core/nack_tracker.h, retransmit_buffer.h)
//     nack: true                 optional; true|false; default true
//     reorder_allowance_ms: 5    optional; 0..1000, < default_latency_budget_ms;
//                                default 5
//     default_latency_budget_ms: 400
//                                optional; 10..60000; budget of DATA whose
//                                header gives none; default 400
//     retransmit_buffer_packets: 2048
//                                optional; 16..65536 per stream; default 2048
//     retransmit_buffer_bytes: 67108864
//                                optional; 1048576..17179869184, relay-wide;
//                                default 64 MiB
//   metrics:                     optional section
//     listen: 127.0.0.1:9464     optional; IPv4:port of the Prometheus
//                                endpoint, port 0 = ephemeral, "off" disables;
//                                default 127.0.0.1:9464
//   controller:                  optional section; absent = static config
//                                only (neighbours and routes above)
//     addresses: ["127.0.0.1:7400"]
//                                required; 1..16 "HOST:PORT" gRPC addresses,
//                                tried in turn
//     report_interval_ms: 1000   optional; 100..60000; until the controller's
//                                ConfigPush says otherwise; default 1000
//     backoff_initial_ms: 200    optional; 10..60000; first reconnect delay,
//                                doubled per failure; default 200
//     backoff_max_ms: 5000       optional; >= backoff_initial_ms, <= 600000;
//                                default 5000
//     capacity_bps: 1000000000   optional; 1..10^15, sent in the hello;
//                                default 1000000000
//     drain_timeout_ms: 10000    optional; 0..600000; on SIGTERM with the
//                                session up the relay asks the controller to
//                                route transit around it and exits once no
//                                transit has flowed for 500 ms, or after this
//                                long; 0 = exit at once; default 10000
//     tls:                       required; mutual TLS to the controller
//                                (docs/architecture.md, "Trust"; overlinectl
//                                pki issues the files). Read and checked at
//                                load: each parses, the key matches the
//                                certificate, which chains to the CA, is
//                                valid now and names relay <node_id>
//       ca_file: /etc/overline/pki/ca.pem
//                                required; PEM CA certificate(s) the
//                                controller's certificate must chain to
//       cert_file: /etc/overline/pki/relay-1.pem
//                                required; this relay's PEM certificate
//                                (URI SAN overline:relay:<node_id>)
//       key_file: /etc/overline/pki/relay-1.key
//                                required; its PEM private key
//       server_name: overline-controller
//                                optional; the DNS name the controller's
//                                certificate must carry, whatever address is
//                                dialled; default overline-controller
//                                On reload (SIGHUP) the files are read again
//                                and the next connection uses them (renewal
//                                without a restart); a live session keeps its
//                                connection
//   join:                        optional section; absent = every SDK client
//                                may join, no token checked (labs only)
//     key_hex: "00010203..."     exactly one of key_hex and key_file; the
//     key_file: /etc/overline/join.key
//                                controller's join-token key (token.key_hex
//                                there), >= 16 bytes as hex digits
//     require_token: true        optional; true|false; default true. false
//                                loads the key but admits every client
//                                (while SDKs are being moved to tokens)
//   auth:                        required unless insecure_lab_mode is true
//                                or a controller is configured (then it
//                                pushes every pair key with the peer list);
//                                with both, pushed keys replace the mesh keys
//                                for the peers they cover. Static neighbours
//                                need it (docs/architecture.md, "Trust")
//     mesh_keys:                 1..8 entries; every relay of the mesh has
//                                the same ones; pair keys derive from them
//       - epoch: 1               required; 1..4294967295; unique
//         secret_hex: "..."      exactly one of secret_hex and secret_file;
//         secret_file: /etc/overline/mesh-1.key
//                                >= 32 bytes as hex digits
//         activate_at_unix_s: 0  optional; relays send with the newest key
//                                whose time has passed (every installed key
//                                is accepted); default 0 = at once.
//                                Rotation: deploy/README.md
//   insecure_lab_mode: false     optional; true runs without auth (nothing
//                                between relays is authenticated, keys the
//                                controller pushes are ignored; labs only);
//                                contradicts an auth section
//   socket_buffer_bytes: 4194304 optional; SO_RCVBUF and SO_SNDBUF of every
//                                line socket; 4096..1073741824; default 4 MiB
//                                (the kernel may cap it: net.core.rmem_max)
//   log_level: info              optional; trace|debug|info|warn|error;
//                                default info
//
// Unknown and duplicate keys are errors. An optional section may be absent or
// empty (`neighbours:`).
//
// Errors are ONE line, "<key path>: <problem>", e.g.
//   lines[1].bind: expected IPv4:port, got "foo"
//   routes[0].next_hop: 7 is not a configured neighbour
//   probing.down_after_ms: 20 must be greater than interval_ms (20)
//   node_id: missing required key
//   controller.tls.cert_file: /etc/overline/pki/relay-7.pem: expired at 2026-11-30T10:00:00Z
//   controller.tls.cert_file: /etc/overline/pki/relay-8.pem: names relay 8, but node_id is 7
//   neighbours[0].line: unknown key
//   line 3, column 5: <YAML syntax error>
// The loader never throws.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/endpoint.h"
#include "common/result.h"
#include "common/tls/tls_files.h"
#include "relay/core/relay_config.h"

namespace overline::relay {

// What the controller learns about one line, besides its name.
struct AdvertisedLine {
  std::optional<Endpoint> public_address;  // nullopt: the line's bound address
  std::string isp;                         // ISP tag

  friend bool operator==(const AdvertisedLine&, const AdvertisedLine&) = default;
};

// `controller.tls`: the relay's certificate, key and CA, loaded and checked
// (they name this relay and are valid at load time).
struct ControllerTlsConfig {
  tls::IdentityFiles files;
  std::string server_name;  // the name the controller's certificate must carry

  // Same paths, same file contents and same server name.
  friend bool operator==(const ControllerTlsConfig& a, const ControllerTlsConfig& b) {
    return a.server_name == b.server_name && a.files.ca_file == b.files.ca_file &&
           a.files.cert_file == b.files.cert_file && a.files.key_file == b.files.key_file &&
           a.files.ca_pem == b.files.ca_pem && a.files.cert_pem == b.files.cert_pem &&
           a.files.key_pem == b.files.key_pem;
  }
};

// The `controller:` section: how the relay reaches its controller
// (relay/control/control_session.h).
struct ControllerClientConfig {
  std::vector<std::string> addresses;  // "HOST:PORT", tried in turn
  std::uint32_t report_interval_ms = 1000;
  std::uint32_t backoff_initial_ms = 200;
  std::uint32_t backoff_max_ms = 5000;
  std::uint64_t capacity_bps = 1'000'000'000;
  // Longest graceful drain on SIGTERM (relay/core/drain_monitor.h); 0 = none.
  std::uint32_t drain_timeout_ms = 10'000;
  ControllerTlsConfig tls;

  friend bool operator==(const ControllerClientConfig&, const ControllerClientConfig&) = default;
};

struct RelayProcessConfig {
  // node_id, neighbours, routes, timers and limits; core.line_count == lines.size().
  RelayCoreConfig core;
  std::string region;
  std::vector<LineConfig> lines;  // index == LineIndex
  std::vector<AdvertisedLine> advertised_lines;  // index == LineIndex
  std::optional<ControllerClientConfig> controller;  // nullopt: no controller
  // Prometheus /metrics listen address; nullopt when metrics are "off".
  std::optional<Endpoint> metrics_listen = Endpoint(0x7f000001, 9464);
  std::string log_level = "info";  // one of trace|debug|info|warn|error
  std::size_t socket_buffer_bytes = 4 * 1024 * 1024;
};

// Parses and validates YAML text. Files it names (controller.tls, secret
// and key files) are read, and certificates checked against the wall clock.
Result<RelayProcessConfig, std::string> parseRelayProcessConfig(std::string_view yaml_text);

// Reads `file_path` and parses it. A read failure is "cannot read file: <reason>".
Result<RelayProcessConfig, std::string> loadRelayProcessConfig(const std::string& file_path);

}  // namespace overline::relay
