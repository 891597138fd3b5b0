#pragma once
// Pure conversions between relay_session.proto messages and the relay's own
// types. No I/O, no threads: unit-tested directly.

#include <cstdint>
#include <string>
#include <vector>

#include "common/endpoint.h"
#include "overline/v1/relay_session.pb.h"
#include "relay/control/relay_state_snapshot.h"
#include "relay/core/relay_config.h"

namespace overline::relay {

// One of this relay's lines as the hello announces it.
struct HelloLine {
  std::string name;
  Endpoint public_address;  // where peers send to (the bound address when not configured)
  std::string isp;
};

struct HelloInfo {
  NodeId node_id = kNoNode;
  std::string region;
  std::vector<HelloLine> lines;  // in LineIndex order
  std::uint64_t capacity_bps = 0;
  std::string software_version;
};

v1::RelayMessage makeHello(const HelloInfo& info);

// A report of `state`: every link but UNKNOWN ones (not measured yet),
// sequence `sequence`.
v1::RelayMessage makeReport(const RelayStateSnapshot& state, std::uint64_t sequence);

// The route table a relay applies: destination -> {primary, backup} node
// ids. Routes to `self` or without a primary are skipped.
RouteTablePtr toRouteTable(const v1::RouteTable& table, NodeId self);

// A pushed peer list as the relay applies it.
struct PeerListUpdate {
  std::vector<NeighbourConfig> neighbours;
  // Pushed keys refused (see toNeighbours); each is also in `problems`
  // unless that is full.
  std::uint64_t keys_ignored = 0;
  // One line per refused key, for the log, e.g.
  // "peer 7: key epoch 3 has 15 bytes, not 16; ignored"; at most
  // kMaxListedProblems.
  std::vector<std::string> problems;
};
inline constexpr std::size_t kMaxListedProblems = 16;

// The neighbours to probe, in the peer list's order. `self` is skipped, and
// so is a peer whose line addresses are not all usable yet (unparsable or
// port 0: provisioned with port 0 and not yet announced by its hello); the
// controller sends a new list once it learns them. A repeated node id, or an
// address already used by an earlier peer, skips that peer too (the core
// tells neighbours apart by address).
//
// Each peer's keys go into NeighbourConfig::keys, ascending epoch. The list
// comes from the network, so a key is refused (counted, the rest of the peer
// kept) when its epoch is 0, its key is not 16 bytes, its activation time
// is negative or past year 9999, or its epoch repeats an earlier key of the
// peer (the first stands); of more than kMaxKeyEpochs valid epochs the
// newest are kept. A peer may end up with no key: whether it can then be
// used (mesh keys, lab mode) is for the loop thread to decide
// (ControlBridge).
PeerListUpdate toNeighbours(const v1::PeerList& peers, NodeId self);

}  // namespace overline::relay
