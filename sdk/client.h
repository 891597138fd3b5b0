#pragma once
// Client: an SDK session with one edge relay — publish streams, subscribe to
// streams, receive their DATA.
//
// Threading: one non-blocking UDP socket connect()ed to the edge (so the
// kernel drops datagrams from anyone else) and one background "SDK thread"
// that poll()s it with a timeout and runs the timers (HELLO keepalive,
// SUBSCRIBE refresh). send(), publish(), subscribe() and unsubscribe() may be
// called from any thread; they write to the socket directly from the caller's
// thread, which the kernel makes safe for datagram sockets.
//
// Why not libuv like the relay: with one socket and one thread a poll() loop
// is all the event loop there is, and since a send() on a connected UDP
// socket is thread-safe, callers need no cross-thread queue or uv_async_t to
// reach the loop. One less dependency for SDK users, too.
//
// Playout: by default a subscription's DATA reaches its callback in sequence
// order within the stream's latency budget (PlayoutBuffer): packets behind a
// gap wait until it is filled or its deadline passes, and the SDK thread
// wakes at that deadline to release them.
//
// Receive callbacks run on the SDK thread, one at a time, and must not throw.
// A callback may call send(), publish(), subscribe() and unsubscribe(), but
// must not call close() or destroy the Client.

#include <atomic>
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
#include "common/crypto/gmac.h"
#include "common/crypto/replay_window.h"
#include "sdk/core/join_handshake.h"
#include "sdk/core/latency_budget.h"
#include "sdk/core/session_tagger.h"
#include "sdk/core/playout_buffer.h"
#include "sdk/unique_fd.h"

namespace overline::sdk {

struct ClientOptions {
  // connect() gives up when the join (HELLO, CHALLENGE, HELLO with the
  // cookie, WELCOME) has not completed within this time.
  DurationUs connect_timeout_us = 3 * kSecond;
  // connect() re-sends its current HELLO this often until the edge answers.
  DurationUs hello_retry_us = 200 * kMillisecond;
  // HELLO keepalive while connected; the edge drops clients silent for 5 s.
  // After three unanswered keepalives the client joins again (a restarted
  // edge has forgotten its session).
  DurationUs keepalive_interval_us = 1 * kSecond;
  // SUBSCRIBE refresh; the relay's default (SubscriptionTimers), and the edge
  // expires a subscription not refreshed for 1.5 s.
  DurationUs refresh_interval_us = 500 * kMillisecond;
  std::uint8_t hop_limit = wire::kDefaultHopLimit;  // of every DATA sent
  // SO_RCVBUF requested for the socket; the kernel caps it at net.core.rmem_max.
  int receive_buffer_bytes = 1 << 20;
  // Join token from the controller's edge allocation for this edge and the
  // client's address (at most wire::kMaxJoinTokenBytes; connect() refuses
  // a longer one); empty for edges that admit anyone. Sent in every HELLO,
  // keepalives included (a fresher token extends the session).
  std::string join_token;
};

// An edge relay to try, with the join token the controller issued for it.
struct EdgeCandidate {
  Endpoint endpoint;
  std::string join_token;  // empty: the edge admits anyone
};

// What the client sent, received and dropped. A snapshot of atomics: any
// thread may read it at any time.
struct ClientCounters {
  std::uint64_t packets_sent = 0;
  std::uint64_t send_failed = 0;  // the socket refused a datagram (e.g. buffer full)
  std::uint64_t packets_received = 0;
  std::uint64_t hello_replies = 0;
  std::uint64_t rejoins = 0;  // joins again after the edge stopped answering keepalives
  std::uint64_t data_delivered = 0;  // DATA handed to a receive callback (in order, unless playout is off)
  // Drops: every received datagram not delivered or a HELLO reply is one of these.
  std::uint64_t malformed = 0;        // parsePacket rejected it
  // Untagged, or tagged wrongly or replayed: not from this client's edge
  // session (e.g. a forged source address).
  std::uint64_t unauthenticated = 0;
  std::uint64_t unexpected_type = 0;  // valid, but not HELLO or DATA
  std::uint64_t unknown_stream = 0;   // DATA for a stream not subscribed (e.g. just unsubscribed)
  std::uint64_t receive_errors = 0;   // recv() failed other than "nothing to read"
  // Playout (PlayoutCounters, summed over subscriptions with playout on).
  std::uint64_t playout_lost = 0;        // sequences given up: not delivered within the budget
  std::uint64_t playout_late = 0;        // arrivals dropped: after their sequence was given up or their deadline
  std::uint64_t playout_duplicates = 0;  // arrivals dropped: sequence already delivered or held
  std::uint64_t playout_reordered = 0;   // delivered after waiting for an earlier packet
  std::uint64_t playout_overflows = 0;   // gaps given up early because too many packets were held
  std::uint64_t playout_resyncs = 0;     // publisher restarts detected
  std::uint64_t playout_held = 0;        // gauge: packets held behind a gap right now
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

// Called on the SDK thread for each DATA of a subscribed stream. `payload`
// is valid only during the call. `arrival_us` is wall-clock microseconds
// (system_clock), comparable with header.timestamp_us when clocks are synced.
using ReceiveCallback = std::function<void(StreamId stream, const wire::Header& header,
                                           std::span<const std::byte> payload, std::uint64_t arrival_us)>;

// How a subscription's DATA reaches its callback.
struct SubscribeOptions {
  // true: in sequence order within the latency budget (see the top of this
  // file); duplicates, late and given-up packets are only counted. false:
  // every DATA as it arrives, duplicates included.
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
  // Opens the socket, sends HELLO every hello_retry_us until the edge answers
  // with HELLO (its sender_node_id is the edge's node id) or
  // connect_timeout_us passes, then starts the SDK thread. Blocks the caller.
  static Result<std::unique_ptr<Client>, std::string> connect(const Endpoint& edge,
                                                              const ClientOptions& options = {});
  // Tries the candidates in order (e.g. pickFastestEdge's), each with its own
  // join token and the full connect_timeout_us, and returns the first that
  // answers; options.join_token is ignored. The error names every failure.
  static Result<std::unique_ptr<Client>, std::string> connect(std::span<const EdgeCandidate> candidates,
                                                              const ClientOptions& options = {});

