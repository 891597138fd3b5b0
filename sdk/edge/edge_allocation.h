#pragma once
// Edge allocation for the SDK tools: asks the controller's Edge service
// (proto/overline/v1/edge.proto) which edge relays this client should try.
// A separate library (overline_edge_allocation) so that overline_sdk itself
// does not depend on gRPC: applications may fetch candidates any way they
// like and hand them to pickFastestEdge / Client::connect.

#include <string>
#include <vector>

#include "common/endpoint.h"
#include "common/result.h"
#include "common/types.h"
#include "sdk/client.h"

namespace overline::sdk {

struct EdgeAllocationRequest {
  Endpoint controller;         // the controller's gRPC address
  std::string client_address;  // IPv4 without port; the join tokens bind it
  std::string region_hint;     // empty: none
  std::string isp_hint;        // empty: none
  DurationUs timeout_us = 5 * kSecond;
};

struct AllocatedEdge {
  NodeId node_id = kNoNode;
  EdgeCandidate candidate;  // the line to join and its token
  std::string region;
  std::string isp;
};

// Calls Edge.AllocateEdge; returns the candidates best first (the
// controller's order). The error is one line: the gRPC status, or a
// candidate address that does not parse.
Result<std::vector<AllocatedEdge>, std::string> allocateEdges(const EdgeAllocationRequest& request);

// The local IPv4 address this host uses to reach `destination` (a UDP
// connect() without sending anything), e.g. "127.0.0.1" toward a loopback
// controller. It is the address edges see unless a NAT sits in between, in
// which case the controller-signed token will not match: pass the public
// address instead.
Result<std::string, std::string> localAddressToward(const Endpoint& destination);

}  // namespace overline::sdk
