#include "controller/admin_service.h"

#include <algorithm>
#include <chrono>

namespace overline::controller {
namespace {

// Events read from the store per round trip.
constexpr std::size_t kEventBatch = 256;
// How often a following TailEvents checks for cancellation and endFollowers().
constexpr std::chrono::milliseconds kFollowPoll{100};

}  // namespace

grpc::Status AdminService::ProvisionNode(grpc::ServerContext* context, const v1::ProvisionNodeRequest* request,
                                         v1::ProvisionNodeResponse* response) {
  if (grpc::Status denied = auth_.admin(*context->auth_context(), CallerAuth::Access::kWrite); !denied.ok()) return denied;
  return controller_.provisionNode(*request, *response);
}

grpc::Status AdminService::DrainNode(grpc::ServerContext* context, const v1::DrainNodeRequest* request,
                                     v1::DrainNodeResponse* response) {
  if (grpc::Status denied = auth_.admin(*context->auth_context(), CallerAuth::Access::kWrite); !denied.ok()) return denied;
  bool changed = false;
  const grpc::Status status = controller_.setDrained(request->node_id(), true, changed);
  response->set_changed(changed);
  return status;
}

grpc::Status AdminService::UndrainNode(grpc::ServerContext* context, const v1::UndrainNodeRequest* request,
                                       v1::UndrainNodeResponse* response) {
  if (grpc::Status denied = auth_.admin(*context->auth_context(), CallerAuth::Access::kWrite); !denied.ok()) return denied;
  bool changed = false;
  const grpc::Status status = controller_.setDrained(request->node_id(), false, changed);
  response->set_changed(changed);
  return status;
}

grpc::Status AdminService::RemoveNode(grpc::ServerContext* context, const v1::RemoveNodeRequest* request,
                                      v1::RemoveNodeResponse*) {
  if (grpc::Status denied = auth_.admin(*context->auth_context(), CallerAuth::Access::kWrite); !denied.ok()) return denied;
  return controller_.removeNode(request->node_id());
}

grpc::Status AdminService::ListNodes(grpc::ServerContext* context, const v1::ListNodesRequest*,
                                     v1::ListNodesResponse* response) {
  if (grpc::Status denied = auth_.admin(*context->auth_context(), CallerAuth::Access::kRead); !denied.ok()) return denied;
  controller_.listNodes(*response);
  return grpc::Status::OK;
}

grpc::Status AdminService::ListLinks(grpc::ServerContext* context, const v1::ListLinksRequest*,
                                     v1::ListLinksResponse* response) {
  if (grpc::Status denied = auth_.admin(*context->auth_context(), CallerAuth::Access::kRead); !denied.ok()) return denied;
  controller_.listLinks(*response);
  return grpc::Status::OK;
}

grpc::Status AdminService::GetPath(grpc::ServerContext* context, const v1::GetPathRequest* request,
                                   v1::GetPathResponse* response) {
  if (grpc::Status denied = auth_.admin(*context->auth_context(), CallerAuth::Access::kRead); !denied.ok()) return denied;
  return controller_.getPath(*request, *response);
}

grpc::Status AdminService::TailEvents(grpc::ServerContext* context, const v1::TailEventsRequest* request,
                                      grpc::ServerWriter<v1::Event>* writer) {
  if (grpc::Status denied = auth_.admin(*context->auth_context(), CallerAuth::Access::kRead); !denied.ok()) return denied;
  if (!request->follow()) return tail(*context, *request, *writer);
  {
    std::lock_guard lock(mutex_);
    if (ending_) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "controller is shutting down");
    ++followers_;
  }
  const grpc::Status status = tail(*context, *request, *writer);
  {
    std::lock_guard lock(mutex_);
    --followers_;
  }
  follower_left_.notify_all();
  return status;
}

void AdminService::endFollowers(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  ending_ = true;
  follower_left_.wait_for(lock, timeout, [&] { return followers_ == 0; });
}

bool AdminService::ending() const {
  std::lock_guard lock(mutex_);
  return ending_;
}

grpc::Status AdminService::tail(grpc::ServerContext& context, const v1::TailEventsRequest& request,
                                grpc::ServerWriter<v1::Event>& writer) {
  std::uint64_t next = std::max<std::uint64_t>(request.from_sequence(), 1);
  while (!context.IsCancelled()) {
    if (request.follow() && ending()) {
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, "controller is shutting down");
    }
    const auto events = store_.readEvents(next, kEventBatch);
    if (!events) return grpc::Status(grpc::StatusCode::INTERNAL, events.error());
    for (const v1::Event& event : events.value()) {
      if (!writer.Write(event)) return grpc::Status::OK;  // the client went away
      next = event.sequence() + 1;
    }
    if (events->size() == kEventBatch) continue;
    if (!request.follow()) return grpc::Status::OK;
    store_.waitForEvents(next, kFollowPoll);
  }
  return grpc::Status(grpc::StatusCode::CANCELLED, "cancelled by the client");
}

grpc::Status AdminService::RotateKeys(grpc::ServerContext* context, const v1::RotateKeysRequest*,
                                      v1::RotateKeysResponse* response) {
  if (grpc::Status denied = auth_.admin(*context->auth_context(), CallerAuth::Access::kWrite); !denied.ok()) return denied;
  return controller_.rotateKeys(*response);
}

grpc::Status AdminService::ListKeyEpochs(grpc::ServerContext* context, const v1::ListKeyEpochsRequest*,
                                         v1::ListKeyEpochsResponse* response) {
  if (grpc::Status denied = auth_.admin(*context->auth_context(), CallerAuth::Access::kRead); !denied.ok()) return denied;
  controller_.listKeyEpochs(*response);
  return grpc::Status::OK;
}

}  // namespace overline::controller