  // close()s. Must not run on the SDK thread (i.e. inside a callback).
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  NodeId edgeNode() const { return edge_node_; }
  Endpoint edge() const { return edge_; }
  // The local address of the socket (the one the edge sees, on loopback).
  Endpoint localEndpoint() const { return local_; }

  // Declares a stream published from here: makeStreamId(edgeNode(), local_id).
  // Its DATA sequence starts at 0; publishing it again keeps the sequence
  // and takes the new options. An error (nothing changes) when
  // options.latency_budget_us is outside 10 ms..2,550 ms.
  Result<StreamId, std::string> publish(std::uint32_t local_id, const PublishOptions& options = {});

  // Sends one DATA packet on a stream returned by publish(): next sequence,
  // timestamp_us = wall clock now. Returns false if the client is closed, the
  // stream was not published, the payload exceeds wire::kMaxPayloadBytes, or
  // the socket refused the datagram (counted in send_failed; its sequence
  // number is used up, so subscribers see the loss).
  bool send(StreamId stream, std::span<const std::byte> payload);

  // Sends SUBSCRIBE now and every refresh_interval_us until unsubscribe() or
  // close(). `callback` must not be empty (asserted). Subscribing again replaces the callback
  // and options and restarts the stream's playout (packets held for the old
  // one are dropped). When this returns, a replaced callback is no longer
  // running (unless the caller is that callback). Returns an error, and
  // subscribes nothing, when the options are invalid.
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
  // This client's address and port as the edge sees them (from its WELCOME):
  // the public address behind a NAT.
  Endpoint reflexiveAddress() const;
  // Replaces the join token sent in keepalives (and in a rejoin): a fresher
  // token extends the session at the edge, which ends it when the token it
  // holds expires. Any thread. False (unchanged) if the token is longer than
  // wire::kMaxJoinTokenBytes.
  bool setJoinToken(std::string token);

