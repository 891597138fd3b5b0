#include "controller/edge_service.h"

namespace overline::controller {

grpc::Status EdgeService::AllocateEdge(grpc::ServerContext* context, const v1::AllocateEdgeRequest* request,
                                       v1::AllocateEdgeResponse* response) {
  return controller_.allocateEdge(*request, context->peer(), *response);
}

}  // namespace overline::controller
