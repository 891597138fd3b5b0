// overline-bench-relay-hop: one relay hop measured against this machine's
// UDP limit (issue 14, part 5). bench/README.md says how to run it and how
// to read its figures.
//
// Per run and fanout K (--fanout, default 1 and 10), each target started
// afresh for each phase (relay_hop_target.h):
//   throughput  the reference forwarder (recvmmsg/sendmmsg, no parsing), the
//               relay with mesh keys and the relay in lab mode, in an order
//               that alternates between runs: packets out per second of the
//               hop (relay_hop_phases.h) and its ratio to the forwarder's;
//   latency     the direct path, the forwarder and both relays, paced at 10%
//               of the forwarder's capacity just measured (at most 20,000
//               pkt/s): p50/p99 and the hop's added latency over the direct
//               path (and the relay's over the forwarder).
// --repeat N runs it all N times and summarises min / median / max.
// --idle-streams N measures instead the relay's CPU with N idle streams
// (relay_hop_idle.h).
//
// The load runs on one CPU, the hop on another, where there are two
// (relay_hop_cpu.h). The hop is a child process either way: the relay, or
// this binary with the hidden --run-forwarder (relay_hop_forwarder.h).
// Every loop is bounded in count and time; the hop is stopped and its temp
// dir removed on every exit path but SIGKILL of the bench (the forwarder
// then ends too; a relay does not).

#include <sys/prctl.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <exception>

#include "bench/relay_hop_basics.h"
#include "bench/relay_hop_cpu.h"
#include "bench/relay_hop_forwarder.h"
#include "bench/relay_hop_idle.h"
#include "bench/relay_hop_options.h"
#include "bench/relay_hop_phases.h"
#include "bench/relay_hop_report.h"
#include "bench/relay_hop_results.h"
#include "bench/relay_hop_target.h"

namespace overline::bench {
namespace {

constexpr std::size_t kMeshSecretBytes = 32;

// Odd runs measure in the order given, even runs in reverse, so no target
// always runs right after another.
std::vector<TargetKind> runOrder(int run, std::vector<TargetKind> order) {
  if (run % 2 == 0) std::reverse(order.begin(), order.end());
  return order;
}

Result<ThroughputFigures, std::string> throughputOf(TargetKind target, std::size_t fanout, const Options& options,
                                                    const BenchSetup& setup) {
  auto hop = HopUnderTest::start(target, fanout, setup);
  if (!hop) return Err(hop.error());
  return measureThroughput(**hop, options.packets, options.window,
                           static_cast<DurationUs>(options.throughput_seconds * kSecond));
}

Result<LatencyFigures, std::string> latencyOf(TargetKind target, std::size_t fanout, double rate_pps,
                                              const Options& options, const BenchSetup& setup) {
  auto hop = HopUnderTest::start(target, fanout, setup);
  if (!hop) return Err(hop.error());
  return measureLatency(**hop, options.latency_packets, rate_pps);
}

// The latency phases' rate: latency_load of what the forwarder took in.
Result<double, std::string> latencyRate(const FanoutRun& result, const Options& options) {
  const double capacity_pps = result.throughput.at(TargetKind::kForwarder).input_pps;
  const double rate_pps = std::min(options.latency_load * capacity_pps, options.latency_max_pps);
  if (rate_pps < 1) return Err(std::string("the reference forwarder forwarded nothing"));
  return rate_pps;
}

Result<FanoutRun, std::string> runFanout(int run, std::size_t fanout, const Options& options, const BenchSetup& setup) {
  FanoutRun result;
  result.fanout = fanout;
  result.throughput_order = runOrder(run, {TargetKind::kForwarder, TargetKind::kRelayAuth, TargetKind::kRelayLab});
  result.latency_order =
      runOrder(run, {TargetKind::kDirect, TargetKind::kForwarder, TargetKind::kRelayAuth, TargetKind::kRelayLab});
  for (const TargetKind target : result.throughput_order) {
    auto figures = throughputOf(target, fanout, options, setup);
    if (!figures) return Err(std::string(targetName(target)) + ", throughput: " + figures.error());
    result.throughput[target] = *figures;
  }
  const auto rate_pps = latencyRate(result, options);
  if (!rate_pps) return Err(rate_pps.error());
  result.latency_rate_pps = *rate_pps;
  for (const TargetKind target : result.latency_order) {
    auto figures = latencyOf(target, fanout, *rate_pps, options, setup);
    if (!figures) return Err(std::string(targetName(target)) + ", latency: " + figures.error());
    result.latency[target] = *figures;
  }
  return result;
}

Status runHopBench(const Options& options, const BenchSetup& setup) {
  printPreamble(options, setup.cpus);
  std::vector<RunResult> runs;
  for (int run = 1; run <= options.repeat; ++run) {
    RunResult result{run, {}};
    for (const std::size_t fanout : options.fanouts) {
      auto fanout_run = runFanout(run, fanout, options, setup);
      if (!fanout_run)
        return Err("run " + std::to_string(run) + ", fanout " + std::to_string(fanout) + ", " + fanout_run.error());
      printFanoutRun(run, options, *fanout_run);
      result.fanouts.push_back(*fanout_run);
    }
    runs.push_back(std::move(result));
  }
  printSummary(runs, options);
  if (!options.json_path.empty()) return writeJson(options.json_path, options, setup.cpus, runs);
  return succeeded();
}

Status runIdleBench(const Options& options, const BenchSetup& setup) {
  const auto figures = measureIdleStreams(setup, options.idle_streams, options.idle_seconds * kSecond);
  if (!figures) return Err(figures.error());
  printIdle(*figures, setup.cpus);
  if (!options.json_path.empty()) return writeIdleJson(options.json_path, options, setup.cpus, *figures);
  return succeeded();
}

Result<BenchSetup, std::string> prepare(const Options& options) {
  BenchSetup setup;
  setup.relay_path = options.relay_path;
  setup.payload_bytes = options.payload_bytes;
  setup.cpus = planCpus(options.pin);
  // The main thread is the sender; the service threads it starts inherit its CPU.
  if (auto s = pinCurrentThread(setup.cpus.load_cpu); !s) return Err(s.error());
  // Paced sends sleep to the microsecond, not the default 50 us slack.
  ::prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
  auto secret = randomBytes(kMeshSecretBytes);
  if (!secret) return Err(secret.error());
  setup.mesh_secret = *secret;
  return setup;
}

void addOptions(CLI::App& app, Options& options) {
  app.add_option("--relay", options.relay_path, "overline-relay binary")->capture_default_str();
  app.add_option("--payload-bytes", options.payload_bytes, "DATA payload size")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{0}, wire::kMaxPayloadBytes));
  app.add_option("--packets", options.packets, "DATA sent back to back in each throughput phase")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{1000}, std::size_t{10'000'000}));
  app.add_option("--throughput-seconds", options.throughput_seconds,
                 "longest sending time of a throughput phase, whatever --packets says")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 60.0));
  app.add_option("--window", options.window,
                 "copies in flight through the hop in a throughput phase (DATA sent and not yet at receiver 0, "
                 "times the fanout); 0: no limit, the sender outruns the hop and overflows its socket")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{0}, std::size_t{1'000'000}));
  app.add_option("--latency-packets", options.latency_packets, "DATA paced in each latency phase")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{100}, std::size_t{1'000'000}));
  app.add_option("--latency-max-pps", options.latency_max_pps,
                 "upper bound of the latency phases' rate (otherwise 10% of the forwarder's capacity)")
      ->capture_default_str()
      ->check(CLI::Range(1.0, 1e6));
  app.add_option("--fanout", options.fanouts, "receivers (downstream neighbours) per hop, comma-separated")
      ->delimiter(',')
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{1}, std::size_t{64}));
  app.add_option("--repeat", options.repeat, "run everything this many times")
      ->capture_default_str()
      ->check(CLI::Range(1, 100));
  app.add_option("--idle-streams", options.idle_streams,
                 "instead: the relay's CPU with this many idle streams (0: the hop bench)")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{0}, std::size_t{10'000'000}));
  app.add_option("--idle-seconds", options.idle_seconds, "length of each idle CPU measurement")
      ->capture_default_str()
      ->check(CLI::Range(1, 600));
  app.add_option("--json", options.json_path, "also write every figure to this file as JSON");
  app.add_flag("!--no-pin", options.pin, "do not pin the load and the hop to separate CPUs");
}

