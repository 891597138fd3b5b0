#pragma once
// overline-demo --kill-edge: SIGKILLs the publisher's edge relay and/or a
// subscriber's edge relay mid-stream, as a crash (no goodbye to anyone),
// and tells afterwards, per subscriber, whether it was receiving again.
// Which relay is whose edge comes from the tools' own output (EdgeLog: the
// edge they joined, and where they moved since), not from how they were
// started, so it holds for edges the controller allocated too.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "deploy/localmesh/local_mesh.h"
#include "deploy/localmesh/media_clients.h"

namespace overline::localmesh {

enum class EdgeKill { kPublisher, kSubscriber };

class EdgeKiller {
 public:
  // A killed relay's packets are all delivered or lost a second after the
  // kill: the longest one-way delay (kRegionDelays) is far below that.
  static constexpr double kSettleS = 1.0;

  // Kill i of n falls at (i + 1) / (n + 1) of `duration_s`, the stream time
  // left at elapsed 0 (poll's clock). `mesh` outlives the killer.
  EdgeKiller(LocalMesh& mesh, std::vector<EdgeKill> kills, double duration_s);

  // Call about once a second with the seconds elapsed: SIGKILLs the relays
  // due (printing which, and whose edge it was), and a second after the
  // last kill notes how many packets each subscriber had.
  // The subscriber whose edge dies is the last one whose current edge is
  // running and is not the publisher's (so the two kills hit two relays).
  void poll(double elapsed_s, const PublisherProcess& publisher, const std::vector<SubscriberProcess>& subscribers);

  // Whether subscriber `index` received packets after the last kill had
  // settled (its count in `final_figures` beyond the one noted then);
  // nullopt when the stream ended before that moment.
  std::optional<bool> receivedAfterKills(std::size_t index, const SubscriberFigures& final_figures) const;

 private:
  // The relay that kill `kill` targets now; kNoNode when none qualifies.
  NodeId target(EdgeKill kill, const PublisherProcess& publisher,
                const std::vector<SubscriberProcess>& subscribers) const;

  LocalMesh& mesh_;
  std::vector<EdgeKill> kills_;
  std::vector<double> at_s_;  // when each kill falls, on poll's clock
  std::size_t done_ = 0;      // kills carried out (or skipped) so far
  // Unique packets per subscriber kSettleS after the last kill.
  std::optional<std::vector<std::uint64_t>> settled_;
};

}  // namespace overline::localmesh
