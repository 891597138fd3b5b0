#include "controller/edge_ranking.h"

#include <algorithm>
#include <tuple>

namespace overline::controller {

std::vector<EdgePick> rankEdges(std::span<const EdgeOption> options, std::string_view region_hint,
                                std::string_view isp_hint, double max_load, std::size_t max_count) {
  struct Ranked {
    int match_class;  // 0 region+ISP, 1 region, 2 ISP, 3 neither
    double load;
    EdgePick pick;
  };
  std::vector<Ranked> ranked;
  for (const EdgeOption& option : options) {
    if (!option.connected || option.drained || !(option.load < max_load) || option.lines.empty()) continue;
    const auto isp_line = std::find_if(option.lines.begin(), option.lines.end(), [&](const EdgeLine& line) {
      return !isp_hint.empty() && line.isp == isp_hint;
    });
    const bool same_isp = isp_line != option.lines.end();
    const bool same_region = !region_hint.empty() && option.region == region_hint;
    const int match_class = (same_region ? 0 : 2) + (same_isp ? 0 : 1);
    ranked.push_back({match_class, option.load, {option.node, (same_isp ? *isp_line : option.lines.front()).index}});
  }
  std::sort(ranked.begin(), ranked.end(), [](const Ranked& a, const Ranked& b) {
    return std::tie(a.match_class, a.load, a.pick.node) < std::tie(b.match_class, b.load, b.pick.node);
  });
  std::vector<EdgePick> picks;
  for (std::size_t i = 0; i < ranked.size() && i < max_count; ++i) picks.push_back(ranked[i].pick);
  return picks;
}

}  // namespace overline::controller
