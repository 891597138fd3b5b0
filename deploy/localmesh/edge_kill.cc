#include "deploy/localmesh/edge_kill.h"

#include <cstdio>

namespace overline::localmesh {

EdgeKiller::EdgeKiller(LocalMesh& mesh, std::vector<EdgeKill> kills, double duration_s)
    : mesh_(mesh), kills_(std::move(kills)) {
  for (std::size_t i = 0; i < kills_.size(); ++i) {
    at_s_.push_back(duration_s * static_cast<double>(i + 1) / static_cast<double>(kills_.size() + 1));
  }
}

NodeId EdgeKiller::target(EdgeKill kill, const PublisherProcess& publisher,
                          const std::vector<SubscriberProcess>& subscribers) const {
  const NodeId publisher_edge = publisher.edges().current;
  if (kill == EdgeKill::kPublisher) return publisher_edge;
  for (auto it = subscribers.rbegin(); it != subscribers.rend(); ++it) {
    const NodeId edge = it->edges().current;
    if (edge != kNoNode && edge != publisher_edge && mesh_.relayRunning(edge)) return edge;
  }
  return kNoNode;
}

void EdgeKiller::poll(double elapsed_s, const PublisherProcess& publisher,
                      const std::vector<SubscriberProcess>& subscribers) {
  while (done_ < kills_.size() && elapsed_s >= at_s_[done_]) {
    const EdgeKill kill = kills_[done_++];
    const char* whose = kill == EdgeKill::kPublisher ? "the publisher's edge" : "a subscriber's edge";
    const NodeId edge = target(kill, publisher, subscribers);
    if (edge == kNoNode) {
      std::printf("== t=%.1fs: no relay to kill as %s (none known, or every subscriber shares the publisher's)\n",
                  elapsed_s, whose);
      continue;
    }
    std::string subscribers_on_it;
    for (const auto& s : subscribers) {
      if (s.edges().current == edge) subscribers_on_it += (subscribers_on_it.empty() ? "" : ", ") + s.label();
    }
    const std::string error = mesh_.killRelay(edge);
    std::printf("== t=%.1fs: relay %u, %s%s, %s\n", elapsed_s, edge, whose,
                subscribers_on_it.empty() ? "" : (" and that of " + subscribers_on_it).c_str(),
                error.empty() ? "killed with SIGKILL" : ("not killed: " + error).c_str());
  }
  if (!settled_ && done_ == kills_.size() && !kills_.empty() && elapsed_s >= at_s_.back() + kSettleS) {
    settled_.emplace();
    for (const auto& s : subscribers) settled_->push_back(s.latest() ? s.latest()->unique : 0);
  }
}

std::optional<bool> EdgeKiller::receivedAfterKills(std::size_t index, const SubscriberFigures& final_figures) const {
  if (!settled_) return std::nullopt;
  return final_figures.unique > (*settled_)[index];
}

}  // namespace overline::localmesh
