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
//  * Neighbour traffic goes out on the first line pair (local line 0 to the
//    neighbour's line 0); link probing and path choice replace this later.

#include <cstddef>
#include <map>
#include <memory>
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
  // `sink` must outlive this RelayCore.
  RelayCore(RelayCoreConfig config, PacketSink& sink);

  // One received datagram on local line `line` from `from`.
  void onDatagram(LineIndex line, const Endpoint& from, std::span<const std::byte> datagram, TimeUs now);

  // Runs timers: subscription refresh upstream, downstream and client expiry.
  // Call at least every tickInterval().
  void onTick(TimeUs now);
  DurationUs tickInterval() const;

  // Replaces the route table (an immutable snapshot). Existing upstream
  // subscriptions move to the new next hop on the next refresh.
  void setRoutes(RouteTablePtr routes);

  const RelayCounters& counters() const { return counters_; }
  RelayGauges gauges() const;
  NodeId nodeId() const { return config_.node_id; }

 private:
  // Implementation-defined; see relay_core.cc.
  struct Impl;
  RelayCoreConfig config_;
  PacketSink& sink_;
  RelayCounters counters_;
  std::unique_ptr<Impl> impl_;

 public:
  ~RelayCore();
  RelayCore(const RelayCore&) = delete;
  RelayCore& operator=(const RelayCore&) = delete;
};

}  // namespace overline::relay
