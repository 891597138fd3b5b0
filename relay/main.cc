// overline-relay: the relay process. Loads the YAML config, binds one UDP
// socket per line, runs RelayCore on a libuv loop and serves /metrics,
// /healthz and /readyz (relay/io/relay_metrics.h). With
// a `controller:` section it also keeps a RelaySession with the controller
// (relay/control) on its own threads; peer lists and route tables reach the
// loop as snapshots, and the relay keeps forwarding on the last ones while
// the controller is away.
//
//   overline-relay --config FILE [--ready-file PATH] [--log-level LEVEL]
//
// Stopping: SIGINT stops at once. SIGTERM with the controller session up
// drains first: the relay tells the controller (RelayDrain), which routes
// transit around it, keeps forwarding while downstream relays move their
// subscriptions away, and stops once no transit DATA has been forwarded for
// kDrainQuietMs, or after controller.drain_timeout_ms
// (relay/core/drain_monitor.h). A second SIGINT/SIGTERM stops at once. Without
// a controller, or with its session down, SIGTERM stops at once too.
//
// SIGHUP re-reads the config file and applies log_level, probing (all but
// loss_window), join and auth's mesh keys at once, streams and links
// untouched, and controller.tls (files read again) to the next connection
// to the controller; any other
// changed key keeps its running value with a warning naming it
// (relay/config/config_reload.h). A bad file is logged as its one-line error
// and the relay runs on. (--log-level, when given, still wins over the file.)
//
// Exit status: 0 after a clean stop (SIGINT/SIGTERM), 1 when the relay cannot
// start (bind or listen failure, ready file not writable), 2 for a usage or
// config error. A config error is exactly one stderr line:
//   overline-relay: FILE: <key path>: <problem>
//
// --ready-file is written atomically (temp file + rename) once every socket
// is bound and /metrics is up, with the ACTUAL bound addresses:
//   {"node_id":1,"pid":123,"lines":[{"name":"isp-a","address":"127.0.1.1:40001"}],
//    "metrics":"127.0.0.1:9464"}          ("metrics" is null when disabled)
// Test harnesses wait for this file instead of sleeping.

#include <sys/random.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <csignal>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "common/process/log_fields.h"
#include "common/process/process_support.h"
#include "relay/config/config_reload.h"
#include "relay/config/relay_process_config.h"
#include "relay/control/control_bridge.h"
#include "relay/control/control_session.h"
#include "relay/core/drain_monitor.h"
#include "relay/core/relay_core.h"
#include "relay/io/hangup_signal.h"
#include "relay/io/relay_io.h"
#include "relay/io/relay_metrics.h"
#include "relay/io/loop_timer.h"
#include "relay/io/stop_signals.h"
#include "relay/io/uv_loop.h"

