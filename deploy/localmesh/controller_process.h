#pragma once
// Runs a real overline-controller (and overlinectl to provision nodes) for
// the demo and integration tests: loopback, gRPC and /metrics ports picked by
// the kernel, readiness taken from the controller's ready file (no sleeps).
//
// TLS as in production: startController makes the deployment's PKI in
// work_dir/pki with `overlinectl pki` on first start (CA, the controller's
// certificate, operator "admin" with write access and "viewer" read-only);
// issueRelayCertificate adds a relay's.
//
// Restarting a controller "on the same db" is calling startController again
// with the same work_dir once the previous process is gone.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/endpoint.h"
#include "common/result.h"
#include "common/types.h"
#include "deploy/localmesh/child_process.h"

namespace overline::localmesh {

// The controller's three gRPC listeners (port 0: picked by the kernel).
struct ControllerPorts {
  Endpoint relays{0x7f000001, 0};  // RelaySession (mutual TLS)
  Endpoint admin{0x7f000001, 0};   // Admin (mutual TLS, operator certificates)
  Endpoint edge{0x7f000001, 0};    // Edge (server TLS)
};

struct RunningController {
  ChildProcess process;     // stops (SIGTERM, then SIGKILL) when destroyed
  ControllerPorts ports;    // as bound
  std::string metrics_url;  // "http://127.0.0.1:PORT/metrics"
  std::string pki_dir;      // ca.pem, controller.*, operator-admin.*, operator-viewer.*, relay-N.*
};

// The PKI directory of a controller started in `work_dir`.
std::string pkiDirOf(const std::string& work_dir);
// Makes the PKI in `pki_dir` with `bin_dir`/overlinectl pki unless it
// exists (overlinectl's output goes to `log`); the error names the command.
std::optional<std::string> makePki(const std::string& bin_dir, const std::string& pki_dir, const std::string& log);
// Issues relay `node`'s certificate (relay-N.pem/.key) in `pki_dir` with
// `bin_dir`/overlinectl, unless it exists. The error carries overlinectl's.
Result<NodeId, std::string> issueRelayCertificate(const std::string& bin_dir, const std::string& pki_dir, NodeId node);
// `controller.tls` of relay `node`'s config: "  tls: {ca_file: …, …}\n"
// (indented for the controller section).
std::string relayTlsYaml(const std::string& pki_dir, NodeId node);

// Starts `bin_dir`/overline-controller with its config, store (work_dir/db),
// ready file and log (work_dir/controller.log) in `work_dir`, signing join
// tokens with `token_key_hex`, and waits up to `timeout` for its ready file.
// `extra_yaml` is appended to the generated config (e.g. a `relays:`
// section). It listens on `ports` (a restart passes the previous ones so
// relays find it where their configs say). The error is one line naming
// what failed. `token_ttl_s` 0 keeps the controller's default token lifetime.
Result<RunningController, std::string> startController(const std::string& bin_dir, const std::string& work_dir,
                                                       const std::string& token_key_hex,
                                                       const std::string& extra_yaml = "",
                                                       std::chrono::milliseconds timeout = std::chrono::seconds(10),
                                                       const ControllerPorts& ports = {},
                                                       std::int64_t token_ttl_s = 0);

// One line of a provisioned node, as `overlinectl provision --line` takes it.
struct ProvisionedLine {
  std::string name;     // [a-z0-9_-]{1,32}
  std::string address;  // "IPv4:port"; port 0 = learned from the relay's hello
  std::string isp;      // ISP tag; empty = the controller's default
};

// Creates or replaces node `node_id`'s provisioning with
// `bin_dir`/overlinectl (operator "admin" of pkiDirOf(work_dir)) against
// the Admin listener `admin`, and issues the node's relay certificate;
// waits up to 10 s. The error carries overlinectl's stderr (its log is
// work_dir/overlinectl.log).
Result<NodeId, std::string> provisionNode(const std::string& bin_dir, const std::string& work_dir,
                                          const Endpoint& admin, NodeId node_id, const std::string& region,
                                          const std::vector<ProvisionedLine>& lines, std::uint64_t capacity_bps);

// The argv prefix of overlinectl as operator `operator_name` of the PKI in
// `pki_dir` against the Admin listener `admin`.
std::vector<std::string> overlinectlArgv(const std::string& bin_dir, const std::string& pki_dir, const Endpoint& admin,
                                         const std::string& operator_name = "admin");

}  // namespace overline::localmesh
