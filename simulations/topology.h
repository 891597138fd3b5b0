#pragma once
// Topology: a scenario's relays, links and routes, turned into one
// RelayCoreConfig per relay and added to a SimNetwork.
//
// A link joins two relays: each lists the other as a neighbour with all of
// its lines (relayLineEndpoint addresses), so every line pair between them is
// a path the relays may probe and choose. Settings not named here (timers,
// limits, probing, path choice, failover) come from Topology::base for every
// relay, i.e. the core's defaults unless the scenario changes them.

#include <cstddef>
#include <optional>
#include <vector>

#include "common/impairment/impairment_settings.h"
#include "common/types.h"
#include "relay/core/relay_config.h"
#include "simulations/sim_network.h"

namespace overline::sim {

struct NodeSpec {
  NodeId id = kNoNode;  // 1..255 (the simulator's addressing)
  std::size_t line_count = 2;
};

struct LinkSpec {
  NodeId a = kNoNode;
  NodeId b = kNoNode;
  // Both directions of every line pair between a and b; nullopt keeps the
  // network's default path.
  std::optional<impairment::ImpairmentSettings> settings{};
};

// At relay `at`, traffic toward `destination` goes to `primary`, or to
// `backup` (kNoNode: none) when the relay fails over.
struct RouteSpec {
  NodeId at = kNoNode;
  NodeId destination = kNoNode;
  NodeId primary = kNoNode;
  NodeId backup = kNoNode;
};

// Every member has an initializer, so designated initializers may name only
// what a scenario needs: Topology{.nodes = {{.id = 1}}}.
struct Topology {
  std::vector<NodeSpec> nodes{};
  std::vector<LinkSpec> links{};
  std::vector<RouteSpec> routes{};
  // Template for every relay; node_id, line_count, neighbours and routes are
  // filled in from the lists above.
  relay::RelayCoreConfig base{};
};

// The route table of relay `node` (its RouteSpecs).
relay::RouteTablePtr routeTableFor(const Topology& topology, NodeId node);
// The full core config of relay `node`, which must be in topology.nodes.
relay::RelayCoreConfig relayConfigFor(const Topology& topology, NodeId node);
// Adds every relay to `network` and applies each link's settings.
void addTopology(SimNetwork& network, const Topology& topology);

}  // namespace overline::sim
