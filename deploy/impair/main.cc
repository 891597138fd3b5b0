// overline-impair: a UDP impairment proxy. Stands between pairs of
// endpoints (relays, SDK clients), or as a switchboard between every line of
// a set of relays, and delays, jitters, drops, reorders,
// rate-limits and cuts their packets, per direction, as configured and as
// changed at run time by commands on stdin. See README.md.
//
//   overline-impair --config FILE [--ready-file PATH] [--no-stdin] [--log-level LEVEL]
//
// Exit status: 0 after `quit`, SIGINT or SIGTERM; 1 when it cannot start
// (bind failure, ready file not writable); 2 for a usage or config error. A
// config error is exactly one stderr line:
//   overline-impair: FILE: <key path>: <problem>
//
// Commands (control_command.h) are read from stdin, one per line, and each
// is answered with one line on stdout. EOF on stdin does not stop the proxy;
// --no-stdin leaves stdin alone entirely (for systemd or a backgrounded demo).
// Logs go to stderr.
//
// --ready-file is written atomically (temp file + rename) once every socket
// is bound, with the ACTUAL bound addresses:
//   {"pid":123,"links":[{"name":"r1-r2","a_side":"127.0.0.1:40001","b_side":"127.0.0.1:40002"}],
//    "switchboard":[{"name":"r1.l0","real":"127.5.1.1:40000","stand_in":"127.5.201.1:41234"}]}
// ("switchboard" only when the config has one).

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <variant>

#include "common/process/process_support.h"
#include "deploy/impair/control_command.h"
#include "deploy/impair/impair_config.h"
#include "deploy/impair/impair_proxy.h"
#include "deploy/impair/stdin_lines.h"
#include "relay/io/stop_signals.h"
#include "relay/io/uv_loop.h"

namespace overline::impair {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitStartFailed = 1;
constexpr int kExitUsage = 2;

struct Options {
  std::string config_path;
  std::string ready_file;  // empty: none
  bool no_stdin = false;
  std::string log_level = "info";
};

int fail(int exit_code, const std::string& message) {
  std::fprintf(stderr, "overline-impair: %s\n", message.c_str());
  return exit_code;
}



// Runs stdin commands against the proxy and answers each on stdout. Answers
// are written with blocking stdio: a controller that stops reading stdout
// eventually stalls forwarding, which is the controller's bug to fix.
class ControlSession : public StdinLines::Listener {
 public:
  // `proxy` must outlive the session; `stop` ends the process's loop.
  ControlSession(ImpairProxy& proxy, std::function<void()> stop) : proxy_(proxy), stop_(std::move(stop)) {}

  void onLine(std::string_view line) override {
    if (isBlankOrComment(line)) return;
    auto command = parseControlCommand(line);
    if (!command) {
      answer("error: " + command.error());
      return;
    }
    std::visit([this](const auto& c) { handle(c); }, command.value());
  }

  void onLineTooLong() override {
    answer("error: line longer than " + std::to_string(StdinLines::kMaxLineBytes) + " bytes");
  }

  void onEnd(const std::string& error) override {
    if (error.empty()) {
      spdlog::info("stdin closed; no more commands, still forwarding");
    } else {
      spdlog::warn("stdin read failed ({}); no more commands, still forwarding", error);
    }
  }

 private:
  void handle(const QuitCommand& /*command*/) {
    answer("ok");
    spdlog::info("quit command, stopping");
    stop_();
  }
  template <typename Command>
  void handle(const Command& command) {
    answer(proxy_.execute(command));
  }

  static void answer(const std::string& line) {
    std::fwrite(line.data(), 1, line.size(), stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout);
  }

  ImpairProxy& proxy_;
  std::function<void()> stop_;
};

int run(const ImpairConfig& config, const Options& options) {
  setUpProcessLogging("overline-impair", options.log_level);
  spdlog::info("overline-impair starting: {} links, {} switchboard lines, seed {}", config.links.size(),
               config.switchboard ? config.switchboard->lines.size() : 0, config.seed);

  // Declaration order is the wiring order; destruction runs backwards, so
  // every user goes before what it uses and the loop goes last.
  auto loop = relay::UvLoop::create();
  if (!loop) return fail(kExitStartFailed, loop.error());
  uv_loop_t& uv_loop = loop.value()->get();

  auto started = ImpairProxy::start(uv_loop, config);
  if (!started) return fail(kExitStartFailed, started.error());
  ImpairProxy& proxy = *started.value();

  std::unique_ptr<StdinLines> stdin_lines;
  std::optional<relay::StopSignals> stop_signals;
  auto stop = [&] {
    proxy.close();
    if (stdin_lines) stdin_lines->close();
    if (stop_signals) stop_signals->close();
  };
  ControlSession session(proxy, stop);
  stop_signals.emplace(uv_loop, [&](int signum) {
    spdlog::info("received {}, stopping", strsignal(signum));
    stop();
  });
  if (!options.no_stdin) {
    auto opened = StdinLines::open(uv_loop, session);
    if (opened) {
      stdin_lines = std::move(opened.value());
    } else {
      spdlog::info("{}; no commands, still forwarding", opened.error());
    }
  }

  if (!options.ready_file.empty()) {
    if (auto error = writeFileAtomically(options.ready_file, proxy.readyJson() + "\n")) {
      stop();
      return fail(kExitStartFailed, "ready file: " + *error);
    }
  }
  spdlog::info("proxy running: {}", proxy.readyJson());
  loop.value()->run();
  spdlog::info("proxy stopped");
  return kExitOk;
}

}  // namespace
}  // namespace overline::impair

int main(int argc, char** argv) {
  using overline::impair::Options;
  Options options;
  CLI::App app{"Overline impairment proxy: delays, drops and cuts UDP packets between endpoints.",
               "overline-impair"};
  app.add_option("--config", options.config_path, "YAML config file (see deploy/impair/impair.example.yaml)")
      ->required();
  app.add_option("--ready-file", options.ready_file,
                 "Write this JSON file (atomically) with the bound addresses once sockets are up");
  app.add_flag("--no-stdin", options.no_stdin, "Do not read commands from stdin");
  app.add_option("--log-level", options.log_level, "trace, debug, info (default), warn or error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);  // prints help or the usage error
    return rc == 0 ? overline::impair::kExitOk : overline::impair::kExitUsage;
  }

  const auto config = overline::impair::loadImpairConfig(options.config_path);
  if (!config) {
    std::fprintf(stderr, "overline-impair: %s: %s\n", options.config_path.c_str(), config.error().c_str());
    return overline::impair::kExitUsage;
  }
  return overline::impair::run(config.value(), options);
}
