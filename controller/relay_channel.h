#pragma once
// RelayChannel: what the controller may do with one relay's session — queue
// a message, end the session. Implemented by the gRPC session reactor
// (relay_session_service.cc) and by recording fakes in tests.

#include <grpcpp/support/status.h>

#include "overline/v1/relay_session.pb.h"

namespace overline::controller {

class RelayChannel {
 public:
  virtual ~RelayChannel() = default;
  // Queues `message` for the relay, in call order. Never blocks: the
  // controller calls it with its mutex held. Ignored once close() was called.
  virtual void send(v1::ControllerMessage message) = 0;
  // Ends the session with `status` after the queued messages are written.
  // Idempotent: the first status wins.
  virtual void close(const grpc::Status& status) = 0;
};

}  // namespace overline::controller
