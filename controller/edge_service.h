#pragma once
// The Edge gRPC service (edge.proto) on gRPC's synchronous API; forwards
// to Controller::allocateEdge with the caller's peer address.

#include <grpcpp/grpcpp.h>

#include "controller/controller.h"
#include "overline/v1/edge.grpc.pb.h"

namespace overline::controller {

class EdgeService final : public v1::Edge::Service {
 public:
  // `controller` must outlive the server this service is registered with.
  explicit EdgeService(const Controller& controller) : controller_(controller) {}

  grpc::Status AllocateEdge(grpc::ServerContext* context, const v1::AllocateEdgeRequest* request,
                            v1::AllocateEdgeResponse* response) override;

 private:
  const Controller& controller_;
};

}  // namespace overline::controller
