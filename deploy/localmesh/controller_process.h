#pragma once
// Runs a real overline-controller (and overlinectl to provision nodes) for
// the demo and integration tests: loopback, gRPC and /metrics ports picked by
// the kernel, readiness taken from the controller's ready file (no sleeps).
//
// Restarting a controller "on the same db" is calling startController again
// with the same work_dir once the previous process is gone.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "common/endpoint.h"
#include "common/result.h"
#include "common/types.h"
#include "deploy/localmesh/child_process.h"

namespace overline::localmesh {

struct RunningController {
  ChildProcess process;     // stops (SIGTERM, then SIGKILL) when destroyed
  Endpoint grpc;            // RelaySession, Admin and Edge services
  std::string metrics_url;  // "http://127.0.0.1:PORT/metrics"
};

// Starts `bin_dir`/overline-controller with its config, store (work_dir/db),
// ready file and log (work_dir/controller.log) in `work_dir`, signing join
// tokens with `token_key_hex`, and waits up to `timeout` for its ready file.
// `extra_yaml` is appended to the generated config (e.g. a `relays:`
// section). It serves gRPC on `listen` (port 0 = picked by the kernel; a
// restart passes the previous port so relays find it where their configs
// say). The error is one line naming what failed.
// `token_ttl_s` 0 keeps the controller's default token lifetime.
Result<RunningController, std::string> startController(const std::string& bin_dir, const std::string& work_dir,
                                                       const std::string& token_key_hex,
                                                       const std::string& extra_yaml = "",
                                                       std::chrono::milliseconds timeout = std::chrono::seconds(10),
                                                       const Endpoint& listen = Endpoint(0x7f000001, 0),
                                                       std::int64_t token_ttl_s = 0);

// One line of a provisioned node, as `overlinectl provision --line` takes it.
struct ProvisionedLine {
  std::string name;     // [a-z0-9_-]{1,32}
  std::string address;  // "IPv4:port"; port 0 = learned from the relay's hello
  std::string isp;      // ISP tag; empty = the controller's default
};

// Creates or replaces node `node_id`'s provisioning with
// `bin_dir`/overlinectl against `controller`; waits up to 10 s. The error
// carries overlinectl's stderr (its log is work_dir/overlinectl.log).
Result<NodeId, std::string> provisionNode(const std::string& bin_dir, const std::string& work_dir,
                                          const Endpoint& controller, NodeId node_id, const std::string& region,
                                          const std::vector<ProvisionedLine>& lines, std::uint64_t capacity_bps);

}  // namespace overline::localmesh
