#include "controller/core/link_agreement.h"

#include <algorithm>
#include <map>
#include <tuple>

namespace overline::controller {
namespace {

using Key = std::tuple<NodeId, LineIndex, NodeId, LineIndex>;

int severity(LinkState state) {
  switch (state) {
    case LinkState::kUp: return 0;
    case LinkState::kDegraded: return 1;
    case LinkState::kDown: return 2;
  }
  return 2;
}

}  // namespace

std::vector<LinkMeasurement> agreeOnLinks(const std::vector<LinkMeasurement>& links) {
  std::map<Key, const LinkMeasurement*> by_key;
  for (const LinkMeasurement& link : links) by_key.emplace(Key{link.from, link.from_line, link.to, link.to_line}, &link);
  std::vector<LinkMeasurement> agreed;
  agreed.reserve(links.size());
  for (const LinkMeasurement& link : links) {
    LinkMeasurement merged = link;
    const auto reverse = by_key.find(Key{link.to, link.to_line, link.from, link.from_line});
    if (reverse != by_key.end()) {
      const LinkMeasurement& other = *reverse->second;
      merged.rtt_us = std::max(link.rtt_us, other.rtt_us);
      merged.jitter_us = std::max(link.jitter_us, other.jitter_us);
      merged.loss = std::max(link.loss, other.loss);
      if (severity(other.state) > severity(link.state)) merged.state = other.state;
    }
    agreed.push_back(merged);
  }
  return agreed;
}

}  // namespace overline::controller
