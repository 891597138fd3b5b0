#pragma once
// The Admin gRPC service (admin.proto) on gRPC's synchronous API: each call
// runs on a gRPC thread-pool thread, is authorised by CallerAuth (reads need
// an operator certificate, writes a write operator's) and forwards to the
// Controller, except
// TailEvents, which reads the store's event log directly and, with
// `follow`, holds its thread while it waits for new events (checking for
// cancellation and endFollowers() every 100 ms).

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <condition_variable>
#include <mutex>

#include "controller/caller_auth.h"
#include "controller/controller.h"
#include "controller/store/controller_store.h"
#include "overline/v1/admin.grpc.pb.h"

namespace overline::controller {

class AdminService final : public v1::Admin::Service {
 public:
  // Both must outlive the server this service is registered with.
  AdminService(Controller& controller, const ControllerStore& store, const CallerAuth& auth)
      : controller_(controller), store_(store), auth_(auth) {}

  grpc::Status ProvisionNode(grpc::ServerContext* context, const v1::ProvisionNodeRequest* request,
                             v1::ProvisionNodeResponse* response) override;
  grpc::Status DrainNode(grpc::ServerContext* context, const v1::DrainNodeRequest* request,
                         v1::DrainNodeResponse* response) override;
  grpc::Status UndrainNode(grpc::ServerContext* context, const v1::UndrainNodeRequest* request,
                           v1::UndrainNodeResponse* response) override;
  grpc::Status RemoveNode(grpc::ServerContext* context, const v1::RemoveNodeRequest* request,
                          v1::RemoveNodeResponse* response) override;
  grpc::Status ListNodes(grpc::ServerContext* context, const v1::ListNodesRequest* request,
                         v1::ListNodesResponse* response) override;
  grpc::Status ListLinks(grpc::ServerContext* context, const v1::ListLinksRequest* request,
                         v1::ListLinksResponse* response) override;
  grpc::Status GetPath(grpc::ServerContext* context, const v1::GetPathRequest* request,
                       v1::GetPathResponse* response) override;
  grpc::Status TailEvents(grpc::ServerContext* context, const v1::TailEventsRequest* request,
                          grpc::ServerWriter<v1::Event>* writer) override;
  grpc::Status RotateKeys(grpc::ServerContext* context, const v1::RotateKeysRequest* request,
                          v1::RotateKeysResponse* response) override;
  grpc::Status ListKeyEpochs(grpc::ServerContext* context, const v1::ListKeyEpochsRequest* request,
                             v1::ListKeyEpochsResponse* response) override;

  // Ends every following TailEvents with UNAVAILABLE (and refuses new
  // ones), waiting up to `timeout` for their handlers to return. Call it
  // before shutting the server down: a synchronous stream that ends while
  // the server shuts down holds the shutdown until its deadline.
  void endFollowers(std::chrono::milliseconds timeout);

 private:
  grpc::Status tail(grpc::ServerContext& context, const v1::TailEventsRequest& request,
                    grpc::ServerWriter<v1::Event>& writer);
  bool ending() const;

  Controller& controller_;
  const ControllerStore& store_;
  const CallerAuth& auth_;

  mutable std::mutex mutex_;
  std::condition_variable follower_left_;
  int followers_ = 0;    // following TailEvents handlers running
  bool ending_ = false;  // endFollowers() was called
};

}  // namespace overline::controller
