#include "controller/relay_session_service.h"

#include <spdlog/spdlog.h>

#include <deque>
#include <mutex>

#include "common/process/log_fields.h"

namespace overline::controller {
namespace {

// One relay's stream. Lifetime: created by Session(), deleted by itself in
// OnDone(), after every operation has completed and the Controller has
// forgotten it (onSessionEnded). Lock order: the Controller's mutex, then
// mutex_ (send() and close() are called under the former); reactions never
// hold mutex_ while calling the Controller. gRPC never runs a bidi reactor's
// OnWriteDone or OnDone inline from StartWrite()/Finish() (they go to its
// executor), so send() and close() cannot re-enter the Controller.
class SessionReactor final : public grpc::ServerBidiReactor<v1::RelayMessage, v1::ControllerMessage>,
                             public RelayChannel {
 public:
  // `certified_node`: the node the caller's certificate names; a refused
  // caller (`refusal` not OK) is finished at once.
  SessionReactor(Controller& controller, std::string peer, Result<NodeId, grpc::Status> certified)
      : controller_(controller), peer_(std::move(peer)), certified_node_(certified ? certified.value() : kNoNode) {
    if (!certified) {
      logEvent(spdlog::level::warn, "relay session refused", {{"peer", peer_}, {"reason", certified.error().error_message()}});
      std::lock_guard lock(mutex_);
      requestFinishLocked(certified.error());
      return;
    }
    StartRead(&incoming_);
  }

  void send(v1::ControllerMessage message) override {
    std::lock_guard lock(mutex_);
    if (finish_requested_) return;
    outbox_.push_back(std::move(message));
    if (!writing_) startWriteLocked();
  }

  void close(const grpc::Status& status) override {
    std::lock_guard lock(mutex_);
    requestFinishLocked(status);
  }

 private:
  void OnReadDone(bool ok) override {
    if (!ok) {
      // The relay closed its side, the connection broke, or Finish() was
      // called: nothing more to read.
      close(grpc::Status::OK);
      return;
    }
    if (node_ == kNoNode) {
      if (!incoming_.has_hello()) {
        close(grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "the first message must be a hello"));
        return;
      }
      auto accepted = controller_.onHello(incoming_.hello(), certified_node_, peer_, *this);
      if (!accepted) {
        close(accepted.error());
        return;
      }
      node_ = accepted.value();
      logEvent(spdlog::level::info, "relay session up", {{"node", node_}, {"peer", peer_}});
    } else if (incoming_.has_report()) {
      controller_.onReport(node_, incoming_.report(), *this);
    } else if (incoming_.has_drain()) {
      controller_.onDrain(node_, *this);
    } else if (incoming_.has_hello()) {
      close(grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "hello sent twice in one session"));
      return;
    }  // else a body this controller does not know (a newer relay): ignored
    std::lock_guard lock(mutex_);
    if (!finish_requested_) StartRead(&incoming_);
  }

  void OnWriteDone(bool ok) override {
    std::lock_guard lock(mutex_);
    writing_ = false;
    outbox_.pop_front();
    // A failed write means the stream is broken: drop the rest, the pending
    // read fails too and finishes the call.
    if (!ok) outbox_.clear();
    if (!outbox_.empty()) {
      startWriteLocked();
    } else if (finish_requested_ && !finished_) {
      finished_ = true;
      Finish(finish_status_);
    }
  }

  void OnDone() override {
    if (node_ != kNoNode) logEvent(spdlog::level::info, "relay session down", {{"node", node_}});
    controller_.onSessionEnded(node_, *this);
    delete this;
  }

  void startWriteLocked() {
    writing_ = true;
    StartWrite(&outbox_.front());
  }

  void requestFinishLocked(const grpc::Status& status) {
    if (finish_requested_) return;
    finish_requested_ = true;
    finish_status_ = status;
    if (!writing_) {
      finished_ = true;
      Finish(finish_status_);
    }
  }

  Controller& controller_;
  const std::string peer_;
  const NodeId certified_node_;
  v1::RelayMessage incoming_;  // reads are one at a time
  NodeId node_ = kNoNode;      // set once the hello is accepted; reaction threads only

  std::mutex mutex_;
  std::deque<v1::ControllerMessage> outbox_;  // front() is being written while writing_
  bool writing_ = false;
  bool finish_requested_ = false;
  bool finished_ = false;
  grpc::Status finish_status_;
};

}  // namespace

grpc::ServerBidiReactor<v1::RelayMessage, v1::ControllerMessage>* RelaySessionService::Session(
    grpc::CallbackServerContext* context) {
  return new SessionReactor(controller_, context->peer(), auth_.relay(*context->auth_context()));
}

}  // namespace overline::controller
