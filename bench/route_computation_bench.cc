// overline-bench-routes: how long computeRoutes() takes for a whole overlay —
// primary and backup next hops for every ordered pair of nodes — on seeded
// random topologies shaped like a global deployment, single thread.
//
// Topology: PoPs scattered around ten real-world region centres; RTT from the
// great-circle distance (fibre at 200 km/ms, 1.3-1.6x path inflation, +1 ms
// access). Each node links to its nearest neighbours plus random far ones
// (the mesh's long-haul links), two lines per node, every line pair measured
// in both directions with its own jitter, loss and state; some nodes loaded,
// a few drained.
//
// Columns, per size:
//   links        directed line-pair measurements; deg: mean links per node
//   median/min   wall time of --repeat full runs (graph build included)
//   cpu ms       median thread CPU time of those runs: on a shared machine
//                the steadier figure
//   hyst cpu     the same with the previous result as input after +-10% RTT
//                noise (hysteresis on: up to two Dijkstra runs per destination)
//   n-disj, overlap, none   backup kinds over all pairs
//   moved, moved-h          primaries whose next hop changed after that noise,
//                           without and with hysteresis
// and, on --sample-pairs random pairs, how often computePathPair() (explicit
// per-pair paths) finds a node-disjoint backup where the hop-by-hop scheme of
// computeRoutes() does not, with the per-pair CPU cost that makes the exact
// scheme unaffordable for all pairs.

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <numbers>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "controller/core/path_pair.h"
#include "controller/core/route_computation.h"

namespace overline::bench {
namespace {

using controller::BackupKind;
using controller::LinkMeasurement;
using controller::LinkState;
using controller::NodeInfo;
using controller::Routes;
using controller::Topology;
using SteadyClock = std::chrono::steady_clock;

struct Options {
  std::vector<std::size_t> sizes{100, 300, 1000};
  int repeat = 5;
  std::size_t neighbours = 30;  // target mean degree
  std::size_t sample_pairs = 1000;
  std::uint64_t seed = 1;
};

struct Region {
  const char* name;
  double lat_deg;
  double lon_deg;
};
constexpr Region kRegions[] = {
    {"us-west", 37.4, -122.0},      {"us-east", 39.0, -77.5},      {"sa-east", -23.5, -46.6},
    {"eu-west", 51.5, -0.1},        {"eu-central", 50.1, 8.7},     {"me-central", 25.2, 55.3},
    {"ap-south", 19.1, 72.9},       {"ap-southeast", 1.35, 103.8}, {"ap-northeast", 35.7, 139.7},
    {"au-southeast", -33.9, 151.2},
};

double greatCircleKm(double lat1, double lon1, double lat2, double lon2) {
  constexpr double kRad = std::numbers::pi / 180.0;
  const double h = std::pow(std::sin((lat2 - lat1) * kRad / 2), 2) +
                   std::cos(lat1 * kRad) * std::cos(lat2 * kRad) *
                       std::pow(std::sin((lon2 - lon1) * kRad / 2), 2);
  return 2 * 6371.0 * std::asin(std::sqrt(h));
}

struct Generated {
  Topology topology;
  double mean_degree = 0;
};

Generated generate(std::size_t n, std::size_t neighbours, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::normal_distribution<double> spread(0.0, 3.0);  // degrees around the region centre
  Generated g;
  std::vector<std::pair<double, double>> at;
  for (std::size_t i = 0; i < n; ++i) {
    const Region& r = kRegions[rng() % std::size(kRegions)];
    NodeInfo node;
    node.id = static_cast<NodeId>(1 + i);
    node.region = r.name;
    node.line_isps = {std::string(r.name) + "-isp-a", std::string(r.name) + "-isp-b"};
    node.capacity_bps = 10'000'000'000;
    node.load = unit(rng);
    node.drained = unit(rng) < 0.02;
    g.topology.nodes.push_back(node);
    at.emplace_back(r.lat_deg + spread(rng), r.lon_deg + spread(rng));
  }
  // Each node picks half the target degree among its nearest nodes and a
  // fifth at random (long haul); links are symmetric and both ends pick, so
  // the mean degree lands near the target (printed as "deg").
  const std::size_t nearest = std::min(n - 1, neighbours / 2);
  const std::size_t far = std::min(n - 1, neighbours / 5);
  std::vector<std::vector<double>> km(n, std::vector<double>(n));
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < n; ++j) {
      km[i][j] = greatCircleKm(at[i].first, at[i].second, at[j].first, at[j].second);
    }
  }
  std::set<std::pair<std::size_t, std::size_t>> links;
  std::vector<std::size_t> others;
  for (std::size_t i = 0; i < n; ++i) {
    others.clear();
    for (std::size_t j = 0; j < n; ++j) {
      if (j != i) others.push_back(j);
    }
    std::partial_sort(others.begin(), others.begin() + static_cast<std::ptrdiff_t>(nearest),
                      others.end(),
                      [&](std::size_t a, std::size_t b) { return km[i][a] < km[i][b]; });
    for (std::size_t k = 0; k < nearest; ++k) links.insert(std::minmax(i, others[k]));
    for (std::size_t k = 0; k < far; ++k) {
      links.insert(std::minmax(i, others[rng() % others.size()]));
    }
  }
  g.mean_degree = 2.0 * static_cast<double>(links.size()) / static_cast<double>(n);
  for (const auto& [a, b] : links) {
    const double base_us = (km[a][b] / 100.0 * (1.3 + 0.3 * unit(rng)) + 1.0) * 1000.0;
    for (const auto& [from, to] : {std::pair{a, b}, std::pair{b, a}}) {
      for (LineIndex i = 0; i < 2; ++i) {
        for (LineIndex j = 0; j < 2; ++j) {
          LinkMeasurement m;
          m.from = g.topology.nodes[from].id;
          m.from_line = i;
          m.to = g.topology.nodes[to].id;
          m.to_line = j;
          m.rtt_us = static_cast<DurationUs>(base_us * (1.0 + 0.15 * unit(rng)));
          m.jitter_us =
              static_cast<DurationUs>(100 + 0.02 * static_cast<double>(m.rtt_us) * unit(rng));
          const double draw = unit(rng);
          m.loss = draw < 0.90   ? 0.002 * unit(rng)
                   : draw < 0.98 ? 0.005 + 0.025 * unit(rng)
                                 : 0.05 + 0.25 * unit(rng);
          const double state = unit(rng);
          m.state = state < 0.01   ? LinkState::kDown
                    : state < 0.03 ? LinkState::kDegraded
                                   : LinkState::kUp;
          g.topology.links.push_back(m);
        }
      }
    }
  }
  return g;
}

