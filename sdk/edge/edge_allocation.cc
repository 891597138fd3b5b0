#include "sdk/edge/edge_allocation.h"

#include "common/tls/grpc_tls.h"

#include <grpcpp/grpcpp.h>

#include <chrono>

#include "overline/v1/edge.grpc.pb.h"

namespace overline::sdk {

Result<EdgeAllocation, std::string> allocateEdges(const EdgeAllocationRequest& request) {
  if (request.controller_ca_pem.empty()) {
    return Err(std::string("no CA to verify the controller with (the deployment's ca.pem)"));
  }
  const auto channel = tls::serverVerifiedChannel(request.controller.toString(),
                                                  tls::TrustFiles{"", request.controller_ca_pem}, request.server_name);
  const auto stub = v1::Edge::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::microseconds(request.timeout_us));
  v1::AllocateEdgeRequest message;
  if (request.publish) message.add_roles(v1::JOIN_ROLE_PUBLISH);
  if (request.subscribe) message.add_roles(v1::JOIN_ROLE_SUBSCRIBE);
  if (request.scope_prefix_bits != 0 || request.scope_value != 0) {  // else unset: any stream
    message.mutable_scope()->set_prefix_bits(request.scope_prefix_bits);
    message.mutable_scope()->set_value(request.scope_value);
  }
  message.set_region_hint(request.region_hint);
  message.set_isp_hint(request.isp_hint);
  message.set_max_candidates(request.max_candidates);
  v1::AllocateEdgeResponse response;
  const grpc::Status status = stub->AllocateEdge(&context, message, &response);
  if (!status.ok()) {
    return Err{"edge allocation at " + request.controller.toString() + " failed: " + status.error_message()};
  }
  EdgeAllocation allocation;
  allocation.observed_address = response.observed_address();
  allocation.expires_unix_s = response.expires_unix_s();
  for (const v1::EdgeCandidate& candidate : response.candidates()) {
    const auto endpoint = Endpoint::parse(candidate.address());
    if (!endpoint || endpoint->address() == 0 || endpoint->port() == 0) {
      return Err{"edge allocation returned node " + std::to_string(candidate.node_id()) + " at unusable address \"" +
                 candidate.address() + "\""};
    }
    allocation.edges.push_back(
        {candidate.node_id(), {*endpoint, candidate.join_token()}, candidate.region(), candidate.isp()});
  }
  return allocation;
}

}  // namespace overline::sdk