 private:
  struct Subscription {
    std::uint64_t id;  // unique per subscribe() call: tells a replaced subscription's playout apart
    ReceiveCallback callback;
    SubscribeOptions options;
  };
  // A subscription's playout state; SDK thread only.
  struct StreamPlayout {
    std::uint64_t subscription_id;
    PlayoutBuffer buffer;
    PlayoutCounters reported;  // already added to counters_
    std::size_t reported_held = 0;
  };
  class PlayoutDispatch;
  struct AtomicCounters {
    std::atomic<std::uint64_t> packets_sent{0};
    std::atomic<std::uint64_t> send_failed{0};
    std::atomic<std::uint64_t> packets_received{0};
    std::atomic<std::uint64_t> hello_replies{0};
    std::atomic<std::uint64_t> rejoins{0};
    std::atomic<std::uint64_t> data_delivered{0};
    std::atomic<std::uint64_t> malformed{0};
    std::atomic<std::uint64_t> unauthenticated{0};
    std::atomic<std::uint64_t> unexpected_type{0};
    std::atomic<std::uint64_t> unknown_stream{0};
    std::atomic<std::uint64_t> receive_errors{0};
    std::atomic<std::uint64_t> playout_lost{0};
    std::atomic<std::uint64_t> playout_late{0};
    std::atomic<std::uint64_t> playout_duplicates{0};
    std::atomic<std::uint64_t> playout_reordered{0};
    std::atomic<std::uint64_t> playout_overflows{0};
    std::atomic<std::uint64_t> playout_resyncs{0};
    std::atomic<std::uint64_t> playout_held{0};
  };

  Client(UniqueFd socket, UniqueFd wake, const Endpoint& edge, const Endpoint& local, const JoinHandshake& joined,
         const ClientOptions& options);
  // The session every packet is tagged under (wire/packet.h, "Client join").
  struct Session {
    SessionTagger tagger;
    HelloNonce nonce;  // of the join that made it; keepalives carry it
  };

  void run();  // the SDK thread
  void readDatagrams();
  void onDatagram(std::span<const std::byte> datagram, std::uint64_t arrival_us, TimeUs now);
  void deliver(const wire::PacketView& packet, std::uint64_t arrival_us, TimeUs now);
  // Releases what playout deadlines <= now let go; returns the earliest
  // deadline still pending. Drops playout state of ended subscriptions.
  std::optional<TimeUs> runPlayoutTimers(TimeUs now);
  bool isCurrent(StreamId stream, std::uint64_t subscription_id);
  void reportPlayout(StreamPlayout& playout);
  void refreshSubscriptions();
  void sendControl(wire::PacketType type, StreamId stream);
  // Tagged keepalive HELLO with the join token.
  void sendHello();
  // Joining again after the edge stopped answering (SDK thread).
  void startRejoin();
  void sendRejoinHello();
  void onJoinAnswer(const wire::PacketView& packet, TimeUs now);
  // Tags the untagged packet buffer[0, size) with the session key and sends it.
  bool sendDatagram(wire::PacketBuffer& buffer, std::size_t size);
  // Returns once no callback is running, unless called on the SDK thread.
  void waitForRunningCallback();

  const UniqueFd socket_;
  const UniqueFd wake_;  // eventfd: close() wakes the SDK thread's poll()
  const Endpoint edge_;
  const Endpoint local_;
  const NodeId edge_node_;
  const ClientOptions options_;

  std::atomic<bool> closed_{false};
  AtomicCounters counters_;

  mutable std::mutex send_mutex_;  // guards session_, reflexive_ and join_token_
  Session session_;
  Endpoint reflexive_;
  std::string join_token_;  // sent in keepalives; setJoinToken replaces it
  std::optional<JoinHandshake> rejoin_;  // SDK thread only
  // The edge's packets are checked with the session key too (SDK thread
  // only: its own context, so receiving never waits for a sender).
  std::optional<crypto::Gmac> receive_key_;
  crypto::ReplayWindow receive_window_;
  TimeUs last_answer_us_ = 0;            // SDK thread only: last keepalive answer

  struct Published {
    std::uint32_t next_sequence = 0;
    std::uint8_t flags = 0;           // header flags of its DATA
    std::uint8_t latency_budget = 0;  // header byte of its DATA
  };
  std::mutex publish_mutex_;  // guards published_
  std::map<StreamId, Published> published_;

  // Lock order: dispatch_mutex_ before subscriptions_mutex_. The SDK thread
  // holds dispatch_mutex_ while it looks up and runs a callback, so taking it
  // elsewhere waits for a running callback to return.
  std::mutex dispatch_mutex_;
  std::mutex subscriptions_mutex_;  // guards subscriptions_
  std::map<StreamId, std::shared_ptr<const Subscription>> subscriptions_;
  std::atomic<std::uint64_t> next_subscription_id_{1};

  std::map<StreamId, StreamPlayout> playouts_;  // SDK thread only

  std::vector<std::pair<StreamId, std::uint64_t>> refresh_scratch_;  // (stream, subscription id); SDK thread only
  std::thread thread_;
};

}  // namespace overline::sdk