namespace overline::relay {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitStartFailed = 1;
constexpr int kExitUsage = 2;

// A draining relay stops once it has forwarded no transit DATA this long:
// downstream relays have moved to their new upstreams (make before break).
constexpr std::uint32_t kDrainQuietMs = 500;
constexpr std::uint32_t kDrainPollMs = 50;

TimeUs loopNowUs() { return static_cast<TimeUs>(uv_hrtime() / 1000); }

struct Options {
  std::string config_path;
  std::string ready_file;  // empty: none
  std::string log_level;   // empty: the config's log_level
};

// Prints a fatal startup error as one line, like the config errors.
int fail(int exit_code, const std::string& message) {
  std::fprintf(stderr, "overline-relay: %s\n", message.c_str());
  return exit_code;
}



std::string readyFileJson(const RelayProcessConfig& config, const RelayIo& io, const RelayMetrics* metrics) {
  nlohmann::json lines = nlohmann::json::array();
  for (std::size_t i = 0; i < io.lineCount(); ++i) {
    const UdpLine& line = io.line(static_cast<LineIndex>(i));
    lines.push_back({{"name", line.name()}, {"address", line.localEndpoint().toString()}});
  }
  nlohmann::json ready = {
      {"node_id", config.core.node_id},
      {"pid", ::getpid()},
      {"lines", lines},
      {"metrics",
       metrics != nullptr ? nlohmann::json(metrics->listenEndpoint().toString()) : nlohmann::json()},
  };
  return ready.dump() + "\n";
}

// The hello's view of this relay: configured public addresses, or the
// addresses the lines are actually bound to.
HelloInfo helloInfo(const RelayProcessConfig& config, const RelayIo& io, const ControllerClientConfig& controller) {
  HelloInfo hello{config.core.node_id, config.region, {}, controller.capacity_bps, OVERLINE_VERSION};
  for (std::size_t i = 0; i < io.lineCount(); ++i) {
    const UdpLine& line = io.line(static_cast<LineIndex>(i));
    const AdvertisedLine& advertised = config.advertised_lines[i];
    hello.lines.push_back(
        {line.name(), advertised.public_address.value_or(line.localEndpoint()), advertised.isp});
  }
  return hello;
}

// Re-reads the config file (SIGHUP) and applies what can change at run
// time to `running`, the core and the I/O. Loop thread.
void reloadConfig(const Options& options, RelayProcessConfig& running, RelayCore& core, RelayIo& io,
                  ControlSession* control_session, RelayMetrics* metrics) {
  auto loaded = loadRelayProcessConfig(options.config_path);
  if (!loaded) {
    logEvent(spdlog::level::err, "config reload failed; running on the previous config",
             {{"file", options.config_path}, {"error", loaded.error()}});
    return;
  }
  ReloadPlan plan = planReload(running, loaded.value());
  for (const std::string& key : plan.kept) {
    logEvent(spdlog::level::warn, "config key cannot change at run time; keeping the running value",
             {{"key", key}});
  }
  if (plan.config.log_level != running.log_level && options.log_level.empty()) {
    spdlog::set_level(spdlog::level::from_str(plan.config.log_level));
  }
  if (!(plan.config.core.probing == running.core.probing)) {
    core.setProbing(plan.config.core.probing);
    io.retime();
  }
  if (!(plan.config.core.join == running.core.join)) core.setJoinPolicy(plan.config.core.join);
  if (!(plan.config.core.auth.mesh_keys == running.core.auth.mesh_keys)) {
    core.setMeshKeys(plan.config.core.auth.mesh_keys);
  }
  if (control_session != nullptr && plan.config.controller && running.controller &&
      !(plan.config.controller->tls == running.controller->tls)) {
    control_session->setTls(plan.config.controller->tls);  // the next connection uses it
    if (metrics != nullptr) metrics->setCertificateExpiry(plan.config.controller->tls.files.not_after_unix_s);
    logEvent(spdlog::level::info, "controller TLS files re-read; the next connection uses them",
             {{"certificate", plan.config.controller->tls.files.cert_file},
              {"not_after_unix_s", plan.config.controller->tls.files.not_after_unix_s}});
  }
  std::string applied;
  for (const std::string& key : plan.applied) applied += (applied.empty() ? "" : ",") + key;
  logEvent(spdlog::level::info, "config reloaded",
           {{"file", options.config_path}, {"applied", applied.empty() ? "none" : applied}});
  running = std::move(plan.config);
}

int run(RelayProcessConfig config, const Options& options) {
  setUpProcessLogging("overline-relay", options.log_level.empty() ? config.log_level : options.log_level,
                      {{"node", config.core.node_id}});
  logEvent(spdlog::level::info, "relay starting",
           {{"version", OVERLINE_VERSION}, {"region", config.region}, {"lines", config.lines.size()},
            {"neighbours", config.core.neighbours.size()}});

  // Declaration order is the wiring order; destruction runs backwards, so
  // every user goes before what it uses and the loop goes last.
  auto loop = UvLoop::create();
  if (!loop) return fail(kExitStartFailed, loop.error());
  uv_loop_t& uv_loop = loop.value()->get();

  auto io = RelayIo::bind(uv_loop, config.lines, config.socket_buffer_bytes);
  if (!io) return fail(kExitStartFailed, io.error());
  RelayIo& relay_io = *io.value();

  // The core has no clock and no random source: the process gives it the
  // client cookie secret and the first packet number (neighbour_auth.h).
  if (::getrandom(config.core.auth.cookie_secret.data(), config.core.auth.cookie_secret.size(), 0) !=
      static_cast<ssize_t>(config.core.auth.cookie_secret.size())) {
    return fail(kExitStartFailed, std::string("getrandom: ") + std::strerror(errno));
  }
  config.core.auth.packet_number_base = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
  if (config.core.auth.insecure_lab_mode) {
    logEvent(spdlog::level::warn, "insecure_lab_mode: relay-to-relay packets are not authenticated", {});
  }
  RelayCore core(config.core, relay_io);

  std::unique_ptr<ControlBridge> control_bridge;
  std::unique_ptr<ControlSession> control_session;
  if (config.controller) {
    control_bridge = std::make_unique<ControlBridge>(uv_loop, core, config.controller->report_interval_ms,
                                                     config.controller->capacity_bps);
    control_session = std::make_unique<ControlSession>(
        *config.controller, helloInfo(config, relay_io, *config.controller),
        static_cast<std::uint32_t>(config.core.probing.interval_us / kMillisecond), *control_bridge);
  }

  std::unique_ptr<RelayMetrics> metrics;
  if (config.metrics_listen) {
    auto started = RelayMetrics::start(uv_loop, *config.metrics_listen, core, relay_io,
                                       {config.core.node_id, config.region, OVERLINE_VERSION},
                                       control_bridge ? &control_bridge->status() : nullptr);
    if (!started) return fail(kExitStartFailed, started.error());
    metrics = std::move(started.value());
    spdlog::info("metrics at http://{}/metrics", metrics->listenEndpoint().toString());
    if (config.controller) metrics->setCertificateExpiry(config.controller->tls.files.not_after_unix_s);
  } else {
    spdlog::info("metrics disabled");
  }

  relay_io.start(core);
  if (control_session) {
    spdlog::info("controller at {} (first of {})", config.controller->addresses.front(),
                 config.controller->addresses.size());
    logEvent(spdlog::level::info, "controller mutual TLS",
             {{"certificate", config.controller->tls.files.cert_file},
              {"not_after_unix_s", config.controller->tls.files.not_after_unix_s},
              {"server_name", config.controller->tls.server_name}});
    control_session->start();
    control_bridge->start(*control_session);
  }
  std::optional<StopSignals> stop_signals;
  std::optional<HangupSignal> hangup;
  std::optional<DrainMonitor> drain;  // set by a SIGTERM that drains
  TimeUs drain_started_us = 0;
  bool stopped = false;
  std::function<void()> check_drain;  // set below: it stops what is declared here
  LoopTimer drain_timer(uv_loop, [&] { check_drain(); });
  const auto stopNow = [&] {
    if (stopped) return;
    stopped = true;
    drain_timer.close();
    stop_signals->close();
    hangup->close();
    // The control threads go first (cancel the stream, join), so nothing is
    // posted to a closed handle; then the loop's own handles.
    if (control_session) {
      control_session->stop();
      control_bridge->close();
    }
    relay_io.stop();
    if (metrics) metrics->stop();
  };
  check_drain = [&] {
    const auto verdict = drain->update(loopNowUs(), core.counters().transit_data_forwarded);
    if (verdict == DrainMonitor::Verdict::kWait) return;
    const TimeUs drained_after_ms = (loopNowUs() - drain_started_us) / kMillisecond;
    if (verdict == DrainMonitor::Verdict::kQuiet) {
      logEvent(spdlog::level::info, "drained; stopping",
               {{"quiet_ms", kDrainQuietMs}, {"after_ms", drained_after_ms}});
    } else {
      logEvent(spdlog::level::warn, "drain timeout: transit still forwarded; stopping",
               {{"after_ms", drained_after_ms}});
    }
    stopNow();
  };
  stop_signals.emplace(
      uv_loop,
      [&](int signum) {
        const bool can_drain = signum == SIGTERM && !drain && control_bridge && control_bridge->status().connected &&
                               config.controller->drain_timeout_ms > 0;
        if (!can_drain) {
          logEvent(spdlog::level::info, "stopping", {{"signal", std::string("SIG") + sigabbrev_np(signum)}});
          stopNow();
          return;
        }
        logEvent(spdlog::level::info, "draining: transit moves away; send the signal again to stop at once",
                 {{"signal", std::string("SIG") + sigabbrev_np(signum)},
                  {"timeout_ms", config.controller->drain_timeout_ms}});
        control_session->requestDrain();
        if (metrics) metrics->setDraining();
        drain_started_us = loopNowUs();
        drain.emplace(drain_started_us, core.counters().transit_data_forwarded, kDrainQuietMs * kMillisecond,
                      static_cast<DurationUs>(config.controller->drain_timeout_ms) * kMillisecond);
        drain_timer.start(kDrainPollMs);
      },
      2);
  // `config` is only read by the handlers above and below, on this thread;
  // reloads replace its changeable keys.
  hangup.emplace(uv_loop, [&] { reloadConfig(options, config, core, relay_io, control_session.get(), metrics.get()); });

  if (!options.ready_file.empty()) {
    if (auto error =
            writeFileAtomically(options.ready_file, readyFileJson(config, relay_io, metrics.get()))) {
      return fail(kExitStartFailed, "ready file: " + *error);
    }
  }
  spdlog::info("relay running");
  loop.value()->run();
  spdlog::info("relay stopped");
  return kExitOk;
}

}  // namespace
}  // namespace overline::relay

int main(int argc, char** argv) {
  using overline::relay::Options;
  Options options;
  CLI::App app{"Overline relay: forwards media packets between SDK clients and neighbour relays.",
               "overline-relay"};
  app.add_option("--config", options.config_path, "YAML config file (see deploy/relay.example.yaml)")
      ->required();
  app.add_option("--ready-file", options.ready_file,
                 "Write this JSON file (atomically) once sockets and /metrics are up");
  app.add_option("--log-level", options.log_level, "Override the config's log_level")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);  // prints help or the usage error
    return rc == 0 ? overline::relay::kExitOk : overline::relay::kExitUsage;
  }

  const auto config = overline::relay::loadRelayProcessConfig(options.config_path);
  if (!config) {
    std::fprintf(stderr, "overline-relay: %s: %s\n", options.config_path.c_str(), config.error().c_str());
    return overline::relay::kExitUsage;
  }
  return overline::relay::run(std::move(config.value()), options);
}
