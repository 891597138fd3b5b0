#include "sdk/edge/edge_allocation.h"

#include <grpcpp/grpcpp.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "overline/v1/edge.grpc.pb.h"
#include "sdk/unique_fd.h"

namespace overline::sdk {

Result<std::vector<AllocatedEdge>, std::string> allocateEdges(const EdgeAllocationRequest& request) {
  const auto channel = grpc::CreateChannel(request.controller.toString(), grpc::InsecureChannelCredentials());
  const auto stub = v1::Edge::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::microseconds(request.timeout_us));
  v1::AllocateEdgeRequest message;
  message.set_client_address(request.client_address);
  message.set_region_hint(request.region_hint);
  message.set_isp_hint(request.isp_hint);
  v1::AllocateEdgeResponse response;
  const grpc::Status status = stub->AllocateEdge(&context, message, &response);
  if (!status.ok()) {
    return Err{"edge allocation at " + request.controller.toString() + " failed: " + status.error_message()};
  }
  std::vector<AllocatedEdge> edges;
  for (const v1::EdgeCandidate& candidate : response.candidates()) {
    const auto endpoint = Endpoint::parse(candidate.address());
    if (!endpoint || endpoint->address() == 0 || endpoint->port() == 0) {
      return Err{"edge allocation returned node " + std::to_string(candidate.node_id()) + " at unusable address \"" +
                 candidate.address() + "\""};
    }
    edges.push_back({candidate.node_id(), {*endpoint, candidate.join_token()}, candidate.region(), candidate.isp()});
  }
  return edges;
}

Result<std::string, std::string> localAddressToward(const Endpoint& destination) {
  UniqueFd socket_fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!socket_fd.valid()) return Err{std::string("socket: ") + std::strerror(errno)};
  const sockaddr_in to = destination.toSockaddr();
  if (::connect(socket_fd.get(), reinterpret_cast<const sockaddr*>(&to), sizeof(to)) != 0) {
    return Err{"no route to " + destination.toString() + ": " + std::strerror(errno)};
  }
  sockaddr_in local{};
  socklen_t local_len = sizeof(local);
  if (::getsockname(socket_fd.get(), reinterpret_cast<sockaddr*>(&local), &local_len) != 0) {
    return Err{std::string("getsockname: ") + std::strerror(errno)};
  }
  const std::string text = Endpoint::fromSockaddr(local).toString();
  return text.substr(0, text.rfind(':'));
}

}  // namespace overline::sdk
