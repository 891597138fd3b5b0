#include "controller/edge_service.h"

namespace overline::controller {

grpc::Status EdgeService::AllocateEdge(grpc::ServerContext*, const v1::AllocateEdgeRequest* request,
                                       v1::AllocateEdgeResponse* response) {
  return controller_.allocateEdge(*request, *response);
}

}  // namespace overline::controller
