// overline-controller: the controller process. Loads the YAML config, opens
// the RocksDB store, serves RelaySession, Admin and Edge on three gRPC
// servers (one per audience, each with its own address, credentials and
// limits: listen.relays mutual TLS, listen.admin mutual TLS, listen.edge
// server TLS), runs the route worker and serves /metrics, /healthz and
// /readyz (controller/controller_metrics.h).
//
//   overline-controller --config FILE [--ready-file PATH] [--log-level LEVEL]
//
// Exit status: 0 after a clean stop (SIGINT/SIGTERM), 1 when the controller
// cannot start (store, listen, metrics, ready file), 2 for a usage or config
// error. A config error is exactly one stderr line:
//   overline-controller: FILE: <key path>: <problem>
//
// --ready-file is written atomically (temp file + rename) once the gRPC
// servers and /metrics are up, with the ACTUAL addresses:
//   {"pid":123,"relays":"0.0.0.0:7401","admin":"127.0.0.1:7400",
//    "edge":"0.0.0.0:7402","metrics":"127.0.0.1:9465"}
// ("metrics" is null when disabled). Test harnesses wait for this file.
//
// SIGHUP re-reads the config file and applies log_level, routes, relays,
// edge, token and keys at once, sessions untouched; listen, tls, db_path,
// events and metrics keep their running values with a warning naming them
// (controller/config/controller_config_reload.h). A bad file is logged as
// its one-line error and the controller runs on. (--log-level, when given,
// still wins over the file.)
//
// Threads: SIGINT, SIGTERM and SIGHUP are blocked in every thread (the mask
// is set before any thread starts) and taken by sigwait() on the main
// thread, which reloads on SIGHUP and on the others stops the controller (sessions closed, route worker joined), waits
// (3 s at most) for the sessions to end and for followed event tails to end,
// shuts the gRPC server down (250 ms for stragglers), flushes the store and
// returns. gRPC, RocksDB and the metrics exposer run their own threads;
// Controller documents who touches what.

#include <grpcpp/grpcpp.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string>

#include "common/process/log_fields.h"
#include "common/process/process_support.h"
#include "common/tls/certificate_verifier.h"
#include "common/tls/grpc_tls.h"
#include "controller/admin_service.h"
#include "controller/caller_auth.h"
#include "controller/config/controller_config.h"
#include "controller/config/controller_config_reload.h"
#include "controller/controller.h"
#include "controller/controller_metrics.h"
#include "controller/edge_service.h"
#include "controller/relay_session_service.h"
#include "controller/store/controller_store.h"

namespace overline::controller {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitStartFailed = 1;
constexpr int kExitUsage = 2;
// After a stop signal, relay sessions get this long to write what they have
// queued, and followed event tails to end ...
constexpr std::chrono::seconds kShutdownGrace{3};
// ... then whatever is still in flight gets this long before the server
// cancels it. Short on purpose: gRPC's shutdown also waits for idle client
// connections (a relay whose session already ended) until the deadline.
constexpr std::chrono::milliseconds kShutdownStragglers{250};
// gRPC keepalive pings find relays whose connection died without a FIN.
constexpr int kKeepaliveTimeMs = 10'000;
constexpr int kKeepaliveTimeoutMs = 5'000;

// What one listener may cost, so that no caller (a stranger on the Edge
// port above all) can take the controller's memory or threads.
struct ListenerLimits {
  int max_receive_bytes;        // largest request message
  int max_streams_per_connection;
  int max_threads;              // synchronous services' handler threads
  std::size_t max_memory_bytes; // gRPC's buffers for this server
  int max_idle_ms;              // idle connections are closed after this
};
// Relay reports: a 1,000-node mesh with 2 lines each reports about 4,000
// links (~150 kB); 4 MiB leaves room without letting one stream hoard memory.
constexpr ListenerLimits kRelayLimits{4 << 20, 4, 8, 256u << 20, 0};
constexpr ListenerLimits kAdminLimits{64 << 10, 32, 16, 64u << 20, 0};
// Edge: AllocateEdge requests are tiny; idle strangers are dropped.
constexpr ListenerLimits kEdgeLimits{4 << 10, 16, 16, 64u << 20, 60'000};

struct BoundServer {
  std::unique_ptr<grpc::Server> server;
  Endpoint address;
};

// Starts one gRPC server for `services` on `listen`; the error names the
// listener and address.
Result<BoundServer, std::string> startServer(const char* name, const Endpoint& listen,
                                             std::shared_ptr<grpc::ServerCredentials> credentials,
                                             const ListenerLimits& limits,
                                             std::initializer_list<grpc::Service*> services) {
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(listen.toString(), std::move(credentials), &port);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, kKeepaliveTimeMs);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, kKeepaliveTimeoutMs);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS, limits.max_streams_per_connection);
  if (limits.max_idle_ms > 0) builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_IDLE_MS, limits.max_idle_ms);
  builder.SetMaxReceiveMessageSize(limits.max_receive_bytes);
  grpc::ResourceQuota quota(std::string("overline-") + name);
  quota.SetMaxThreads(limits.max_threads);
  quota.Resize(limits.max_memory_bytes);
  builder.SetResourceQuota(quota);
  for (grpc::Service* service : services) builder.RegisterService(service);
  BoundServer bound{builder.BuildAndStart(), listen};
  if (!bound.server || port == 0) {
    return Err(std::string("listen.") + name + ": cannot listen on " + listen.toString());
  }
  bound.address = listen.withPort(static_cast<std::uint16_t>(port));
  return bound;
}

