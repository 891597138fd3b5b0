#include "relay/core/failover_table.h"

#include <utility>

namespace overline::relay {

void FailoverTable::setRoutes(const RouteTablePtr& routes) {
  std::unordered_map<NodeId, Entry> entries;
  on_backup_count_ = 0;
  if (routes) {
    for (const auto& [destination, route] : routes->entries) {
      Entry entry{route, false};
      if (const auto old = entries_.find(destination); old != entries_.end() && old->second.route == route) {
        entry.on_backup = old->second.on_backup;
      }
      if (entry.on_backup) ++on_backup_count_;
      entries.emplace(destination, entry);
    }
  }
  entries_ = std::move(entries);
}

FailoverTable::Changes FailoverTable::update(const NeighbourHealth& health, TimeUs now) {
  Changes changes;
  for (auto& [destination, entry] : entries_) {
    if (entry.route.backup == kNoNode) continue;
    const bool primary_down = health.isDown(entry.route.primary);
    const bool backup_down = health.isDown(entry.route.backup);
    if (!entry.on_backup) {
      if (primary_down && !backup_down) {
        entry.on_backup = true;
        ++on_backup_count_;
        ++changes.failovers;
      }
    } else if (!primary_down) {
      if (backup_down) {
        entry.on_backup = false;
        --on_backup_count_;
        ++changes.failovers;
      } else if (now - health.upSince(entry.route.primary) >= config_.failback_hold_us) {
        entry.on_backup = false;
        --on_backup_count_;
        ++changes.failbacks;
      }
    }
  }
  return changes;
}

NodeId FailoverTable::nextHop(NodeId destination) const {
  const auto it = entries_.find(destination);
  if (it == entries_.end()) return kNoNode;
  return it->second.on_backup ? it->second.route.backup : it->second.route.primary;
}

NodeId FailoverTable::alternativeHop(NodeId destination) const {
  const auto it = entries_.find(destination);
  if (it == entries_.end() || it->second.route.backup == kNoNode) return kNoNode;
  return it->second.on_backup ? it->second.route.primary : it->second.route.backup;
}

}  // namespace overline::relay
