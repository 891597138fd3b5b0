// overline-relay: the relay process. Loads the YAML config, binds one UDP
// socket per line, runs RelayCore on a libuv loop and serves /metrics. With
// a `controller:` section it also keeps a RelaySession with the controller
// (relay/control) on its own threads; peer lists and route tables reach the
// loop as snapshots, and the relay keeps forwarding on the last ones while
// the controller is away.
//
//   overline-relay --config FILE [--ready-file PATH] [--log-level LEVEL]
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

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>  // also declares stderr_color_mt
#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string>

#include "relay/config/relay_process_config.h"
#include "relay/control/control_bridge.h"
#include "relay/control/control_session.h"
#include "relay/core/relay_core.h"
#include "relay/io/relay_io.h"
#include "relay/io/relay_metrics.h"
#include "relay/io/stop_signals.h"
#include "relay/io/uv_loop.h"

namespace overline::relay {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitStartFailed = 1;
constexpr int kExitUsage = 2;

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

void setUpLogging(const std::string& level) {
  auto logger = spdlog::stderr_color_mt("overline-relay");
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(level));
}

// Writes `text` to `path` via a temp file in the same directory and
// rename(2), so a reader sees either no file or the whole file. Returns the
// error, if any.
std::optional<std::string> writeFileAtomically(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  std::FILE* file = std::fopen(tmp.c_str(), "wb");
  if (file == nullptr) return "cannot create " + tmp + ": " + std::strerror(errno);
  const bool written = std::fwrite(text.data(), 1, text.size(), file) == text.size();
  const int write_errno = errno;
  if (std::fclose(file) != 0 || !written) {
    std::remove(tmp.c_str());
    return "cannot write " + tmp + ": " + std::strerror(written ? errno : write_errno);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int rename_errno = errno;
    std::remove(tmp.c_str());
    return "cannot rename " + tmp + " to " + path + ": " + std::strerror(rename_errno);
  }
  return std::nullopt;
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

int run(const RelayProcessConfig& config, const Options& options) {
  setUpLogging(options.log_level.empty() ? config.log_level : options.log_level);
  spdlog::info("overline-relay {} starting: node {} region {}, {} lines, {} neighbours", OVERLINE_VERSION,
               config.core.node_id, config.region, config.lines.size(), config.core.neighbours.size());

  // Declaration order is the wiring order; destruction runs backwards, so
  // every user goes before what it uses and the loop goes last.
  auto loop = UvLoop::create();
  if (!loop) return fail(kExitStartFailed, loop.error());
  uv_loop_t& uv_loop = loop.value()->get();

  auto io = RelayIo::bind(uv_loop, config.lines, config.socket_buffer_bytes);
  if (!io) return fail(kExitStartFailed, io.error());
  RelayIo& relay_io = *io.value();

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
  } else {
    spdlog::info("metrics disabled");
  }

  relay_io.start(core);
  if (control_session) {
    spdlog::info("controller at {} (first of {})", config.controller->addresses.front(),
                 config.controller->addresses.size());
    control_session->start();
    control_bridge->start(*control_session);
  }
  StopSignals stop_signals(uv_loop, [&](int signum) {
    spdlog::info("received {}, stopping", strsignal(signum));
    // The control threads go first (cancel the stream, join), so nothing is
    // posted to a closed handle; then the loop's own handles.
    if (control_session) {
      control_session->stop();
      control_bridge->close();
    }
    relay_io.stop();
    if (metrics) metrics->stop();
  });

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
  return overline::relay::run(config.value(), options);
}
