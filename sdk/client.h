#pragma once
// Client: an SDK client of the Overline mesh — publish streams, subscribe to
// streams, receive their DATA — through one or two edge relays at a time,
// moving to another candidate edge when one dies.
//
// A thin I/O adapter over SessionCore (sdk/core/session_core.h), which makes
// every decision: joins, keepalives, dead-edge detection and failover,
// dual-homing, subscription refresh, tagging, checks, playout. This class
// owns the socket, the clocks and the threads.
//
// Threading: one non-blocking UDP socket, not connect()ed (it talks to
// several edges; every packet the core accepts is authenticated by its
// session tag, so a forged source is a counted drop), and one background
// "SDK thread" that poll()s it until the core's next deadline. The core is
// guarded by one mutex: send(), publish(), subscribe() and unsubscribe() may
// be called from any thread and send from the caller's thread (sendto on a
// datagram socket is thread-safe).
//
// Callbacks (receive, on_arrival, on_event) run on the SDK thread, one at a
// time, after the core call that produced them returned (never under the
// core's mutex), and must not throw. A callback may call send(), publish(),
// subscribe() and unsubscribe(), but must not call close() or destroy the
// Client.
//
// Playout: by default a subscription's DATA reaches its callback in sequence
// order within the stream's latency budget (PlayoutBuffer): packets behind a
// gap wait until it is filled or its deadline passes, and the SDK thread
// wakes at that deadline to release them. A move to another edge shows as
// such a gap; a dual-homed client's second copies are dropped there.

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "common/endpoint.h"
#include "common/result.h"
#include "common/types.h"
#include "common/wire/packet.h"
#include "sdk/client_outputs.h"
#include "sdk/core/session_core.h"
#include "sdk/core/session_io.h"
#include "sdk/unique_fd.h"

namespace overline::sdk {

// Called on the SDK thread for each session event (session_io.h): kJoined for
// every edge session joined, kConnected when the first edge joins (both
// before connect() returns), kEdgeChanged on every move, kLost when no
// candidate answers (the client keeps trying).
using EventCallback = std::function<void(const SessionEvent& event)>;

struct ClientOptions {
  // connect() gives up when no edge session has joined (HELLO, CHALLENGE,
  // HELLO with the cookie, WELCOME) within this time, over all candidates.
  DurationUs connect_timeout_us = 3 * kSecond;
  // A joining session re-sends its current HELLO this often until the edge
  // answers, and gives the edge up after join_timeout_us (the next
  // candidate is tried; with one candidate, the same edge again).
  DurationUs hello_retry_us = 200 * kMillisecond;
  DurationUs join_timeout_us = 1 * kSecond;
  // Tagged HELLO keepalive of every joined session; the edge answers each
  // (and drops clients silent for 5 s). A session that heard no valid
  // packet from its edge for dead_after_us is dead: the client moves on.
  DurationUs keepalive_interval_us = 100 * kMillisecond;
  DurationUs dead_after_us = 300 * kMillisecond;
  // A candidate that failed is passed over this long while others are free.
  DurationUs candidate_backoff_us = 2 * kSecond;
  // SUBSCRIBE refresh; the relay's default (SubscriptionTimers), and the edge
  // expires a subscription not refreshed for 1.5 s.
  DurationUs refresh_interval_us = 500 * kMillisecond;
  // Edges to keep a session with at once: 1, or 2 (dual-homed: every DATA
  // and subscription through both; one dying loses nothing).
  std::size_t homes = 1;
  std::uint8_t hop_limit = wire::kDefaultHopLimit;  // of every DATA sent
  // SO_RCVBUF requested for the socket; the kernel caps it at net.core.rmem_max.
  int receive_buffer_bytes = 1 << 20;
  // Join token for connect(edge): from the controller's edge allocation for
  // this client's address (at most wire::kMaxJoinTokenBytes; connect()
  // refuses a longer one); empty for edges that admit anyone. Sent in every
  // HELLO, keepalives included (a fresher token extends the session).
  // connect(candidates) uses each candidate's token instead.
  std::string join_token;
  // The public IPv4 address the controller observed (the allocation's
  // observed_address), host order; 0: unknown. Edges that see another one
  // count reflexive_mismatches.
  std::uint32_t expected_public_ip = 0;
  // Optional: session events, on the SDK thread.
  EventCallback on_event;
};

// What the client sent, received and dropped (SessionCounters, session_io.h),
// and the socket's own errors. A snapshot: any thread may read it at any time.
struct ClientCounters : SessionCounters {
  std::uint64_t receive_errors = 0;  // recvfrom() failed other than "nothing to read"
};

// Called on the SDK thread for each DATA of a subscribed stream. `payload`
// is valid only during the call. `arrival_us` is wall-clock microseconds
// (system_clock), comparable with header.timestamp_us when clocks are synced.
using ReceiveCallback = std::function<void(StreamId stream, const wire::Header& header,
                                           std::span<const std::byte> payload, std::uint64_t arrival_us)>;

// How a subscription's DATA reaches its callback.
struct SubscribeOptions {
  // true: in sequence order within the latency budget (see the top of this
  // file); duplicates, late and given-up packets are only counted. false:
  // every DATA as it arrives, duplicates included (a dual-homed client gets
  // most packets twice).
  bool playout = true;
  // Budget for DATA whose header states none (latency_budget 0): 10 ms..2,550 ms.
  DurationUs default_latency_budget_us = kDefaultLatencyBudgetUs;
  // Bound on the packets held behind gaps (memory: up to ~1.3 KB each).
  std::size_t max_held_packets = 4096;
  // Optional: called for every DATA of the stream as it arrives, before
  // playout (duplicates and late ones included), on the SDK thread just
  // before any delivery it causes. For measuring the network, not for media.
  ReceiveCallback on_arrival;
};

class Client {
 public:
  // Opens the socket, starts the SDK thread joining `edge` and waits until
  // it joined (blocks the caller) or connect_timeout_us passed.
  static Result<std::unique_ptr<Client>, std::string> connect(const Endpoint& edge,
                                                              const ClientOptions& options = {});
  // As above with candidate edges (e.g. pickFastestEdge's order), each with
  // its own join token (options.join_token is ignored): joins the first
  // (the first two with homes = 2), moves down the list when one does not
  // answer within join_timeout_us, and returns once one session joined or
  // connect_timeout_us passed. The client keeps the whole list for later
  // moves.
  static Result<std::unique_ptr<Client>, std::string> connect(std::span<const EdgeCandidate> candidates,
                                                              const ClientOptions& options = {});

