#pragma once
// FakeEdge: a stand-in edge relay for SDK integration tests, on
// 127.0.0.1:<ephemeral port>, served by its own thread.
//
// It records every datagram it receives. It runs the join as a relay does
// (CHALLENGE with a cookie, then WELCOME with a session key; relay/core's
// ClientGate), drops tagged packets whose tag does not verify (badTags()),
// answers keepalive HELLOs with a header-only HELLO carrying its node id
// (unless told to stay silent: then it answers nothing at all), and behaves
// as a one-node relay for DATA: SUBSCRIBE/UNSUBSCRIBE maintain a stream's
// subscriber set and DATA is forwarded to every subscriber (including the
// publisher itself) with sender_node_id rewritten. Nothing expires.
// setDown(true) makes it a dead edge: it ignores everything until setDown(false).

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <thread>
#include <vector>

#include "common/endpoint.h"
#include "common/types.h"
#include "common/wire/packet.h"
#include "common/crypto/gmac.h"
#include "relay/core/client_gate.h"
#include <atomic>

namespace overline::sdk::testing {

struct ReceivedPacket {
  Endpoint from;
  wire::Header header;
  std::vector<std::byte> payload;
};

class FakeEdge {
 public:
  struct Options {
    NodeId node_id = 42;
    bool answer_hello = true;
  };

  FakeEdge() : FakeEdge(Options{}) {}
  explicit FakeEdge(Options options);
  ~FakeEdge();
  FakeEdge(const FakeEdge&) = delete;
  FakeEdge& operator=(const FakeEdge&) = delete;

  Endpoint endpoint() const { return endpoint_; }
  NodeId nodeId() const { return options_.node_id; }

  // Waits until `done(received packets)` holds, re-checked on every new
  // packet; false when `timeout` passes first.
  bool waitFor(const std::function<bool(const std::vector<ReceivedPacket>&)>& done,
               std::chrono::milliseconds timeout);
  // Waits until at least `n` packets of `type` (for `stream`, if given) arrived.
  bool waitForCount(wire::PacketType type, std::size_t n, std::chrono::milliseconds timeout,
                    std::optional<StreamId> stream = std::nullopt);
  std::size_t count(wire::PacketType type, std::optional<StreamId> stream = std::nullopt);
  // Tagged packets dropped because their tag did not verify (edge thread's count).
  std::size_t badTags() const { return bad_tags_.load(); }
  // Down: every datagram is ignored (not recorded, not answered). Any thread.
  void setDown(bool down) { down_ = down; }

  // Raw (a test playing an attacker with the edge's address).
  void sendTo(const Endpoint& to, std::span<const std::byte> datagram);
  void sendTo(const Endpoint& to, const wire::Header& header, std::span<const std::byte> payload = {});
  // To a joined client, tagged with its session key as a relay does; nothing
  // to an endpoint that has not joined. Any thread.
  void sendTagged(const Endpoint& to, const wire::Header& header, std::span<const std::byte> payload = {});

 private:
  void run();
  void onDatagram(const Endpoint& from, std::span<const std::byte> datagram);
  void answerJoin(const Endpoint& from, const wire::PacketView& hello);

  const Options options_;
  int fd_ = -1;
  int wake_fd_ = -1;
  Endpoint endpoint_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<ReceivedPacket> received_;
  std::map<StreamId, std::set<Endpoint>> subscribers_;  // edge thread only
  relay::ClientGate gate_{relay::CookieSecret{1, 2, 3}};  // edge thread only
  struct Session {
    crypto::Gmac key;
    std::uint64_t next_packet_number = 1;  // of the edge's packets to the client
  };
  std::mutex sessions_mutex_;              // guards sessions_ (the edge thread and sendTagged callers)
  std::map<Endpoint, Session> sessions_;  // joined clients
  std::atomic<std::size_t> bad_tags_{0};
  std::atomic<bool> down_{false};
  std::thread thread_;
};

}  // namespace overline::sdk::testing
