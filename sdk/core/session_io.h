#pragma once
// What goes into and comes out of the SDK's session core (session_core.h):
// the edges it may use, what the application asks of it, and the sink it
// reports to (datagrams to send, DATA for the application, events).

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>

#include "common/endpoint.h"
#include "common/types.h"
#include "common/wire/packet.h"
#include "sdk/core/latency_budget.h"
#include "sdk/hello_packet.h"

namespace overline::sdk {

// An edge relay to try, with the join token the controller issued for it.
struct EdgeCandidate {
  Endpoint endpoint;
  std::string join_token;  // empty: the edge admits anyone
};

// How a published stream's DATA is sent.
struct PublishOptions {
  // Flag every DATA wire::kFlagRedundant: relays send each packet to every
  // downstream neighbour on two disjoint links, so one failed line loses
  // nothing (at twice the relay-to-relay bandwidth).
  bool redundant = false;
  // How long after sending a packet is still useful: relays stop recovering
  // it and subscribers stop waiting for it after that. Carried in every
  // DATA header in 10 ms units: 10 ms..2,550 ms, rounded up to 10 ms.
  DurationUs latency_budget_us = kDefaultLatencyBudgetUs;
};

// How a subscription's DATA reaches the sink.
struct SubscriptionConfig {
  // true: onDelivery() in sequence order within the latency budget
  // (PlayoutBuffer); duplicates, late and given-up packets are only counted.
  // false: onDelivery() for every DATA as it arrives, duplicates included
  // (a dual-homed client gets most packets twice then).
  bool playout = true;
  // Budget for DATA whose header states none (latency_budget 0): 10 ms..2,550 ms.
  DurationUs default_latency_budget_us = kDefaultLatencyBudgetUs;
  // Bound on the packets held behind gaps (memory: up to ~1.3 KB each).
  std::size_t max_held_packets = 4096;
  // Also onArrival() for every DATA as it arrives, before playout.
  bool arrivals = false;
};

// The session's state changes the application hears of. Node ids are the
// edges' (kNoNode where there is none).
enum class SessionEventType : std::uint8_t {
  // A session with new_edge joined: every one (the first, a dual-homed
  // client's second, each replacement), before the kConnected or
  // kEdgeChanged that makes it the primary.
  kJoined,
  // The first edge session joined (old_edge = kNoNode), or one joined after
  // kLost (old_edge = the edge before the loss).
  kConnected,
  // The primary edge changed: its session died and another one (already
  // joined when dual-homed, else a new join) took over. old_edge and
  // new_edge are equal when the client joined the same edge again (it
  // restarted, or it is the only candidate).
  kEdgeChanged,
  // No session is joined and every candidate has failed a join since the
  // last one was (new_edge = kNoNode). The core keeps trying in the
  // background; kConnected follows when a join succeeds.
  kLost,
};

struct SessionEvent {
  SessionEventType type;
  NodeId old_edge = kNoNode;
  NodeId new_edge = kNoNode;
  Endpoint new_endpoint;  // new_edge's address (none for kLost)
  friend bool operator==(const SessionEvent&, const SessionEvent&) = default;
};

// One DATA packet for the application. `payload` is valid only during the
// sink call. `subscription` is the id subscribe() returned: a subscription
// replaced since is told apart by it.
struct DataRelease {
  std::uint64_t subscription;
  StreamId stream;
  const wire::Header& header;
  std::span<const std::byte> payload;
  std::uint64_t arrival_us;  // as given to onDatagram
};

// Where the core's outputs go. Implemented by the I/O adapter (sdk::Client)
// or a test or simulator; it must outlive the core. Called only from within
// the core's own calls, on the caller's thread; it must not call the core
// back (sdk::Client queues DATA and events and runs the application's
// callbacks after the core call returned).
class SessionSink {
 public:
  virtual ~SessionSink() = default;
  // Sends `datagram` from the client's socket to `to`; the bytes are valid
  // only during the call. False when it could not be handed to the kernel
  // (counted as send_failed).
  virtual bool sendDatagram(const Endpoint& to, std::span<const std::byte> datagram) = 0;
  // DATA of a subscription with `arrivals`, as it arrives (before playout).
  virtual void onArrival(const DataRelease& data) = 0;
  // DATA handed to the application: in order within the budget when the
  // subscription plays out, else as it arrives.
  virtual void onDelivery(const DataRelease& data) = 0;
  virtual void onEvent(const SessionEvent& event) = 0;
};

// A fresh random nonce for every join (it makes the session key unique);
// nullopt when none can be had now (the core retries later). Injected so
// that the core stays pure and a simulator stays deterministic.
using NonceSource = std::function<std::optional<HelloNonce>()>;

// What the core sent, received and dropped. Every received datagram is
// exactly one of: a join answer, a keepalive answer, DATA (delivered,
// unknown_stream or counted by the playout), or a drop below.
struct SessionCounters {
  std::uint64_t packets_sent = 0;
  std::uint64_t send_failed = 0;  // the sink refused a datagram (e.g. socket buffer full)
  std::uint64_t packets_received = 0;
  std::uint64_t hello_replies = 0;   // keepalive answers
  std::uint64_t data_delivered = 0;  // DATA handed to onDelivery()
  // Drops.
  std::uint64_t malformed = 0;        // parsePacket rejected it
  std::uint64_t unknown_source = 0;   // not from an edge the client has a session with (e.g. a forged source)
  // From an edge's address, but untagged, tagged wrongly or replayed: not
  // from this client's session with it (e.g. a forged source address).
  std::uint64_t unauthenticated = 0;
  std::uint64_t unexpected_type = 0;  // valid, but not HELLO or DATA (or a join answer nobody waits for)
  std::uint64_t unknown_stream = 0;   // DATA for a stream not subscribed (e.g. just unsubscribed)
  // Sessions.
  std::uint64_t joins = 0;            // edge sessions joined (WELCOME), the first included
  std::uint64_t join_timeouts = 0;    // join attempts given up: no WELCOME within join_timeout_us
  std::uint64_t dead_edges = 0;       // joined sessions silent for dead_after_us, dropped
  std::uint64_t edge_changes = 0;     // kEdgeChanged events: the primary edge moved
  std::uint64_t data_without_edge = 0;  // DATA send() calls while no session was joined (lost)
  // WELCOMEs whose reflexive IPv4 address differs from the expected public
  // address or from another joined edge's view: a NAT that maps per
  // destination, or a join token bound to another address.
  std::uint64_t reflexive_mismatches = 0;
  std::uint64_t nonce_failures = 0;  // the NonceSource had none: a join was postponed
  // Playout (PlayoutCounters, summed over every subscription with playout
  // on, ended ones included). A dual-homed client's second copies count as
  // playout_duplicates.
  std::uint64_t playout_lost = 0;        // sequences given up: not delivered within the budget
  std::uint64_t playout_late = 0;        // arrivals dropped: after their sequence was given up or their deadline
  std::uint64_t playout_duplicates = 0;  // arrivals dropped: sequence already delivered or held
  std::uint64_t playout_reordered = 0;   // delivered after waiting for an earlier packet
  std::uint64_t playout_overflows = 0;   // gaps given up early because too many packets were held
  std::uint64_t playout_resyncs = 0;     // publisher restarts detected
  std::uint64_t playout_held = 0;        // gauge: packets held behind a gap right now
};

// One joined edge session, as edges() reports it.
struct EdgeStatus {
  Endpoint endpoint;
  NodeId node = kNoNode;
  Endpoint reflexive;  // this client's address as that edge sees it (its WELCOME)
  bool primary = false;
  friend bool operator==(const EdgeStatus&, const EdgeStatus&) = default;
};

}  // namespace overline::sdk