struct Options {
  std::string config_path;
  std::string ready_file;  // empty: none
  std::string log_level;   // empty: the config's log_level
};

int fail(int exit_code, const std::string& message) {
  std::fprintf(stderr, "overline-controller: %s\n", message.c_str());
  return exit_code;
}



// Re-reads the config file (SIGHUP) and applies what can change at run
// time to `running` and the controller. Main thread.
void reloadConfig(const Options& options, ControllerProcessConfig& running, Controller& controller) {
  auto loaded = loadControllerConfig(options.config_path);
  if (!loaded) {
    logEvent(spdlog::level::err, "config reload failed; running on the previous config",
             {{"file", options.config_path}, {"error", loaded.error()}});
    return;
  }
  ControllerReloadPlan plan = planControllerReload(running, loaded.value());
  for (const std::string& key : plan.kept) {
    logEvent(spdlog::level::warn, "config key cannot change at run time; keeping the running value",
             {{"key", key}});
  }
  if (plan.config.log_level != running.log_level && options.log_level.empty()) {
    spdlog::set_level(spdlog::level::from_str(plan.config.log_level));
  }
  controller.updateSettings(plan.config.settings);
  std::string applied;
  for (const std::string& key : plan.applied) applied += (applied.empty() ? "" : ",") + key;
  logEvent(spdlog::level::info, "config reloaded",
           {{"file", options.config_path}, {"applied", applied.empty() ? "none" : applied}});
  running = std::move(plan.config);
}

