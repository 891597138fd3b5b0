// overline-bench-loss: Overline next to SRT and RIST over the same impaired
// path and latency budget. For each loss scenario it runs every system in
// turn with the same media (a paced stream of stamped packets from this
// process) and prints one table: delivered within budget, late, latency
// p50/p99 of the delivered packets, and bandwidth overhead on the impaired
// segments. See bench/README.md.
//
// Bounded everywhere: the warm-up waits at most --warmup-timeout-s, the
// measurement sends for --seconds and drains for the budget plus one second,
// every child process is stopped when its row ends (also on errors) and dies
// with the bench (PR_SET_PDEATHSIG), and a watchdog ends the bench if the
// whole run overstays its expected length by far.

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bench/loss_bench_media.h"
#include "bench/loss_bench_path.h"
#include "bench/loss_bench_systems.h"
#include "deploy/localmesh/local_mesh.h"

namespace overline::bench {
namespace {

namespace fs = std::filesystem;

// After the last measured send: the budget, plus this for late arrivals to
// be seen (and counted as late rather than lost).
constexpr DurationUs kLateWindowUs = 1 * kSecond;
// Media flows this long over the impaired path before the measurement, so
// every protocol has RTT and loss samples of it.
constexpr DurationUs kSettleUs = 1 * kSecond;
constexpr DurationUs kFailureCheckUs = 200 * kMillisecond;

struct Options {
  std::vector<std::string> loss_models{"random30", "ge10", "none"};
  std::vector<std::string> systems{"overline", "srt", "srt-hop", "rist", "rist-hop"};
  double seconds = 10;
  int rate_pps = 1000;
  int payload_bytes = 1200;
  int budget_ms = 400;
  int segments = 3;
  int hop_delay_ms = 20;
  int reference_margin_ms = 20;
  double warmup_timeout_s = 20;
  std::uint64_t seed = 1;
  std::string bin_dir;
  std::string srt_live_transmit;
  std::string ristsender;
  std::string ristreceiver;
  bool keep_logs = false;
};

const std::map<std::string, std::string>& systemLabels() {
  static const std::map<std::string, std::string> labels{
      {"overline", "Overline (per-hop recovery)"},
      {"srt", "SRT end to end"},
      {"srt-hop", "SRT per hop"},
      {"rist", "RIST end to end"},
      {"rist-hop", "RIST per hop"},
  };
  return labels;
}

std::string findOnPath(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "/usr/bin");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    const std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

struct Row {
  std::string system;
  std::string error;  // non-empty: no figures
  DeliveryFigures figures;
  std::optional<double> overhead_percent;
  std::uint64_t send_refused = 0;
};

// Sends one packet of `phase` and `sequence` now.
bool sendStamped(SystemUnderTest& system, std::vector<std::byte>& payload, MediaPhase phase,
                 std::uint32_t sequence) {
  writeMediaStamp(payload, {phase, sequence, steadyNowUs()});
  return system.send(payload);
}

// Paced warm-up on the clean path until media comes through (bounded by
// --warmup-timeout-s), then the path is impaired and media keeps flowing for
// kSettleUs, so the protocols measure the new RTT and loss before the
// measured packets start.
std::string warmUp(SystemUnderTest& system, const ArrivalLog& log, const PathSpec& path, const Options& options,
                   std::vector<std::byte>& payload) {
  const DurationUs interval_us = kSecond / options.rate_pps;
  const TimeUs start_us = steadyNowUs();
  const TimeUs deadline_us = start_us + static_cast<DurationUs>(options.warmup_timeout_s * kSecond);
  std::optional<TimeUs> impaired_at_us;
  TimeUs next_check_us = start_us;
  for (std::uint32_t sequence = 0;; ++sequence) {
    const TimeUs due_us = start_us + static_cast<DurationUs>(sequence) * interval_us;
    std::this_thread::sleep_until(std::chrono::steady_clock::time_point(std::chrono::microseconds(due_us)));
    sendStamped(system, payload, MediaPhase::kWarmUp, sequence);
    const TimeUs now_us = steadyNowUs();
    if (!impaired_at_us && log.warmUpArrivals() > 0) {
      if (std::string error = system.impairPath(path); !error.empty()) return error;
      impaired_at_us = now_us;
    }
    if (impaired_at_us && now_us - *impaired_at_us >= kSettleUs) return "";
    if (!impaired_at_us && now_us >= deadline_us) {
      return "no media through the clean path within " + std::to_string(static_cast<int>(options.warmup_timeout_s)) +
             " s";
    }
    if (now_us >= next_check_us) {
      if (std::string failure = system.failure(); !failure.empty()) return failure;
      next_check_us = now_us + kFailureCheckUs;
    }
  }
}

Result<std::unique_ptr<SystemUnderTest>, std::string> startSystem(const std::string& name, const RunSpec& spec,
                                                                  const Tools& tools, ArrivalLog& log,
                                                                  std::string& note) {
  if (name == "overline") return startOverline(tools, spec, log, note);
  if (name == "srt") return startReference(Reference::kSrt, false, tools, spec, log, note);
  if (name == "srt-hop") return startReference(Reference::kSrt, true, tools, spec, log, note);
  if (name == "rist") return startReference(Reference::kRist, false, tools, spec, log, note);
  if (name == "rist-hop") return startReference(Reference::kRist, true, tools, spec, log, note);
  return Err{"unknown system " + name};
}

Row runRow(const std::string& system_name, const RunSpec& spec, const Tools& tools, const Options& options,
           std::string& note) {
  Row row{systemLabels().at(system_name), "", {}, std::nullopt, 0};
  const auto packets = static_cast<std::uint32_t>(options.seconds * options.rate_pps);
  ArrivalLog log(packets);

  auto started = startSystem(system_name, spec, tools, log, note);
  if (!started) {
    row.error = started.error();
    return row;
  }
  SystemUnderTest& system = *started.value();
  std::vector<std::byte> payload(static_cast<std::size_t>(options.payload_bytes));

  if (std::string error = warmUp(system, log, spec.path, options, payload); !error.empty()) {
    row.error = error;
    return row;
  }
  const auto wire_before = system.wireBytes();

  const DurationUs interval_us = kSecond / options.rate_pps;
  const TimeUs start_us = steadyNowUs();
  for (std::uint32_t sequence = 0; sequence < packets; ++sequence) {
    const TimeUs due_us = start_us + static_cast<DurationUs>(sequence) * interval_us;
    std::this_thread::sleep_until(std::chrono::steady_clock::time_point(std::chrono::microseconds(due_us)));
    if (!sendStamped(system, payload, MediaPhase::kMeasured, sequence)) ++row.send_refused;
  }
  const TimeUs drain_until_us = steadyNowUs() + spec.budget_us + kLateWindowUs;
  while (steadyNowUs() < drain_until_us && log.measuredArrivals() < packets) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  // Everything came: still give the protocol its tail (ACKs, keepalives) of
  // the same length, so overhead does not depend on how fast it delivered.
  std::this_thread::sleep_until(std::chrono::steady_clock::time_point(std::chrono::microseconds(drain_until_us)));
  const auto wire_after = system.wireBytes();

  row.figures = log.figures(packets, spec.budget_us);
  if (std::string failure = system.failure(); !failure.empty()) row.error = "during the run: " + failure;
  if (wire_before && wire_after) {
    const double media_bytes =
        static_cast<double>(packets) * options.payload_bytes * static_cast<double>(spec.path.segments);
    row.overhead_percent = 100.0 * (static_cast<double>(*wire_after - *wire_before) / media_bytes - 1.0);
  }
  return row;
}

void printTable(const std::string& scenario, const PathSpec& path, const Options& options,
                const std::vector<Row>& rows, const std::vector<std::string>& notes) {
  const auto packets = static_cast<std::uint64_t>(options.seconds * options.rate_pps);
  std::printf("\n== %s: %s\n", scenario.c_str(), path.describe().c_str());
  std::printf("   media: %llu packets of %d bytes at %d/s, latency budget %d ms\n\n",
              static_cast<unsigned long long>(packets), options.payload_bytes, options.rate_pps, options.budget_ms);
  std::printf("| %-28s | %11s | %6s | %7s | %7s | %10s |\n", "system", "delivered %", "late", "p50 ms", "p99 ms",
              "overhead %");
  std::printf("|%s|%s|%s|%s|%s|%s|\n", std::string(30, '-').c_str(), std::string(13, '-').c_str(),
              std::string(8, '-').c_str(), std::string(9, '-').c_str(), std::string(9, '-').c_str(),
              std::string(12, '-').c_str());
  for (const Row& row : rows) {
    if (!row.error.empty() && row.figures.sent == 0) {
      std::printf("| %-28s | %11s | %6s | %7s | %7s | %10s |\n", row.system.c_str(), "failed", "-", "-", "-", "-");
      continue;
    }
    char overhead[32] = "?";
    if (row.overhead_percent) std::snprintf(overhead, sizeof(overhead), "%.1f", *row.overhead_percent);
    std::printf("| %-28s | %11.2f | %6llu | %7.1f | %7.1f | %10s |\n", row.system.c_str(),
                row.figures.deliveredPercent(), static_cast<unsigned long long>(row.figures.late), row.figures.p50_ms,
                row.figures.p99_ms, overhead);
  }
  std::printf("\n");
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (!notes[i].empty()) std::printf("   %s: %s\n", rows[i].system.c_str(), notes[i].c_str());
    if (!rows[i].error.empty()) std::printf("   %s FAILED: %s\n", rows[i].system.c_str(), rows[i].error.c_str());
    if (rows[i].send_refused > 0) {
      std::printf("   %s: %llu sends refused by the local socket (counted as sent)\n", rows[i].system.c_str(),
                  static_cast<unsigned long long>(rows[i].send_refused));
    }
  }
  std::printf(
      "   delivered %% = distinct packets received within the budget / sent; late = received after it; p50/p99 of "
      "the delivered.\n"
      "   overhead %% = UDP payload bytes the impaired segments took in (both directions, from overline-impair's "
      "byte counters) / (%d x media payload bytes) - 1.\n",
      path.segments);
  std::fflush(stdout);
}

int run(const Options& options) {
  Tools tools{options.bin_dir.empty() ? localmesh::executableDir() : options.bin_dir,
              options.srt_live_transmit.empty() ? findOnPath("srt-live-transmit") : options.srt_live_transmit,
              options.ristsender.empty() ? findOnPath("ristsender") : options.ristsender,
              options.ristreceiver.empty() ? findOnPath("ristreceiver") : options.ristreceiver};
  auto wants = [&](const std::string& prefix) {
    return std::any_of(options.systems.begin(), options.systems.end(),
                       [&](const std::string& s) { return s.rfind(prefix, 0) == 0; });
  };
  std::vector<std::string> missing;
  if (::access((tools.bin_dir + "/overline-impair").c_str(), X_OK) != 0) missing.push_back("overline-impair");
  if (wants("overline") && ::access((tools.bin_dir + "/overline-relay").c_str(), X_OK) != 0) {
    missing.push_back("overline-relay");
  }
  if (wants("srt") && tools.srt_live_transmit.empty()) missing.push_back("srt-live-transmit (Debian srt-tools)");
  if (wants("rist") && (tools.ristsender.empty() || tools.ristreceiver.empty())) {
    missing.push_back("ristsender/ristreceiver (Debian rist-tools)");
  }
  if (!missing.empty()) {
    std::string list;
    for (const auto& m : missing) list += (list.empty() ? "" : ", ") + m;
    std::fprintf(stderr, "overline-bench-loss: not found: %s\n", list.c_str());
    return 2;
  }

  // Watchdog: a hung row must not hang the bench. Per row: warm-up timeout,
  // the run, the drain, and generous start/stop time; then twice that.
  const double row_s = options.warmup_timeout_s + options.seconds + options.budget_ms / 1000.0 + 40;
  const auto limit = std::chrono::duration<double>(2 * row_s * options.systems.size() * options.loss_models.size());
  std::thread([limit] {
    std::this_thread::sleep_for(limit);
    std::fprintf(stderr, "overline-bench-loss: watchdog: still running after %.0f s, exiting\n", limit.count());
    std::_Exit(3);  // children die with us (PR_SET_PDEATHSIG)
  }).detach();

  char dir_template[] = "/tmp/overline-bench-loss-XXXXXX";
  if (::mkdtemp(dir_template) == nullptr) {
    std::perror("overline-bench-loss: mkdtemp");
    return 1;
  }
  const std::string base_dir = dir_template;
  std::printf("overline-bench-loss: logs in %s%s\n", base_dir.c_str(),
              options.keep_logs ? "" : " (removed at the end; --keep-logs keeps them)");

  for (const std::string& scenario : options.loss_models) {
    RunSpec spec;
    spec.path.loss = *parseLossModel(scenario);
    spec.path.segments = options.segments;
    spec.path.one_way_delay_ms = options.hop_delay_ms;
    spec.path.seed = options.seed;
    spec.budget_us = options.budget_ms * kMillisecond;
    spec.reference_margin_ms = options.reference_margin_ms;
    std::vector<Row> rows;
    std::vector<std::string> notes;
    for (const std::string& system : options.systems) {
      spec.work_dir = base_dir + "/" + scenario + "-" + system;
      fs::create_directories(spec.work_dir);
      std::fprintf(stderr, "overline-bench-loss: %s / %s ...\n", scenario.c_str(), system.c_str());
      std::string note;
      rows.push_back(runRow(system, spec, tools, options, note));
      notes.push_back(note);
    }
    printTable(scenario, spec.path, options, rows, notes);
  }
  if (!options.keep_logs) {
    std::error_code ec;
    fs::remove_all(base_dir, ec);
  }
  return 0;
}

}  // namespace
}  // namespace overline::bench

