#include "bench/relay_hop_report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>

namespace overline::bench {
namespace {

using Json = nlohmann::json;

// A hop below this CPU share was held back by something else than its own work.
constexpr double kSaturatedCpuPercent = 90.0;

// Min / median / max (the median of an even count: the mean of the middle two).
struct Spread {
  double min = 0;
  double median = 0;
  double max = 0;
};

Spread spreadOf(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  const double median = n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
  return {values.front(), median, values.back()};
}

// "1,234,567" for large numbers, "12.3" or "0.93" below 100 / 10.
std::string formatNumber(double value, int decimals) {
  if (decimals > 0) {
    char text[32];
    std::snprintf(text, sizeof(text), "%.*f", decimals, value);
    return text;
  }
  const long long rounded = std::llround(value);
  std::string digits = std::to_string(rounded < 0 ? -rounded : rounded);
  for (int i = static_cast<int>(digits.size()) - 3; i > 0; i -= 3) digits.insert(static_cast<std::size_t>(i), ",");
  return rounded < 0 ? "-" + digits : digits;
}

std::string formatOptional(std::optional<double> value, int decimals) {
  return value ? formatNumber(*value, decimals) : "-";
}

std::optional<double> throughputValue(const FanoutRun& r, TargetKind target, double ThroughputFigures::*field) {
  const auto it = r.throughput.find(target);
  if (it == r.throughput.end()) return std::nullopt;
  const double value = it->second.*field;
  if (field == &ThroughputFigures::hop_cpu_percent && value < 0) return std::nullopt;
  if (field == &ThroughputFigures::out_per_cpu_second && value <= 0) return std::nullopt;
  return value;
}

std::optional<double> latencyValue(const FanoutRun& r, TargetKind target, bool p99) {
  const auto it = r.latency.find(target);
  if (it == r.latency.end()) return std::nullopt;
  return static_cast<double>(p99 ? it->second.p99_us : it->second.p50_us);
}

// One row of the summary (and one key of the JSON summary).
struct SummaryFigure {
  TargetKind target;
  std::string name;
  std::string key;
  int decimals;
  std::function<std::optional<double>(const FanoutRun&)> value;
};

std::vector<SummaryFigure> summaryFigures() {
  std::vector<SummaryFigure> figures;
  figures.push_back({TargetKind::kDirect, "latency p50 us", "p50_us", 0,
                     [](const FanoutRun& r) { return latencyValue(r, TargetKind::kDirect, false); }});
  figures.push_back({TargetKind::kDirect, "latency p99 us", "p99_us", 0,
                     [](const FanoutRun& r) { return latencyValue(r, TargetKind::kDirect, true); }});
  for (const TargetKind t : {TargetKind::kForwarder, TargetKind::kRelayAuth, TargetKind::kRelayLab}) {
    figures.push_back({t, "packets out/s", "out_pps", 0,
                       [t](const FanoutRun& r) { return throughputValue(r, t, &ThroughputFigures::out_pps); }});
    figures.push_back({t, "delivered/s", "delivered_pps", 0,
                       [t](const FanoutRun& r) { return throughputValue(r, t, &ThroughputFigures::delivered_pps); }});
    if (t != TargetKind::kForwarder) {
      figures.push_back({t, "out / forwarder", "out_vs_forwarder", 3,
                         [t](const FanoutRun& r) { return r.ratioToForwarder(t, FanoutRun::Rate::kOut); }});
      figures.push_back({t, "delivered / forwarder", "delivered_vs_forwarder", 3,
                         [t](const FanoutRun& r) { return r.ratioToForwarder(t, FanoutRun::Rate::kDelivered); }});
    }
    figures.push_back({t, "hop cpu %", "hop_cpu_percent", 1,
                       [t](const FanoutRun& r) { return throughputValue(r, t, &ThroughputFigures::hop_cpu_percent); }});
    figures.push_back({t, "out per cpu-second", "out_per_cpu_second", 0, [t](const FanoutRun& r) {
                         return throughputValue(r, t, &ThroughputFigures::out_per_cpu_second);
                       }});
    if (t != TargetKind::kForwarder) {
      figures.push_back({t, "per cpu-s / forwarder", "out_per_cpu_second_vs_forwarder", 3,
                         [t](const FanoutRun& r) { return r.ratioToForwarder(t, FanoutRun::Rate::kOutPerCpuSecond); }});
    }
    figures.push_back(
        {t, "latency p50 us", "p50_us", 0, [t](const FanoutRun& r) { return latencyValue(r, t, false); }});
    figures.push_back({t, "latency p99 us", "p99_us", 0, [t](const FanoutRun& r) { return latencyValue(r, t, true); }});
    figures.push_back(
        {t, "added p50 us", "added_p50_us", 0, [t](const FanoutRun& r) { return r.addedLatencyUs(t, false); }});
    figures.push_back(
        {t, "added p99 us", "added_p99_us", 0, [t](const FanoutRun& r) { return r.addedLatencyUs(t, true); }});
    if (t != TargetKind::kForwarder) {
      figures.push_back({t, "over forwarder p50 us", "over_forwarder_p50_us", 0,
                         [t](const FanoutRun& r) { return r.addedLatencyUs(t, false, TargetKind::kForwarder); }});
      figures.push_back({t, "over forwarder p99 us", "over_forwarder_p99_us", 0,
                         [t](const FanoutRun& r) { return r.addedLatencyUs(t, true, TargetKind::kForwarder); }});
    }
  }
  return figures;
}

// The FanoutRun of fanout `fanout` in each run.
std::vector<const FanoutRun*> runsOfFanout(const std::vector<RunResult>& runs, std::size_t fanout) {
  std::vector<const FanoutRun*> found;
  for (const RunResult& run : runs) {
    for (const FanoutRun& f : run.fanouts) {
      if (f.fanout == fanout) found.push_back(&f);
    }
  }
  return found;
}

std::optional<Spread> spreadOver(const std::vector<const FanoutRun*>& runs, const SummaryFigure& figure) {
  std::vector<double> values;
  for (const FanoutRun* r : runs) {
    if (const auto v = figure.value(*r)) values.push_back(*v);
  }
  if (values.empty()) return std::nullopt;
  return spreadOf(std::move(values));
}

std::string orderText(const std::vector<TargetKind>& order) {
  std::string text;
  for (const TargetKind t : order) text += (text.empty() ? "" : ", ") + std::string(targetName(t));
  return text;
}

// Share of the packets out that the receivers' sockets dropped.
std::string dropPercentText(const ThroughputFigures& f) {
  const std::uint64_t out = f.delivered + f.dropped;
  if (out == 0) return "-";
  return formatNumber(100.0 * static_cast<double>(f.dropped) / static_cast<double>(out), 2);
}

void printThroughputNotes(TargetKind target, const ThroughputFigures& f) {
  if (f.rejected > 0) std::printf("  ! %s: %zu DATA failed the receivers' tag check\n", targetName(target), f.rejected);
  if (f.duplicates > 0) std::printf("  %s: %zu duplicate DATA\n", targetName(target), f.duplicates);
  if (!f.gso) std::printf("  %s: the sender could not use UDP GSO (plain sendmmsg)\n", targetName(target));
  if (f.window_stalls > 0) {
    std::printf(
        "  %s: the sender's window saw no progress for 100 ms %zu times (DATA lost, or the hop not "
        "scheduled)\n",
        targetName(target), f.window_stalls);
  }
  if (f.hop_cpu_percent >= 0 && f.hop_cpu_percent < kSaturatedCpuPercent) {
    std::printf(
        "  %s: not saturated (%.0f%% of a core): the load or other processes held it back; its rate is "
        "a lower bound\n",
        targetName(target), f.hop_cpu_percent);
  }
  if (f.fec_packets > 0 || f.nack_packets > 0) {
    std::printf("  %s: the relay also sent %llu FEC packets and %llu NACKs during the throughput phase\n",
                targetName(target), static_cast<unsigned long long>(f.fec_packets),
                static_cast<unsigned long long>(f.nack_packets));
  }
}

Json throughputJson(const ThroughputFigures& f) {
  return {{"sent", f.sent},
          {"offered_pps", f.offered_pps},
          {"delivered", f.delivered},
          {"dropped_by_receivers", f.dropped},
          {"duplicates", f.duplicates},
          {"rejected", f.rejected},
          {"window_s", f.window_s},
          {"out_pps", f.out_pps},
          {"delivered_pps", f.delivered_pps},
          {"input_pps", f.input_pps},
          {"hop_cpu_percent", f.hop_cpu_percent < 0 ? Json() : Json(f.hop_cpu_percent)},
          {"out_per_cpu_second", f.out_per_cpu_second},
          {"fec_packets", f.fec_packets},
          {"nack_packets", f.nack_packets},
          {"window_stalls", f.window_stalls},
          {"sender_gso", f.gso}};
}

Json latencyJson(const LatencyFigures& f) {
  return {{"rate_pps", f.rate_pps}, {"sent", f.sent},     {"received", f.received},
          {"rejected", f.rejected}, {"p50_us", f.p50_us}, {"p99_us", f.p99_us}};
}

Json optionalJson(std::optional<double> value) { return value ? Json(*value) : Json(); }

Json fanoutRunJson(const FanoutRun& r) {
  Json targets = Json::object();
  for (const TargetKind t :
       {TargetKind::kDirect, TargetKind::kForwarder, TargetKind::kRelayAuth, TargetKind::kRelayLab}) {
    Json target = Json::object();
    if (const auto it = r.throughput.find(t); it != r.throughput.end())
      target["throughput"] = throughputJson(it->second);
    if (const auto it = r.latency.find(t); it != r.latency.end()) target["latency"] = latencyJson(it->second);
    if (t == TargetKind::kRelayAuth || t == TargetKind::kRelayLab) {
      target["out_vs_forwarder"] = optionalJson(r.ratioToForwarder(t, FanoutRun::Rate::kOut));
      target["delivered_vs_forwarder"] = optionalJson(r.ratioToForwarder(t, FanoutRun::Rate::kDelivered));
      target["over_forwarder_p50_us"] = optionalJson(r.addedLatencyUs(t, false, TargetKind::kForwarder));
      target["over_forwarder_p99_us"] = optionalJson(r.addedLatencyUs(t, true, TargetKind::kForwarder));
      target["out_per_cpu_second_vs_forwarder"] =
          optionalJson(r.ratioToForwarder(t, FanoutRun::Rate::kOutPerCpuSecond));
    }
    if (t != TargetKind::kDirect) {
      target["added_p50_us"] = optionalJson(r.addedLatencyUs(t, false));
      target["added_p99_us"] = optionalJson(r.addedLatencyUs(t, true));
    }
    targets[targetName(t)] = std::move(target);
  }
  Json throughput_order = Json::array();
  for (const TargetKind t : r.throughput_order) throughput_order.push_back(targetName(t));
  Json latency_order = Json::array();
  for (const TargetKind t : r.latency_order) latency_order.push_back(targetName(t));
  return {{"fanout", r.fanout},
          {"throughput_order", throughput_order},
          {"latency_order", latency_order},
          {"latency_rate_pps", r.latency_rate_pps},
          {"targets", targets}};
}

Json optionsJson(const Options& options, const CpuPlan& cpus) {
  return {{"relay", options.relay_path},
          {"payload_bytes", options.payload_bytes},
          {"packets", options.packets},
          {"throughput_seconds", options.throughput_seconds},
          {"window", options.window},
          {"latency_packets", options.latency_packets},
          {"latency_load", options.latency_load},
          {"latency_max_pps", options.latency_max_pps},
          {"fanouts", options.fanouts},
          {"repeat", options.repeat},
          {"idle_streams", options.idle_streams},
          {"idle_seconds", options.idle_seconds},
          {"pinning", cpus.describe()}};
}

Status writeText(const std::string& path, const Json& json) {
  std::ofstream out(path);
  out << json.dump(2) << "\n";
  if (!out) return Err("cannot write " + path);
  return succeeded();
}

// One cell per column of the per-run table; "-" where a figure does not apply.
std::vector<std::string> runRow(const FanoutRun& r, TargetKind t) {
  const auto tp = r.throughput.find(t);
  const bool has_tp = tp != r.throughput.end();
  const bool relay = t == TargetKind::kRelayAuth || t == TargetKind::kRelayLab;
  const auto ratio = [&](FanoutRun::Rate rate) { return relay ? formatOptional(r.ratioToForwarder(t, rate), 3) : "-"; };
  const auto added = [&](bool p99) {
    return t == TargetKind::kDirect ? "-" : formatOptional(r.addedLatencyUs(t, p99), 0);
  };
  return {targetName(t),
          has_tp ? formatNumber(tp->second.out_pps, 0) : "-",
          has_tp ? formatNumber(tp->second.delivered_pps, 0) : "-",
          has_tp ? dropPercentText(tp->second) : "-",
          formatOptional(throughputValue(r, t, &ThroughputFigures::hop_cpu_percent), 1),
          formatOptional(throughputValue(r, t, &ThroughputFigures::out_per_cpu_second), 0),
          ratio(FanoutRun::Rate::kOut),
          ratio(FanoutRun::Rate::kDelivered),
          ratio(FanoutRun::Rate::kOutPerCpuSecond),
          formatOptional(latencyValue(r, t, false), 0),
          formatOptional(latencyValue(r, t, true), 0),
          added(false),
          added(true)};
}

void printRunRow(const std::vector<std::string>& cells) {
  static constexpr int kWidths[] = {-11, 11, 12, 9, 9, 11, 8, 8, 10, 7, 7, 8, 8};
  for (std::size_t i = 0; i < cells.size(); ++i) std::printf("%s%*s", i == 0 ? "" : " ", kWidths[i], cells[i].c_str());
  std::printf("\n");
}

}  // namespace

std::optional<double> FanoutRun::ratioToForwarder(TargetKind target, Rate rate) const {
  const auto t = throughput.find(target);
  const auto f = throughput.find(TargetKind::kForwarder);
  if (t == throughput.end() || f == throughput.end()) return std::nullopt;
  const auto value = [rate](const ThroughputFigures& figures) {
    switch (rate) {
      case Rate::kOut:
        return figures.out_pps;
      case Rate::kDelivered:
        return figures.delivered_pps;
      case Rate::kOutPerCpuSecond:
        return figures.out_per_cpu_second;
    }
    return 0.0;
  };
  if (value(f->second) <= 0) return std::nullopt;
  return value(t->second) / value(f->second);
}

std::optional<double> FanoutRun::addedLatencyUs(TargetKind target, bool p99, TargetKind reference) const {
  const auto t = latency.find(target);
  const auto d = latency.find(reference);
  if (t == latency.end() || d == latency.end()) return std::nullopt;
  return p99 ? static_cast<double>(t->second.p99_us - d->second.p99_us)
             : static_cast<double>(t->second.p50_us - d->second.p50_us);
}

void printPreamble(const Options& options, const CpuPlan& cpus) {
  std::printf("overline-bench-relay-hop: one hop on loopback, %zu-byte DATA payloads\n", options.payload_bytes);
  std::printf("pinning: %s\n", cpus.describe().c_str());
  std::printf(
      "throughput: %zu DATA back to back per target (at most %.1f s), at most %s copies in flight; latency: "
      "%zu DATA paced at %.0f%% of the forwarder's capacity (at most %s/s)\n",
      options.packets, options.throughput_seconds,
      options.window == 0 ? "any number" : formatNumber(static_cast<double>(options.window), 0).c_str(),
      options.latency_packets, 100.0 * options.latency_load, formatNumber(options.latency_max_pps, 0).c_str());
  std::fflush(stdout);
}

void printFanoutRun(int run, const Options& options, const FanoutRun& r) {
  std::printf("\nrun %d/%d, fanout %zu: throughput order %s; latency at %s pkt/s, order %s\n", run, options.repeat,
              r.fanout, orderText(r.throughput_order).c_str(), formatNumber(r.latency_rate_pps, 0).c_str(),
              orderText(r.latency_order).c_str());
  printRunRow({"target", "out/s", "delivered/s", "rx drop%", "hop cpu%", "out/cpu-s", "out/fwd", "dlv/fwd", "cpu-s/fwd",
               "p50 us", "p99 us", "+p50 us", "+p99 us"});
  for (const TargetKind t :
       {TargetKind::kDirect, TargetKind::kForwarder, TargetKind::kRelayAuth, TargetKind::kRelayLab}) {
    printRunRow(runRow(r, t));
  }
  for (const auto& [t, f] : r.throughput) printThroughputNotes(t, f);
  for (const auto& [t, f] : r.latency) {
    if (f.received < f.sent)
      std::printf("  %s: %zu of %zu latency DATA lost\n", targetName(t), f.sent - f.received, f.sent);
    if (f.rejected > 0)
      std::printf("  ! %s: %zu latency DATA failed the receivers' tag check\n", targetName(t), f.rejected);
  }
  std::fflush(stdout);
}

void printSummary(const std::vector<RunResult>& runs, const Options& options) {
  const std::vector<SummaryFigure> figures = summaryFigures();
  for (const std::size_t fanout : options.fanouts) {
    const std::vector<const FanoutRun*> of_fanout = runsOfFanout(runs, fanout);
    if (of_fanout.empty()) continue;
    std::printf("\nsummary, fanout %zu, %zu run%s: min / median / max\n", fanout, of_fanout.size(),
                of_fanout.size() == 1 ? "" : "s");
    std::printf("%-11s %-22s %12s %12s %12s\n", "target", "figure", "min", "median", "max");
    TargetKind previous = TargetKind::kDirect;
    bool first = true;
    for (const SummaryFigure& figure : figures) {
      const auto spread = spreadOver(of_fanout, figure);
      if (!spread) continue;
      const bool new_target = first || figure.target != previous;
      std::printf("%-11s %-22s %12s %12s %12s\n", new_target ? targetName(figure.target) : "", figure.name.c_str(),
                  formatNumber(spread->min, figure.decimals).c_str(),
                  formatNumber(spread->median, figure.decimals).c_str(),
                  formatNumber(spread->max, figure.decimals).c_str());
      previous = figure.target;
      first = false;
    }
  }
  std::fflush(stdout);
}

Status writeJson(const std::string& path, const Options& options, const CpuPlan& cpus,
                 const std::vector<RunResult>& runs) {
  Json runs_json = Json::array();
  for (const RunResult& run : runs) {
    Json fanouts = Json::array();
    for (const FanoutRun& f : run.fanouts) fanouts.push_back(fanoutRunJson(f));
    runs_json.push_back({{"run", run.run}, {"fanouts", fanouts}});
  }
  Json summary = Json::array();
  const std::vector<SummaryFigure> figures = summaryFigures();
  for (const std::size_t fanout : options.fanouts) {
    const std::vector<const FanoutRun*> of_fanout = runsOfFanout(runs, fanout);
    Json targets = Json::object();
    for (const SummaryFigure& figure : figures) {
      if (const auto spread = spreadOver(of_fanout, figure)) {
        targets[targetName(figure.target)][figure.key] = {
            {"min", spread->min}, {"median", spread->median}, {"max", spread->max}};
      }
    }
    summary.push_back({{"fanout", fanout}, {"runs", of_fanout.size()}, {"targets", targets}});
  }
  return writeText(path, {{"bench", "overline-bench-relay-hop"},
                          {"options", optionsJson(options, cpus)},
                          {"runs", runs_json},
                          {"summary", summary}});
}

void printIdle(const IdleFigures& f, const CpuPlan& cpus) {
  std::printf("overline-bench-relay-hop --idle-streams: relay CPU while nothing flows (mesh keys on)\n");
  std::printf("pinning: %s\n", cpus.describe().c_str());
  std::printf("streams subscribed at the upstream: %s of %s (installed in %.1f s)\n",
              formatNumber(static_cast<double>(f.subscribed), 0).c_str(),
              formatNumber(static_cast<double>(f.streams), 0).c_str(), f.subscribe_seconds);
  std::printf("%-26s %14s\n", "relay state", "cpu % of a core");
  std::printf("%-26s %14.2f\n", "no stream (probes only)", f.baseline_cpu_percent);
  std::printf("%-26s %14.2f\n", (formatNumber(static_cast<double>(f.streams), 0) + " idle streams").c_str(),
              f.idle_cpu_percent);
  std::printf("each measured over %.0f s\n", f.measured_seconds);
  std::fflush(stdout);
}

Status writeIdleJson(const std::string& path, const Options& options, const CpuPlan& cpus, const IdleFigures& f) {
  return writeText(path, {{"bench", "overline-bench-relay-hop"},
                          {"mode", "idle-streams"},
                          {"options", optionsJson(options, cpus)},
                          {"streams", f.streams},
                          {"subscribed", f.subscribed},
                          {"subscribe_seconds", f.subscribe_seconds},
                          {"measured_seconds", f.measured_seconds},
                          {"baseline_cpu_percent", f.baseline_cpu_percent},
                          {"idle_cpu_percent", f.idle_cpu_percent}});
}

}  // namespace overline::bench
