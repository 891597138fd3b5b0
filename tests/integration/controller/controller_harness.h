#pragma once
// Runs a real overline-controller and overlinectl for integration tests:
// loopback, ports picked by the kernel, waits on the ready file and on
// conditions with deadlines, never fixed sleeps.

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "deploy/localmesh/child_process.h"
#include "deploy/localmesh/controller_process.h"
#include "deploy/localmesh/metrics_scrape.h"
#include "tests/temp_dir.h"

namespace overline::controller::testing {

// The HMAC key every test controller signs join tokens with.
constexpr const char* kTokenKeyHex = "000102030405060708090a0b0c0d0e0f";

using TempDir = overline::test::TempDir;

// Polls `condition` every 20 ms until it holds or `timeout` passes.
bool waitFor(const std::function<bool()>& condition, std::chrono::milliseconds timeout);

class ControllerProcess {
 public:
  enum class Metrics : bool { kOff, kOn };

  // Starts overline-controller with its three listeners on 127.0.0.1:0, its
  // store in `dir`/db and the PKI in `dir`/pki (localmesh::makePki), and
  // waits (10 s) for the ready file. `extra_yaml` is appended to the
  // config. Metrics are off unless asked for: the exposer's web server takes
  // up to 2 s to stop. Fails the test when the controller does not come up.
  static std::unique_ptr<ControllerProcess> start(const TempDir& dir, const std::string& extra_yaml = "",
                                                  Metrics metrics = Metrics::kOff);

  const std::string& adminAddress() const { return admin_; }    // "127.0.0.1:port"
  const std::string& relaysAddress() const { return relays_; }  // "127.0.0.1:port"
  const std::string& edgeAddress() const { return edge_; }      // "127.0.0.1:port"
  const std::string& pkiDir() const { return pki_dir_; }
  const std::string& metricsAddress() const { return metrics_; }  // empty when off
  localmesh::ChildProcess& process() { return *process_; }
  localmesh::MetricSamples scrape() const;

 private:
  std::optional<localmesh::ChildProcess> process_;
  std::string admin_;
  std::string relays_;
  std::string edge_;
  std::string pki_dir_;
  std::string metrics_;
};

struct CtlResult {
  int exit_code = -1;
  std::vector<std::string> out;  // stdout lines
  std::string err;               // stderr text
};

// The PKI of the controller started in `dir` (ca.pem, operator-admin.*,
// operator-viewer.* read-only, relay-N.* as FakeRelay issues them).
std::string pkiDir(const TempDir& dir);

// Runs overlinectl --controller `address` (the Admin listener) as operator
// `operator_name` of pkiDir(dir) with `args...` to completion (10 s).
CtlResult runCtl(const TempDir& dir, const std::string& address, const std::vector<std::string>& args,
                 const std::string& operator_name = "admin");

// The path of a built binary ("overlinectl", "overline-controller").
std::string binary(const std::string& name);

}  // namespace overline::controller::testing
