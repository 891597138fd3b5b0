#pragma once
// FailoverTable: the effective next hop toward each destination of a route
// table whose entries name a primary and a backup (relay_config.h). Pure:
// neighbour health and `now` come in; RelayCore moves streams when a next
// hop changes.
//
// A neighbour is "down" when every link to it is DOWN (NeighbourHealth).
// For an entry with a backup:
//  * on the primary: when the primary is down and the backup is not, switch
//    to the backup at once — never waiting for the controller (a failover);
//  * on the backup: return to the primary once it has been continuously not
//    down for failback_hold (a failback), so a flapping primary is not
//    trusted after one good probe; return at once if the backup goes down
//    while the primary is not (counted as a failover: it leaves a dead hop);
//  * both down: stay where we are; moving would only churn subscriptions.
// An entry without backup always uses its primary. A new table keeps the
// state of every entry whose primary and backup are unchanged.

#include <cstddef>
#include <cstdint>
#include <unordered_map>

#include "common/types.h"
#include "relay/core/relay_config.h"

namespace overline::relay {

// What the failover table needs to know about neighbours.
class NeighbourHealth {
 public:
  virtual ~NeighbourHealth() = default;
  // True when every link to `node` is DOWN; true for a node that is not a neighbour.
  virtual bool isDown(NodeId node) const = 0;
  // Since when `node` has been continuously not down. Only asked while !isDown(node).
  virtual TimeUs upSince(NodeId node) const = 0;
};

class FailoverTable {
 public:
  explicit FailoverTable(const FailoverConfig& config) : config_(config) {}

  // Replaces the routes (null: none).
  void setRoutes(const RouteTablePtr& routes);

  struct Changes {
    std::uint64_t failovers = 0;
    std::uint64_t failbacks = 0;
    bool any() const { return failovers + failbacks > 0; }
  };
  // Applies the rules above to every entry with a backup.
  Changes update(const NeighbourHealth& health, TimeUs now);
  // Whether update() can change anything without a neighbour changing state:
  // true while some entry is on its backup (waiting for failback).
  bool waitingForFailback() const { return on_backup_count_ > 0; }

  // The effective next hop toward `destination`, or kNoNode when the table
  // has no entry for it.
  NodeId nextHop(NodeId destination) const;
  // The entry's other next hop: its backup while on the primary, its
  // primary while on the backup; kNoNode without an entry or a backup.
  NodeId alternativeHop(NodeId destination) const;

 private:
  struct Entry {
    RouteEntry route;
    bool on_backup = false;
  };

  FailoverConfig config_;
  std::unordered_map<NodeId, Entry> entries_;
  std::size_t on_backup_count_ = 0;
};

}  // namespace overline::relay