  // close()s. Must not run on the SDK thread (i.e. inside a callback).
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // The primary edge's node id and endpoint (the last primary's while the
  // client is between edges).
  NodeId edgeNode() const;
  Endpoint edge() const;
  // Every joined edge session, the primary first.
  std::vector<EdgeStatus> edges() const;

  // Declares a stream published from here: makeStreamId(node of the first
  // edge joined, local_id), the same id however often the client moves. Its
  // DATA sequence starts at 0; publishing it again keeps the sequence and
  // takes the new options. An error (nothing changes) when
  // options.latency_budget_us is outside 10 ms..2,550 ms.
  Result<StreamId, std::string> publish(std::uint32_t local_id, const PublishOptions& options = {});

  // Sends one DATA packet on a stream returned by publish(), through every
  // joined edge: next sequence, timestamp_us = wall clock now. Returns false
  // if the client is closed, the stream was not published, the payload
  // exceeds wire::kMaxPayloadBytes, no edge is joined right now (a move is
  // under way) or the socket refused the datagram; in the last two cases
  // its sequence number is used up, so subscribers see the loss.
  bool send(StreamId stream, std::span<const std::byte> payload);

  // Sends SUBSCRIBE now (through every joined edge, and every edge joined
  // later) and every refresh_interval_us until unsubscribe() or close().
  // `callback` must not be empty (asserted). Subscribing again replaces the
  // callback and options and restarts the stream's playout (packets held for
  // the old one are dropped). When this returns, a replaced callback is no
  // longer running (unless the caller is that callback). Returns an error,
  // and subscribes nothing, when the options are invalid.
  std::optional<std::string> subscribe(StreamId stream, ReceiveCallback callback,
                                       const SubscribeOptions& options = {});
  // Sends UNSUBSCRIBE. When this returns the stream's callback is not running
  // and will not run again (unless the caller is that callback).
  void unsubscribe(StreamId stream);

  // Sends UNSUBSCRIBE for every subscription, stops and joins the SDK thread.
  // Idempotent; afterwards send() fails and subscribe() does nothing. Must
  // not be called from a callback.
  void close();

  ClientCounters counters() const;
  // This client's address and port as the primary edge sees them (from its
  // WELCOME): the public address behind a NAT.
  Endpoint reflexiveAddress() const;
  // Replaces the join token of every candidate, sent in keepalives and later
  // joins: a fresher token extends the session at the edge, which ends it
  // when the token it holds expires. Any thread. False (unchanged) if the
  // token is longer than wire::kMaxJoinTokenBytes.
  bool setJoinToken(std::string token);

 private:
  struct Subscription {
    std::uint64_t id;  // SessionCore's: tells a replaced subscription's DATA apart
    ReceiveCallback callback;
    ReceiveCallback on_arrival;
  };

  Client(UniqueFd socket, UniqueFd wake, const ClientOptions& options);

  void run();  // the SDK thread
  void readDatagrams();
  // Takes what the core produced (core_mutex_ held).
  void takeOutputs();
  // Runs the callbacks for what takeOutputs() took (core_mutex_ not held).
  void dispatchOutputs();
  // Returns once no callback is running, unless called on the SDK thread.
  void waitForRunningCallback();

  const UniqueFd socket_;
  const UniqueFd wake_;  // eventfd: close() wakes the SDK thread's poll()
  const EventCallback on_event_;
  std::atomic<bool> closed_{false};
  std::atomic<std::uint64_t> receive_errors_{0};

  // Guards core_, outputs_ and subscriptions_. Never held while a callback runs.
  mutable std::mutex core_mutex_;
  std::condition_variable connected_;  // with core_mutex_: the core joined its first edge
  ClientOutputs outputs_;  // the core's sink: DATA and events wait here for dispatch
  std::unique_ptr<SessionCore> core_;
  std::map<StreamId, std::shared_ptr<const Subscription>> subscriptions_;
  ClientOutputBatch dispatching_;  // SDK thread only

  // The SDK thread holds dispatch_mutex_ while it runs callbacks, so taking
  // it elsewhere waits for a running callback to return. Lock order:
  // dispatch_mutex_ before core_mutex_.
  std::mutex dispatch_mutex_;
  std::thread thread_;
};

}  // namespace overline::sdk