// The reference forwarder's child process (relay_hop_forwarder.h): hidden
// options of the same binary.
struct ForwarderChild {
  bool run = false;
  std::vector<std::string> destinations;
  std::string ready_file;
};

void addForwarderChildOptions(CLI::App& app, ForwarderChild& child) {
  app.add_flag("--run-forwarder", child.run)->group("");
  app.add_option("--forward-to", child.destinations)->delimiter(',')->group("");
  app.add_option("--ready-file", child.ready_file)->group("");
}

int runForwarderChild(const ForwarderChild& child) {
  std::vector<Endpoint> destinations;
  for (const std::string& text : child.destinations) {
    const auto endpoint = Endpoint::parse(text);
    if (!endpoint) {
      std::fprintf(stderr, "forwarder: bad destination %s\n", text.c_str());
      return 2;
    }
    destinations.push_back(*endpoint);
  }
  return runReferenceForwarder(destinations, child.ready_file);
}

}  // namespace
}  // namespace overline::bench

int main(int argc, char** argv) {
  using namespace overline::bench;
  Options options;
  options.relay_path = OVERLINE_RELAY_PATH;
  CLI::App app{
      "One relay hop against this machine's UDP limit: packets per second and added latency of overline-relay "
      "(mesh keys on and off) next to a recvmmsg/sendmmsg reference forwarder, for each fanout; or, with "
      "--idle-streams, the relay's CPU with idle streams."};
  addOptions(app, options);
  ForwarderChild forwarder_child;
  addForwarderChildOptions(app, forwarder_child);
  CLI11_PARSE(app, argc, argv);
  if (forwarder_child.run) return runForwarderChild(forwarder_child);
  if (options.relay_path.empty()) {
    std::fprintf(stderr, "no relay binary known at build time; pass --relay PATH\n");
    return 2;
  }
  installInterruptHandlers();
  try {
    auto setup = prepare(options);
    if (!setup) {
      std::fprintf(stderr, "overline-bench-relay-hop: %s\n", setup.error().c_str());
      return 1;
    }
    const Status status = options.idle_streams > 0 ? runIdleBench(options, *setup) : runHopBench(options, *setup);
    if (!status) {
      std::fprintf(stderr, "overline-bench-relay-hop: %s\n", status.error().c_str());
      return interrupted() ? 130 : 1;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "overline-bench-relay-hop: %s\n", e.what());
    return 1;
  }
  return 0;
}
