#pragma once
// The RelaySession gRPC service (relay_session.proto) on gRPC's callback
// API: one reactor per relay stream, no thread per relay.
//
// The caller's relay certificate is checked (CallerAuth) when the stream
// opens; a refused caller's stream ends with its status at once, and its
// hello is never read. A reactor reads one message at a time and hands it to the Controller on
// the gRPC callback thread that delivered it. Messages to the relay are
// queued by the Controller (RelayChannel::send, any thread) and written one
// at a time in queue order; the queue is unbounded, but the controller only
// queues a few messages per change, each replacing what came before.

#include <grpcpp/grpcpp.h>

#include "controller/caller_auth.h"
#include "controller/controller.h"
#include "overline/v1/relay_session.grpc.pb.h"

namespace overline::controller {

class RelaySessionService final : public v1::RelaySession::CallbackService {
 public:
  // `controller` must outlive the server this service is registered with.
  RelaySessionService(Controller& controller, const CallerAuth& auth) : controller_(controller), auth_(auth) {}

  grpc::ServerBidiReactor<v1::RelayMessage, v1::ControllerMessage>* Session(
      grpc::CallbackServerContext* context) override;

 private:
  Controller& controller_;
  const CallerAuth& auth_;
};

}  // namespace overline::controller