int main(int argc, char** argv) {
  overline::bench::Options options;
  CLI::App app{"Overline vs SRT vs RIST over the same impaired path and latency budget (see bench/README.md)",
               "overline-bench-loss"};
  app.add_option("--loss-model", options.loss_models, "Scenarios to run, in order")
      ->check(CLI::IsMember({"random30", "ge10", "none"}))
      ->capture_default_str();
  app.add_option("--systems", options.systems, "Systems to run, in order")
      ->check(CLI::IsMember({"overline", "srt", "srt-hop", "rist", "rist-hop"}))
      ->capture_default_str();
  app.add_option("--seconds", options.seconds, "Measured seconds of media per row")
      ->check(CLI::Range(0.1, 600.0))
      ->capture_default_str();
  app.add_option("--rate", options.rate_pps, "Media packets per second")->check(CLI::Range(1, 20000))->capture_default_str();
  app.add_option("--payload", options.payload_bytes, "Media payload bytes per packet")
      ->check(CLI::Range(static_cast<int>(overline::bench::kMediaStampBytes), 1200))
      ->capture_default_str();
  app.add_option("--budget-ms", options.budget_ms, "End-to-end latency budget")
      ->check(CLI::Range(10, 2550))
      ->capture_default_str();
  app.add_option("--segments", options.segments, "Impaired segments (relay hops) in series")
      ->check(CLI::Range(1, 8))
      ->capture_default_str();
  app.add_option("--hop-delay-ms", options.hop_delay_ms, "One-way delay of each segment")
      ->check(CLI::Range(0, 1000))
      ->capture_default_str();
  app.add_option("--reference-margin-ms", options.reference_margin_ms,
                 "SRT latency / RIST buffer per tunnel = (budget - path delay) / tunnels - this")
      ->check(CLI::Range(0, 1000))
      ->capture_default_str();
  app.add_option("--warmup-timeout-s", options.warmup_timeout_s, "Give up on a system whose media does not get through")
      ->check(CLI::Range(1.0, 120.0))
      ->capture_default_str();
  app.add_option("--seed", options.seed, "Impairment seed")->capture_default_str();
  app.add_option("--bin-dir", options.bin_dir, "Directory of overline-relay and overline-impair (default: this one's)");
  app.add_option("--srt-live-transmit", options.srt_live_transmit, "Path (default: from PATH)");
  app.add_option("--ristsender", options.ristsender, "Path (default: from PATH)");
  app.add_option("--ristreceiver", options.ristreceiver, "Path (default: from PATH)");
  app.add_flag("--keep-logs", options.keep_logs, "Keep configs and child logs in the temp dir");
  CLI11_PARSE(app, argc, argv);
  return overline::bench::run(options);
}
