#pragma once
// RelayCore: the relay's forwarding and subscription logic, sans I/O.
//
// It is fed every received datagram and periodic ticks, each with `now`
// (microseconds, monotonic, supplied by the caller), and emits packets through
// a PacketSink. It never reads a clock, never blocks and never throws on bad
// input: every packet it does not forward is counted under one drop reason.
// Single-threaded: all calls must come from one thread.
//
// Behaviour (see docs/architecture.md for the walk of a packet):
//  * HELLO from an unknown endpoint joins an SDK client (bounded by
//    Limits::max_clients); the relay answers with a header-only HELLO.
//  * SUBSCRIBE(stream) from a neighbour or client records that downstream
//    with a soft-state expiry. If this relay is not the stream's origin and
//    does not yet carry the stream, it sends SUBSCRIBE to the next hop toward
//    the origin (RouteTable, direct neighbours implicit). Refreshes go
//    upstream every refresh interval while any downstream remains.
//  * UNSUBSCRIBE or expiry removes a downstream; when a stream has none left,
//    the relay sends UNSUBSCRIBE upstream and forgets the stream.
//  * DATA from the stream's upstream (or from a local client publishing a
//    stream whose origin is this relay) is sent once to every downstream, with
//    hop_limit decremented and sender_node_id set to this relay.
//  * A neighbour is recognised by the source endpoint matching any of its
//    configured lines, and is one downstream whichever line it uses. Traffic
//    to it goes out on chooseLinePair() (line_choice.h): for now local line 0
//    to the neighbour's line 0; link probing and path choice replace this later.
//  * A client is answered on the line it last used and is forgotten, with its
//    subscriptions, after Limits::client_expiry_us of silence.

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

#include "common/endpoint.h"
#include "common/types.h"
#include "common/wire/packet.h"
#include "relay/core/packet_sink.h"
#include "relay/core/relay_config.h"
#include "relay/core/relay_counters.h"

namespace overline::relay {

class RelayCore {
 public:
  // `sink` must outlive this RelayCore and must not call back into it.
  // `config` must name a node id, >= 1 line and neighbours with >= 1 line each
  // (relay/config validates it; violations assert).
  RelayCore(RelayCoreConfig config, PacketSink& sink);

  // One received datagram on local line `line` from `from`.
  void onDatagram(LineIndex line, const Endpoint& from, std::span<const std::byte> datagram, TimeUs now);

  // Runs timers: subscription refresh upstream, downstream and client expiry.
  // Call at least every tickInterval().
  void onTick(TimeUs now);
  DurationUs tickInterval() const;

  // Replaces the route table (an immutable snapshot; null means no routes).
  // Existing upstream subscriptions move to the new next hop at the next
  // onTick: UNSUBSCRIBE to the old upstream, SUBSCRIBE to the new one.
  void setRoutes(RouteTablePtr routes);

  const RelayCounters& counters() const { return counters_; }
  RelayGauges gauges() const;
  NodeId nodeId() const { return config_.node_id; }

 private:
  // A downstream (or the source of a packet): a neighbour relay by node id,
  // whichever of its lines it used, or an SDK client by its endpoint.
  struct PeerId {
    NodeId node = kNoNode;  // the neighbour, or kNoNode for a client
    Endpoint client;        // the client's endpoint; only when node == kNoNode

    bool isRelay() const { return node != kNoNode; }
    friend bool operator==(const PeerId&, const PeerId&) = default;
  };

  struct Client {
    LineIndex line = 0;  // the line it last used; replies go out on it
    TimeUs last_seen_us = 0;
    // Streams it subscribes to (at most Limits::max_subscriptions_per_client),
    // so that its expiry can remove them without scanning every stream.
    std::vector<StreamId> streams;
  };

  struct Downstream {
    PeerId peer;
    TimeUs expires_at_us = 0;
  };

  struct Stream {
    // Never empty while the stream is in streams_: the last removal forgets
    // the stream. Small (neighbours + local clients), searched linearly.
    std::vector<Downstream> downstreams;
    // Neighbour this relay subscribes to for the stream; kNoNode when this
    // relay is the origin, or when there is currently no usable route.
    NodeId upstream = kNoNode;
    // Next upstream SUBSCRIBE refresh (or route retry); unused at the origin.
    TimeUs next_refresh_us = 0;
  };
  using StreamMap = std::unordered_map<StreamId, Stream>;

  void onNeighbourPacket(NodeId neighbour, const wire::Header& header,
                         std::span<const std::byte> datagram, TimeUs now);
  void onClientPacket(LineIndex line, const Endpoint& from, const wire::Header& header,
                      std::span<const std::byte> datagram, TimeUs now);
  void onSubscribe(const PeerId& from, Client* client, const wire::Header& header, TimeUs now);
  void onUnsubscribe(const PeerId& from, const wire::Header& header);
  // Sends one rewritten copy of an admitted DATA packet to every downstream but `from`.
  void forwardData(const PeerId& from, const wire::Header& header, std::span<const std::byte> datagram,
                   const Stream& stream);

  // Index of `peer` in stream.downstreams, or nullopt.
  static std::optional<std::size_t> findDownstream(const Stream& stream, const PeerId& peer);
  // Next hop toward `origin` (route table first, then direct neighbours), or
  // kNoNode when there is none or the route names a node that is not a neighbour.
  NodeId resolveNextHop(NodeId origin) const;
  // Moves the stream to the current next hop, or re-sends SUBSCRIBE when due.
  void maintainUpstream(StreamId id, Stream& stream, TimeUs now);
  // Removes downstreams[index] (and the stream from its client's list). Does
  // not forget an emptied stream; callers do that with closeStream.
  void detachDownstream(StreamId id, Stream& stream, std::size_t index);
  // Sends UNSUBSCRIBE upstream (if any) and forgets the stream.
  StreamMap::iterator closeStream(StreamMap::iterator it);
  void removeClient(std::unordered_map<Endpoint, Client>::iterator it);

  void sendControl(wire::PacketType type, StreamId stream, NodeId neighbour, std::uint8_t hop_limit);
  bool sendToPeer(const PeerId& peer, std::span<const std::byte> packet);
  bool send(LineIndex line, const Endpoint& to, std::span<const std::byte> packet);
  void armDeadline(TimeUs deadline_us);

  RelayCoreConfig config_;
  PacketSink& sink_;
  RelayCounters counters_;
  RouteTablePtr routes_;
  bool routes_changed_ = false;  // upstreams are re-resolved at the next tick

  std::unordered_map<Endpoint, NodeId> neighbour_by_endpoint_;     // every line of every neighbour
  std::unordered_map<NodeId, std::size_t> neighbour_index_;        // into config_.neighbours
  std::unordered_map<Endpoint, Client> clients_;                   // <= Limits::max_clients
  StreamMap streams_;                                              // <= Limits::max_streams

  // onTick does nothing before this time: no downstream or client can expire
  // and no refresh is due earlier. Kept as a lower bound (refreshes only move
  // deadlines later), recomputed exactly by each full scan.
  TimeUs next_deadline_us_ = std::numeric_limits<TimeUs>::max();
  // The one copy of a DATA packet being forwarded, rewritten per hop.
  wire::PacketBuffer forward_buffer_{};

 public:
  RelayCore(const RelayCore&) = delete;
  RelayCore& operator=(const RelayCore&) = delete;
};

}  // namespace overline::relay
