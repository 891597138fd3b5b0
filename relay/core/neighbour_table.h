#pragma once
// NeighbourTable: this relay's neighbour relays and the links to them.
//
// Every (local line, neighbour line) pair is a link with a LinkMonitor,
// probed every ProbingConfig::interval_us, probes staggered evenly over the
// interval across all links. Each neighbour has a PathSelector choosing the
// active link its traffic takes, and is down when every link to it is DOWN
// (UNKNOWN links are not): the NeighbourHealth the FailoverTable reads.
// A neighbour is recognised by the source endpoint of a packet matching any
// of its configured lines. Everything this table sends to neighbours leaves
// through sendOnLink (Egress tags and counts it).
//
// Pure and single-threaded, like RelayCore, which owns it.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

#include "common/endpoint.h"
#include "common/types.h"
#include "common/wire/packet.h"
#include "relay/core/egress.h"
#include "relay/core/failover_table.h"
#include "relay/core/link_monitor.h"
#include "relay/core/neighbour_auth.h"
#include "relay/core/path_selector.h"
#include "relay/core/relay_config.h"
#include "relay/core/relay_counters.h"

namespace overline::relay {

// One link's state, for metrics and tests.
struct LinkSnapshot {
  NodeId neighbour = kNoNode;
  LineIndex local_line = 0;   // this relay's line
  LineIndex remote_line = 0;  // index into the neighbour's configured lines
  LinkState state = LinkState::kUnknown;
  DurationUs srtt_us = 0;     // 0 before the first RTT sample
  DurationUs jitter_us = 0;
  double loss_ratio = 0;      // over the loss window; 0 before any probe is resolved
  bool active = false;        // carries the traffic to this neighbour
  std::uint64_t probes_sent = 0;  // issued on this link, including any the sink refused
  std::uint64_t acks_received = 0;  // ACKs matching one of its probes (late ones included)
};

// A neighbour relay and the links to it.
struct Neighbour {
  NodeId id = kNoNode;
  std::vector<Endpoint> lines;     // its line addresses, in its line order
  std::vector<LinkMonitor> links;  // index = local line * lines.size() + its line
  PathSelector path;
  bool down = false;               // every link DOWN
  TimeUs up_since_us = 0;          // when it last stopped being down
  // Bytes it may still be sent as retransmissions
  // (RecoveryConfig::retransmit_budget_ratio).
  double retransmit_credit = 0;
};

class NeighbourTable final : public NeighbourHealth {
 public:
  // The RTT assumed toward a neighbour whose active link has no sample yet.
  static constexpr DurationUs kUnmeasuredSrttUs = 100 * kMillisecond;

  // Where a packet from a neighbour's line came from.
  struct Source {
    Neighbour* neighbour = nullptr;
    LineIndex line = 0;  // the neighbour's line
  };

  // `config` (RelayCore's, read for node id, line count, neighbours,
  // probing, path choice and recovery), `auth`, `egress` and `counters`
  // must outlive the table.
  NeighbourTable(const RelayCoreConfig& config, NeighbourAuth& auth, Egress& egress, RelayCounters& counters);
  NeighbourTable(const NeighbourTable&) = delete;
  NeighbourTable& operator=(const NeighbourTable&) = delete;

  // Rebuilds the table from config.neighbours: an entry whose id and lines
  // are unchanged keeps its links, path selector and down state; a new one
  // starts unmeasured, its first probes staggered over one interval. Entries
  // without a usable id, lines or key are left out (invariants), and every
  // kept neighbour's pushed keys go to NeighbourAuth.
  void rebuild();
  // The config's probing settings changed (same loss window): every link takes them.
  void applyProbing();

  // Probes due links, updates link states and path choice. Returns true
  // when some neighbour went down or came back up.
  bool tick(TimeUs now);
  // A PROBE from a neighbour on local `line` from `from`: a same-size PROBE_ACK back.
  void answerProbe(const Neighbour& neighbour, LineIndex line, const Endpoint& from, const wire::Header& probe);
  // A PROBE_ACK that arrived on local `line` from the neighbour's line `remote_line`.
  void onProbeAck(Neighbour& neighbour, LineIndex line, LineIndex remote_line, const wire::Header& ack, TimeUs now);

  std::optional<Source> findByEndpoint(const Endpoint& from);
  Neighbour* find(NodeId id);
  const Neighbour* find(NodeId id) const;
  bool contains(NodeId id) const { return index_.contains(id); }
  std::span<Neighbour> all() { return neighbours_; }
  std::span<const Neighbour> all() const { return neighbours_; }

  // Sends `packet` (untagged) to the neighbour on link `link`; counted under `kind`.
  bool sendOnLink(const Neighbour& neighbour, std::size_t link, std::span<const std::byte> packet, SentKind kind);
  // Soft state (SUBSCRIBE, ANNOUNCE): on the active link, and on every link
  // when the active one loses at least RecoveryConfig::dual_retransmit_loss
  // (losing three refreshes in a row would cut a stream). True if any went.
  bool sendSoftState(const Neighbour& neighbour, std::span<const std::byte> packet);
  // A link besides the active one for copies of small or urgent packets
  // (NACKs, and retransmissions and gap-filling DATA on lossy links):
  // PathSelector::second() when it has one, else the link on the other
  // local AND other remote line than the active one (where there are two),
  // whatever its state: a lossy link keeps flapping DOWN under probing yet
  // delivers most packets, and a copy into a dead one only costs its bytes.
  // nullopt when there is a single link.
  std::optional<std::size_t> duplicateLink(const Neighbour& neighbour) const;
  // The active link's measured loss is at least dual_retransmit_loss.
  bool activeLinkLossy(const Neighbour& neighbour) const;
  // The smoothed RTT of the active link, or kUnmeasuredSrttUs.
  DurationUs srttTo(const Neighbour& neighbour) const;

  // NeighbourHealth, for the failover table.
  bool isDown(NodeId node) const override;
  TimeUs upSince(NodeId node) const override;

  // Every link, neighbour by neighbour in config order, then by local line
  // and neighbour line.
  std::vector<LinkSnapshot> links() const;

 private:
  struct Line {
    std::size_t neighbour = 0;  // index into neighbours_
    LineIndex line = 0;         // the neighbour's line
  };
  void sendProbe(Neighbour& neighbour, std::size_t link, TimeUs now);

  const RelayCoreConfig& config_;
  NeighbourAuth& auth_;
  Egress& egress_;
  RelayCounters& counters_;
  std::vector<Neighbour> neighbours_;                  // config.neighbours order
  std::unordered_map<Endpoint, Line> by_endpoint_;     // every line of every neighbour
  std::unordered_map<NodeId, std::size_t> index_;      // into neighbours_
  std::vector<LinkQuality> link_quality_;  // scratch for PathSelector::update, one neighbour's links
};

}  // namespace overline::relay
