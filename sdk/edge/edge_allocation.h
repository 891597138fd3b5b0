#pragma once
// Edge allocation for the SDK tools: asks the controller's Edge service
// (proto/overline/v1/edge.proto) which edge relays this client should try,
// with one join token good at all of them. A separate library
// (overline_edge_allocation) so that overline_sdk itself does not depend on
// gRPC: applications may fetch candidates any way they like and hand them to
// pickFastestEdge / Client::connect.

#include <cstdint>
#include <string>
#include <vector>

#include "common/endpoint.h"
#include "common/result.h"
#include "common/types.h"
#include "sdk/client.h"

namespace overline::sdk {

struct EdgeAllocationRequest {
  Endpoint controller;  // the controller's Edge listener (listen.edge)
  // The Edge listener is TLS: the controller's certificate must chain to
  // this CA bundle (PEM; the deployment's ca.pem) and carry `server_name`.
  // Clients present no certificate.
  std::string controller_ca_pem;
  std::string server_name = "overline-controller";
  // The roles the join token grants: at least one (the controller refuses
  // a request for none).
  bool publish = false;
  bool subscribe = false;
  // The streams it grants them on: the stream ids whose top
  // `scope_prefix_bits` bits equal `scope_value`'s; 0 = any stream, 64 =
  // exactly `scope_value` (bits below the prefix must be zero).
  std::uint8_t scope_prefix_bits = 0;
  StreamId scope_value = 0;
  std::string region_hint;  // empty: none
  std::string isp_hint;     // empty: none
  std::uint32_t max_candidates = 0;  // 0: the controller's default
  DurationUs timeout_us = 5 * kSecond;
};

struct AllocatedEdge {
  NodeId node_id = kNoNode;
  EdgeCandidate candidate;  // the line to join and the token (the same for every candidate)
  std::string region;
  std::string isp;
};

struct EdgeAllocation {
  std::vector<AllocatedEdge> edges;  // best first (the controller's order)
  // This client's IPv4 address as the controller saw it, without port (the
  // NAT's public address when there is one). The token is bound to it: the
  // client must reach the edges from the same address.
  std::string observed_address;
  std::int64_t expires_unix_s = 0;  // the token's expiry
};

// Calls Edge.AllocateEdge over TLS. The error is one line: no CA given, the
// gRPC status (a controller that fails verification is UNAVAILABLE with
// gRPC's handshake reason), or a candidate address that does not parse.
Result<EdgeAllocation, std::string> allocateEdges(const EdgeAllocationRequest& request);

}  // namespace overline::sdk
