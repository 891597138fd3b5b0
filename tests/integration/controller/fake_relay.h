#pragma once
// FakeRelay: a relay's control session without the relay — a gRPC client of
// RelaySession that says hello, sends link reports and records everything
// the controller pushes. A reader thread collects messages; tests wait on
// them with deadlines.

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/types.h"
#include "tests/integration/controller/controller_harness.h"
#include "overline/v1/relay_session.grpc.pb.h"

namespace overline::controller::testing {

struct FakeLink {
  NodeId to = kNoNode;
  double rtt_ms = 10;
  v1::LinkState state = v1::LINK_STATE_UP;
  double loss = 0.0;
};

class FakeRelay {
 public:
  // Opens the session to `controller`'s relays listener over mutual TLS
  // with relay `certificate_node`'s certificate (kNoNode: `id`'s), issued
  // into the controller's PKI on first use; hello() sends the first
  // message. Lines are named a, b, ... with addresses
  // 127.0.<id>.<line+1>:<4000+id>.
  FakeRelay(const ControllerProcess& controller, NodeId id, std::string region = "eu", std::size_t lines = 2,
            NodeId certificate_node = kNoNode);
  ~FakeRelay();
  FakeRelay(const FakeRelay&) = delete;
  FakeRelay& operator=(const FakeRelay&) = delete;

  // Sends the hello and waits (5 s) for the HelloAck.
  v1::HelloAck hello();
  // One report; every link on line pair 0 -> 0.
  void report(const std::vector<FakeLink>& links, double load = 0.0);

  // Waits until a pushed RouteTable satisfies `accept`; returns it.
  std::optional<v1::RouteTable> waitForTable(const std::function<bool(const v1::RouteTable&)>& accept,
                                             std::chrono::milliseconds timeout);
  // Waits until a pushed PeerList satisfies `accept`.
  bool waitForPeers(const std::function<bool(const v1::PeerList&)>& accept, std::chrono::milliseconds timeout);
  // Highest route version received so far (0: none).
  std::uint64_t highestVersion() const;
  // Waits until the controller ends the stream; returns its status.
  std::optional<grpc::Status> waitForEnd(std::chrono::milliseconds timeout);

 private:
  void readLoop();

  const NodeId id_;
  const std::string region_;
  const std::size_t lines_;
  std::unique_ptr<v1::RelaySession::Stub> stub_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReaderWriter<v1::RelayMessage, v1::ControllerMessage>> stream_;
  std::uint64_t report_sequence_ = 0;

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<v1::ControllerMessage> received_;
  std::optional<grpc::Status> end_;
  std::thread reader_;  // last: started once everything above exists
};

// Primary and backup next hop toward `destination`; kNoNode when absent.
std::pair<NodeId, NodeId> hopsTo(const v1::RouteTable& table, NodeId destination);

}  // namespace overline::controller::testing
