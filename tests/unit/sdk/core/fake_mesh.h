#pragma once
// FakeMesh: scripted edge relays and SessionCore clients on a fake clock,
// for the SDK session core's unit tests. No sockets, no real time.
//
// Each FakeEdge answers joins as a relay does (relay::ClientGate: a
// stateless CHALLENGE, then a WELCOME with the session key and the
// client's address), checks every tagged packet of a joined client with
// its session key (badTags() otherwise), answers keepalives with a tagged
// header-only HELLO, and keeps SUBSCRIBE state. The edges form one relay
// fabric: DATA a client sends to any edge reaches every edge, and each
// edge forwards a stream's sequence once to its subscribed clients (the
// relays' dedup window), tagged with that client's key. An edge that is
// down drops everything; restart() forgets its sessions.
//
// Datagrams travel with no delay: deliver() runs until no datagram is in
// flight. advanceTo(t) runs every client's timers that fall due up to t,
// in time order, delivering after each.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "common/crypto/gmac.h"
#include "common/endpoint.h"
#include "common/types.h"
#include "common/wire/packet.h"
#include "relay/core/client_gate.h"
#include "sdk/core/session_core.h"
#include "sdk/core/session_io.h"

namespace overline::sdk::testing {

// Monotonic test time starts well past 0 (the cookie's time slots).
constexpr TimeUs kStart = 1'000'000'000;

// What a client's sink saw.
struct RecordedData {
  std::uint64_t subscription;
  StreamId stream;
  wire::Header header;
  std::vector<std::byte> payload;
};

class RecordingSink final : public SessionSink {
 public:
  struct Sent {
    Endpoint to;
    std::vector<std::byte> bytes;
  };
  bool sendDatagram(const Endpoint& to, std::span<const std::byte> datagram) override;
  void onArrival(const DataRelease& data) override;
  void onDelivery(const DataRelease& data) override;
  void onEvent(const SessionEvent& event) override { events.push_back(event); }

  bool refuse_sends = false;  // the "socket" refuses every datagram
  std::deque<Sent> outbox;    // sent, not yet delivered by the mesh
  std::vector<RecordedData> arrivals;
  std::vector<RecordedData> deliveries;
  std::vector<SessionEvent> events;
};

class FakeEdge {
 public:
  FakeEdge(NodeId node, const Endpoint& endpoint);

  NodeId node() const { return node_; }
  const Endpoint& endpoint() const { return endpoint_; }

  bool up = true;                 // false: drops everything, sends nothing
  bool answer_keepalives = true;  // false: joined clients hear nothing back from it
  // The client address its WELCOMEs report (a NAT mapping per destination);
  // nullopt: the one the datagram came from.
  std::optional<Endpoint> reports_reflexive;
  void restart() { sessions_.clear(); subscribers_.clear(); }

  // Verified packets from clients (HELLOs too, tagged or not), in order.
  struct Received {
    Endpoint from;
    wire::Header header;
    std::vector<std::byte> payload;
  };
  const std::vector<Received>& received() const { return received_; }
  std::size_t count(wire::PacketType type, std::optional<StreamId> stream = std::nullopt) const;
  // DATA sequences of `stream` received from clients, in order.
  std::vector<std::uint32_t> dataSequences(StreamId stream) const;
  std::size_t badTags() const { return bad_tags_; }
  bool joined(const Endpoint& client) const { return sessions_.contains(client); }
  bool subscribed(const Endpoint& client, StreamId stream) const;

  // A packet to `client` tagged with its session key, as the relay sends
  // (empty when the client has not joined).
  std::vector<std::byte> tagged(const Endpoint& client, const wire::Header& header,
                                std::span<const std::byte> payload = {});

  struct Out {
    Endpoint to;
    std::vector<std::byte> bytes;
  };
  // A datagram from `from` at `now`; what the edge sends back goes to
  // `out`. Verified DATA from a client is returned (its payload in
  // `data_payload`) for the fabric to spread.
  std::optional<wire::Header> receive(const Endpoint& from, std::span<const std::byte> datagram, TimeUs now,
                                      std::vector<Out>& out, std::vector<std::byte>& data_payload);
  // Forwards DATA to this edge's subscribers of its stream, once per sequence.
  void forward(const wire::Header& header, std::span<const std::byte> payload, std::vector<Out>& out);

