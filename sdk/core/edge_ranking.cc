#include "sdk/core/edge_ranking.h"

#include <algorithm>

namespace overline::sdk {

std::vector<std::size_t> rankEdges(std::span<const std::optional<DurationUs>> min_rtt_us) {
  std::vector<std::size_t> answering;  // controller's order; shrinks as candidates are placed
  std::vector<std::size_t> silent;
  for (std::size_t i = 0; i < min_rtt_us.size(); ++i) (min_rtt_us[i] ? answering : silent).push_back(i);

  std::vector<std::size_t> order;
  order.reserve(min_rtt_us.size());
  while (!answering.empty()) {
    // Whoever is clearly faster than a candidate, the fastest remaining one
    // is too (a smaller RTT only widens both margins): test against it alone.
    const DurationUs fastest_us = *min_rtt_us[*std::min_element(
        answering.begin(), answering.end(),
        [&](std::size_t a, std::size_t b) { return *min_rtt_us[a] < *min_rtt_us[b]; })];
    // Always found: no RTT is clearly faster than itself, so the fastest qualifies.
    const auto next = std::find_if(answering.begin(), answering.end(),
                                   [&](std::size_t i) { return !clearlyFaster(fastest_us, *min_rtt_us[i]); });
    order.push_back(*next);
    answering.erase(next);
  }
  order.insert(order.end(), silent.begin(), silent.end());
  return order;
}

bool overridesController(std::span<const std::optional<DurationUs>> min_rtt_us) {
  const std::vector<std::size_t> order = rankEdges(min_rtt_us);
  // Answering candidates come first; any of them out of the given order is an override.
  for (std::size_t k = 1; k < order.size() && min_rtt_us[order[k]]; ++k) {
    if (order[k] < order[k - 1]) return true;
  }
  return false;
}

}  // namespace overline::sdk