// Every RTT times a factor in [0.9, 1.1]: measurement noise between two runs.
Topology withNoise(const Topology& t, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> factor(0.9, 1.1);
  Topology noisy = t;
  for (LinkMeasurement& m : noisy.links) {
    m.rtt_us = static_cast<DurationUs>(static_cast<double>(m.rtt_us) * factor(rng));
  }
  return noisy;
}

double msSince(SteadyClock::time_point start) {
  return std::chrono::duration<double, std::milli>(SteadyClock::now() - start).count();
}

// CPU time of this thread: on a shared machine it moves much less with the
// other load than wall time does.
double threadCpuMs() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 == 1 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

struct Timing {
  double wall_median_ms = 0;
  double wall_min_ms = 0;
  double cpu_median_ms = 0;
};

// Times `repeat` runs of computeRoutes; returns the timing and the last result.
std::pair<Timing, Routes> timeRuns(const Topology& t, const Routes* previous, int repeat) {
  std::vector<double> ms;
  std::vector<double> cpu_ms;
  std::optional<Routes> last;
  for (int i = 0; i < repeat; ++i) {
    const auto start = SteadyClock::now();
    const double cpu_start = threadCpuMs();
    auto routes = controller::computeRoutes(t, controller::RoutePolicy{}, previous);
    cpu_ms.push_back(threadCpuMs() - cpu_start);
    ms.push_back(msSince(start));
    if (!routes.ok()) {
      std::fprintf(stderr, "computeRoutes failed: %s\n", routes.error().detail.c_str());
      std::exit(1);
    }
    last = std::move(routes.value());
  }
  return {Timing{median(ms), *std::min_element(ms.begin(), ms.end()), median(cpu_ms)},
          std::move(*last)};
}

