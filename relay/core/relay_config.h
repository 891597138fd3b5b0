#pragma once
// What relay/core needs to know about its node, neighbours and routes.
// Loaded from YAML by the relay process (relay/config) and built directly by
// unit tests and the simulator.

#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/endpoint.h"
#include "common/types.h"

namespace overline::relay {

struct LineConfig {
  std::string name;  // operator's label, e.g. "isp-a"; bounded metric label
  Endpoint bind;     // local address the line's socket is bound to
};

struct NeighbourConfig {
  NodeId node_id = kNoNode;
  std::vector<Endpoint> lines;  // the neighbour's line addresses, in its line order
};

// Destination relay -> neighbour to forward toward it. Direct neighbours are
// implicit routes. An immutable snapshot: the controller (later) replaces the
// whole table, never edits it in place.
struct RouteTable {
  std::map<NodeId, NodeId> next_hop;
};
using RouteTablePtr = std::shared_ptr<const RouteTable>;

struct SubscriptionTimers {
  // How often a relay (and an SDK client) re-sends SUBSCRIBE upstream.
  DurationUs refresh_interval_us = 500 * kMillisecond;
  // A downstream that has not refreshed for this long is removed.
  DurationUs expiry_us = 1500 * kMillisecond;
};

struct Limits {
  std::size_t max_clients = 10000;                 // SDK sessions on this edge
  std::size_t max_streams = 100000;                // streams with state on this relay
  std::size_t max_subscriptions_per_client = 64;   // streams one SDK client may join
  DurationUs client_expiry_us = 5 * kSecond;       // a client silent this long is dropped
};

struct RelayCoreConfig {
  NodeId node_id = kNoNode;
  std::size_t line_count = 0;  // number of local lines (>= 1; >= 2 in production)
  std::vector<NeighbourConfig> neighbours;
  RouteTablePtr routes = std::make_shared<const RouteTable>();
  SubscriptionTimers subscriptions;
  Limits limits;
};

}  // namespace overline::relay
