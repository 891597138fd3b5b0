#pragma once
// Output of overline-bench-relay-hop: plain-text tables on stdout (each
// run as it ends, then one summary table per fanout: min / median / max
// over the runs) and, with --json FILE, every figure as JSON.

#include <string>
#include <vector>

#include "bench/relay_hop_cpu.h"
#include "bench/relay_hop_idle.h"
#include "bench/relay_hop_options.h"
#include "bench/relay_hop_results.h"

namespace overline::bench {

void printPreamble(const Options& options, const CpuPlan& cpus);
void printFanoutRun(int run, const Options& options, const FanoutRun& result);
void printSummary(const std::vector<RunResult>& runs, const Options& options);
Status writeJson(const std::string& path, const Options& options, const CpuPlan& cpus,
                 const std::vector<RunResult>& runs);

void printIdle(const IdleFigures& figures, const CpuPlan& cpus);
Status writeIdleJson(const std::string& path, const Options& options, const CpuPlan& cpus, const IdleFigures& figures);

}  // namespace overline::bench
