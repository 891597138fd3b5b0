#pragma once
// StatusServer: a process's HTTP status endpoint, served with civetweb
// (Debian's libcivetweb) on the process's `metrics.listen` address:
//   GET /metrics   the registry's samples in the Prometheus text format,
//                  Content-Type "text/plain; version=0.0.4; charset=utf-8"
//   GET /healthz   200 "ok", or 503 with the liveness probe's reason
//   GET /readyz    200 "ready", or 503 "not ready: <readiness probe's reason>"
//   other paths    404; other methods on the three paths 405.
// Probe bodies are one line ending in "\n". Keep-alive is off: every request
// is its own connection, so no idle client holds a worker thread.
//
// Threads: requests run on kWorkerThreads civetweb threads, which call the
// probes and Collect() on the registry; probes must therefore be safe to call
// from any thread (they read atomics their process's own thread publishes).
// Start and destroy on one thread.

#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "common/endpoint.h"
#include "common/http/probe.h"
#include "common/result.h"

struct mg_connection;
struct mg_context;

namespace prometheus {
class Collectable;
}  // namespace prometheus

namespace overline::http {

using Probe = std::function<ProbeResult()>;

class StatusServer {
 public:
  // Starts serving on `listen` (port 0 = picked by the kernel). `registry`
  // must outlive the server. The error names the address and civetweb's
  // reason, e.g. "cannot listen on 127.0.0.1:9464: cannot bind to
  // 127.0.0.1:9464: 98 (Address already in use)".
  static Result<std::unique_ptr<StatusServer>, std::string> start(const Endpoint& listen,
                                                                  const prometheus::Collectable& registry,
                                                                  Probe liveness, Probe readiness);
  // Stops serving and joins civetweb's threads, within milliseconds (see
  // stop() in the .cc for how).
  ~StatusServer();
  StatusServer(const StatusServer&) = delete;
  StatusServer& operator=(const StatusServer&) = delete;

  // The address actually listened on (the kernel's port when asked for 0).
  const Endpoint& listenEndpoint() const { return bound_; }

 private:
  StatusServer(const prometheus::Collectable& registry, Probe liveness, Probe readiness);
  void stop();
  static int onLogMessage(const mg_connection* connection, const char* message);
  static int onMetrics(mg_connection* connection, void* self);
  static int onHealthz(mg_connection* connection, void* self);
  static int onReadyz(mg_connection* connection, void* self);

  const prometheus::Collectable& registry_;
  const Probe liveness_;
  const Probe readiness_;
  mg_context* context_ = nullptr;  // owned; mg_stop() frees it
  Endpoint bound_;
  std::mutex start_error_mutex_;  // guards the two below
  bool starting_ = true;          // until mg_start2() returns
  std::string start_error_;       // civetweb's first complaint while starting
};

}  // namespace overline::http