void runSize(std::size_t n, const Options& options) {
  const Generated g = generate(n, options.neighbours, options.seed + n);
  const auto [plain, routes] = timeRuns(g.topology, nullptr, options.repeat);
  const Topology noisy = withNoise(g.topology, options.seed + 2 * n);
  const auto [sticky, sticky_routes] = timeRuns(noisy, &routes, options.repeat);
  const Routes fresh_routes = timeRuns(noisy, nullptr, 1).second;

  std::size_t pairs = 0, node_disjoint = 0, overlapping = 0, moved_sticky = 0, moved_fresh = 0;
  for (NodeId s : routes.nodes()) {
    for (const auto& r : routes.tableFor(s)) {
      ++pairs;
      node_disjoint += r.backup_kind == BackupKind::kNodeDisjoint;
      overlapping += r.backup_kind == BackupKind::kOverlapping;
      const auto a = sticky_routes.route(s, r.destination);
      const auto b = fresh_routes.route(s, r.destination);
      moved_sticky += !a || a->primary.node != r.primary.node;
      moved_fresh += !b || b->primary.node != r.primary.node;
    }
  }
  const auto pct = [](std::size_t part, std::size_t whole) {
    return whole == 0 ? 0.0 : 100.0 * static_cast<double>(part) / static_cast<double>(whole);
  };
  std::printf(
      "%6zu  %7zu  %5.1f  %9.1f  %9.1f  %9.1f  %9.1f  %8zu  %6.1f%%  %6.1f%%  %6.1f%%  %6.2f%%  "
      "%6.2f%%\n",
      n, g.topology.links.size(), g.mean_degree, plain.wall_median_ms, plain.wall_min_ms,
      plain.cpu_median_ms, sticky.cpu_median_ms, pairs, pct(node_disjoint, pairs),
      pct(overlapping, pairs), pct(pairs - node_disjoint - overlapping, pairs),
      pct(moved_fresh, pairs), pct(moved_sticky, pairs));

  // Hop-by-hop backups against explicit per-pair paths, on a sample of pairs.
  const auto graph = controller::RouteGraph::build(g.topology, controller::CostWeights{});
  std::mt19937_64 rng(options.seed);
  std::size_t sampled = 0, exact_disjoint = 0, both_disjoint = 0;
  double cost_ratio_sum = 0;
  const double cpu_start = threadCpuMs();
  for (std::size_t i = 0; i < options.sample_pairs; ++i) {
    const NodeId s = routes.nodes()[rng() % n];
    const NodeId d = routes.nodes()[rng() % n];
    const auto hop = routes.route(s, d);
    if (!hop) continue;
    const auto exact = controller::computePathPair(*graph, s, d);
    ++sampled;
    if (!exact || exact->backup_kind != BackupKind::kNodeDisjoint) continue;
    ++exact_disjoint;
    if (hop->backup_kind == BackupKind::kNodeDisjoint) {
      ++both_disjoint;
      cost_ratio_sum +=
          static_cast<double>(hop->backup.cost_us) / static_cast<double>(exact->backup->cost_us);
    }
  }
  const double per_pair_ms =
      (threadCpuMs() - cpu_start) / static_cast<double>(std::max<std::size_t>(sampled, 1));
  std::printf(
      "        exact per-pair paths on %zu sampled pairs: node-disjoint backup exists for %.1f%%, "
      "hop-by-hop found one for "
      "%.1f%% of those at %.2fx the exact backup's cost; %.3f ms per pair = ~%.0f s for all "
      "pairs\n",
      sampled, pct(exact_disjoint, sampled), pct(both_disjoint, exact_disjoint),
      both_disjoint == 0 ? 0.0 : cost_ratio_sum / static_cast<double>(both_disjoint), per_pair_ms,
      per_pair_ms * static_cast<double>(n) * static_cast<double>(n - 1) / 1000.0);
}

}  // namespace
}  // namespace overline::bench

int main(int argc, char** argv) {
  overline::bench::Options options;
  CLI::App app{
      "Time of computeRoutes() (primary + backup for all pairs) on random global topologies, one "
      "thread."};
  app.add_option("--sizes", options.sizes, "node counts")->capture_default_str()->delimiter(',');
  app.add_option("--repeat", options.repeat, "timed runs per size (median and min printed)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  app.add_option("--neighbours", options.neighbours, "target links per node")
      ->capture_default_str()
      ->check(CLI::Range(2, 1000));
  app.add_option("--sample-pairs", options.sample_pairs,
                 "pairs compared against explicit per-pair paths")
      ->capture_default_str();
  app.add_option("--seed", options.seed, "topology seed")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  std::printf("%6s  %7s  %5s  %9s  %9s  %9s  %9s  %8s  %7s  %7s  %7s  %7s  %7s\n", "nodes", "links",
              "deg", "median ms", "min ms", "cpu ms", "hyst cpu", "pairs", "n-disj", "overlap",
              "none", "moved", "moved-h");
  for (std::size_t n : options.sizes) {
    if (n < 2) continue;
    overline::bench::runSize(n, options);
  }
  return 0;
}