 private:
  struct Session {
    crypto::Gmac key;
    std::uint64_t next_packet_number = 1;
  };
  void answerJoin(const Endpoint& from, const wire::PacketView& hello, TimeUs now, std::vector<Out>& out);

  const NodeId node_;
  const Endpoint endpoint_;
  relay::ClientGate gate_;
  std::map<Endpoint, Session> sessions_;
  std::map<StreamId, std::set<Endpoint>> subscribers_;
  std::map<StreamId, std::set<std::uint32_t>> forwarded_;
  std::vector<Received> received_;
  std::size_t bad_tags_ = 0;
};

// A client: its core and sink, at an address.
struct FakeClient {
  Endpoint address;
  RecordingSink sink;
  std::unique_ptr<SessionCore> core;
};

class FakeMesh {
 public:
  FakeEdge& addEdge(NodeId node);  // at 10.0.0.<node>:7000
  // A client at 192.0.2.<n>:5000 + n (n counts clients), with `config`'s
  // candidates (empty: every edge so far, in order, no tokens). Nonces
  // are a counter: deterministic.
  FakeClient& addClient(SessionConfig config);

  TimeUs now() const { return now_; }
  // Delivers every datagram in flight (and what they cause) at now().
  void deliver();
  // Runs every client's timers due up to `t` (inclusive), in order, then
  // sets now() to t.
  void advanceTo(TimeUs t);
  void advanceBy(DurationUs d) { advanceTo(now_ + d); }
  // Advances in `step`s until `condition` holds; false if it does not by `limit`.
  template <typename Condition>
  bool runUntil(Condition condition, DurationUs limit, DurationUs step = kMillisecond) {
    const TimeUs end = now_ + limit;
    while (!condition()) {
      if (now_ >= end) return false;
      advanceBy(step);
    }
    return true;
  }
  // Sends one DATA (payload {1}) on `stream` from `publisher` every
  // `interval` from now() + interval to `end`, advancing the mesh;
  // `before(t)` runs before the clock moves to each send time t.
  void publishUntil(FakeClient& publisher, StreamId stream, TimeUs end, DurationUs interval = 10 * kMillisecond,
                    const std::function<void(TimeUs)>& before = {});
  // Hands `datagram` to `client` as if from `from`, at now().
  void inject(FakeClient& client, const Endpoint& from, std::span<const std::byte> datagram);

 private:
  FakeEdge* edgeAt(const Endpoint& endpoint);
  FakeClient* clientAt(const Endpoint& endpoint);

  TimeUs now_ = kStart;
  std::vector<std::unique_ptr<FakeEdge>> edges_;
  std::vector<std::unique_ptr<FakeClient>> clients_;
  std::uint8_t next_nonce_ = 1;
};

// The events a client's sink should see.
inline SessionEvent joinedAt(const FakeEdge& edge) {
  return {SessionEventType::kJoined, kNoNode, edge.node(), edge.endpoint()};
}
inline SessionEvent connectedTo(NodeId old_edge, const FakeEdge& edge) {
  return {SessionEventType::kConnected, old_edge, edge.node(), edge.endpoint()};
}
inline SessionEvent movedTo(NodeId old_edge, const FakeEdge& edge) {
  return {SessionEventType::kEdgeChanged, old_edge, edge.node(), edge.endpoint()};
}
inline SessionEvent lostFrom(NodeId old_edge) { return {SessionEventType::kLost, old_edge, kNoNode, {}}; }

// A wall-clock arrival/timestamp for the fake time: the same number.
inline std::uint64_t wallOf(TimeUs t) { return static_cast<std::uint64_t>(t); }

std::vector<std::byte> bytesOf(std::initializer_list<int> values);

}  // namespace overline::sdk::testing