int run(ControllerProcessConfig config, const Options& options) {
  // Before any thread exists, so every thread inherits the mask and only
  // sigwait() below ever sees these signals.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  setUpProcessLogging("overline-controller", options.log_level.empty() ? config.log_level : options.log_level);
  logEvent(spdlog::level::info, "controller starting", {{"version", OVERLINE_VERSION}, {"db", config.db_path}});

  // Declaration order is the wiring order; destruction runs backwards, so
  // the server goes before the services, which go before what they use.
  // The status endpoint comes first: /healthz and /readyz answer (not
  // ready) while the store opens, which can take a while on a large db.
  ControllerMetrics metrics;
  metrics.setCertificateExpiry(config.tls.not_after_unix_s);
  std::optional<Endpoint> metrics_bound;
  if (config.metrics_listen) {
    auto bound = metrics.serve(*config.metrics_listen);
    if (!bound) return fail(kExitStartFailed, bound.error());
    metrics_bound = bound.value();
    spdlog::info("metrics at http://{}/metrics", metrics_bound->toString());
  }
  auto store = ControllerStore::open(config.db_path, config.max_events);
  if (!store) return fail(kExitStartFailed, store.error());
  metrics.setStoreOpen();
  auto controller = Controller::create(*store.value(), config.settings, metrics);
  if (!controller) return fail(kExitStartFailed, controller.error());

  auto verifier = tls::CertificateVerifier::fromCaPem(config.tls.ca_pem);
  if (!verifier) return fail(kExitUsage, "tls.ca_file: " + config.tls.ca_file + ": " + verifier.error());
  const CallerAuth auth(verifier.value(), metrics);
  RelaySessionService relay_sessions(*controller.value(), auth);
  AdminService admin(*controller.value(), *store.value(), auth);
  EdgeService edge(*controller.value());
  auto relays_server = startServer("relays", config.listen.relays, tls::mutualTlsServer(config.tls), kRelayLimits,
                                   {&relay_sessions});
  if (!relays_server) return fail(kExitStartFailed, relays_server.error());
  auto admin_server =
      startServer("admin", config.listen.admin, tls::mutualTlsServer(config.tls), kAdminLimits, {&admin});
  if (!admin_server) return fail(kExitStartFailed, admin_server.error());
  auto edge_server = startServer("edge", config.listen.edge, tls::serverOnlyTls(config.tls), kEdgeLimits, {&edge});
  if (!edge_server) return fail(kExitStartFailed, edge_server.error());
  const std::array<grpc::Server*, 3> servers{relays_server->server.get(), admin_server->server.get(),
                                             edge_server->server.get()};
  spdlog::info("gRPC: relays at {}, admin at {}, edge at {}", relays_server->address.toString(),
               admin_server->address.toString(), edge_server->address.toString());

  controller.value()->start();
  metrics.setServing();

  if (!options.ready_file.empty()) {
    const nlohmann::json ready = {
        {"pid", ::getpid()},
        {"relays", relays_server->address.toString()},
        {"admin", admin_server->address.toString()},
        {"edge", edge_server->address.toString()},
        {"metrics", metrics_bound ? nlohmann::json(metrics_bound->toString()) : nlohmann::json()},
    };
    if (auto error = writeFileAtomically(options.ready_file, ready.dump() + "\n")) {
      controller.value()->stop();
      for (grpc::Server* server : servers) server->Shutdown(std::chrono::system_clock::now());
      return fail(kExitStartFailed, "ready file: " + *error);
    }
  }
  logEvent(spdlog::level::info, "controller running",
           {{"relays", relays_server->address.toString()}, {"admin", admin_server->address.toString()},
            {"edge", edge_server->address.toString()}, {"identity", tls::describe(config.tls.identity)}});

  int signum = 0;
  for (;;) {
    if (sigwait(&signals, &signum) != 0) continue;
    if (signum != SIGHUP) break;
    reloadConfig(options, config, *controller.value());
  }
  logEvent(spdlog::level::info, "stopping", {{"signal", std::string("SIG") + sigabbrev_np(signum)}});
  metrics.setStopping();
  controller.value()->stop();
  if (!controller.value()->waitForSessionsEnded(kShutdownGrace)) {
    spdlog::warn("some relay sessions did not end in time");
  }
  admin.endFollowers(kShutdownGrace);
  const auto stragglers_deadline = std::chrono::system_clock::now() + kShutdownStragglers;
  for (grpc::Server* server : servers) server->Shutdown(stragglers_deadline);
  for (grpc::Server* server : servers) server->Wait();
  if (auto error = store.value()->flush()) spdlog::error("{}", *error);
  logEvent(spdlog::level::info, "controller stopped", {});
  return kExitOk;
}

}  // namespace
}  // namespace overline::controller

int main(int argc, char** argv) {
  using overline::controller::Options;
  Options options;
  CLI::App app{"Overline controller: learns link quality from relays and pushes their route tables.",
               "overline-controller"};
  app.add_option("--config", options.config_path, "YAML config file (see controller/config/controller_config.h)")
      ->required();
  app.add_option("--ready-file", options.ready_file,
                 "Write this JSON file (atomically) once the gRPC servers and /metrics are up");
  app.add_option("--log-level", options.log_level, "Override the config's log_level")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? overline::controller::kExitOk : overline::controller::kExitUsage;
  }

  const auto config = overline::controller::loadControllerConfig(options.config_path);
  if (!config) {
    std::fprintf(stderr, "overline-controller: %s: %s\n", options.config_path.c_str(), config.error().c_str());
    return overline::controller::kExitUsage;
  }
  return overline::controller::run(config.value(), options);
}
