#pragma once
// SessionCore: everything an SDK client does on the wire, without sockets,
// threads or clocks. The I/O adapter (sdk::Client) feeds it datagrams and
// its clocks; a simulator can run many in one process.
//
// What it keeps:
//  * Sessions with up to `homes` edges at once (EdgeSession: join, tagged
//    keepalives, dead-edge detection), picked from an ordered list of
//    candidates (CandidateRotation). A session that dies (no valid packet
//    from its edge for dead_after_us) or fails to join is dropped and
//    replaced by the next free candidate at once. The oldest joined
//    session is the primary: edgeNode(), reflexiveAddress(); the
//    application hears of it through SessionEvents.
//  * Publications: publish(local_id) names the stream makeStreamId(first
//    edge ever joined, local_id) for the core's whole life; its DATA goes
//    through every joined session (identical header: sequence, timestamp),
//    and its sequence numbers continue across moves. Any edge accepts DATA
//    of a stream whose origin is another node when the token grants
//    publishing it.
//  * Subscriptions: SUBSCRIBE through every joined session at once, on
//    every join, and every refresh_interval_us; UNSUBSCRIBE through every
//    one. DATA from any joined edge goes to the SubscriptionSet (playout:
//    a dual-homed client's second copies dropped, a move's gap waited out
//    within the budget).
//  * Counters (SessionCounters): every received datagram is accounted for;
//    anything not from a joined edge's session (another source, a bad or
//    missing tag, a replay) is a counted drop and changes nothing.
//
// Outputs go to the SessionSink: datagrams from every call, DATA and events
// only from onDatagram() and onTick().
//
// Time: `now` is the caller's monotonic clock (µs) in every call; wall-clock
// microseconds enter only as DATA timestamps (send()) and arrival times
// (onDatagram()), passed through to the sink and the playout. Not
// thread-safe: the caller serialises every call.

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/endpoint.h"
#include "common/result.h"
#include "common/types.h"
#include "common/wire/packet.h"
#include "sdk/core/candidate_rotation.h"
#include "sdk/core/edge_session.h"
#include "sdk/core/session_io.h"
#include "sdk/core/subscription_set.h"

namespace overline::sdk {

struct SessionConfig {
  // Tried in this order (see CandidateRotation); distinct endpoints, at least one.
  std::vector<EdgeCandidate> candidates;
  // Edges to keep a session with at once: 1, or 2 (dual-homed: every DATA
  // through both, every subscription through both, so one edge dying loses
  // nothing). Fewer when there are fewer candidates.
  std::size_t homes = 1;
  EdgeSessionTiming timing = {};
  // SUBSCRIBE refresh; the relay's default (SubscriptionTimers), and an edge
  // expires a subscription not refreshed for 1.5 s.
  DurationUs refresh_interval_us = 500 * kMillisecond;
  // How long a candidate that failed is passed over (CandidateRotation).
  DurationUs candidate_backoff_us = 2 * kSecond;
  std::uint8_t hop_limit = wire::kDefaultHopLimit;  // of every DATA sent
  // The public IPv4 address the join token is bound to (the controller's
  // observed_address), host order; 0: not known. A WELCOME that sees
  // another one counts as reflexive_mismatches.
  std::uint32_t expected_public_ip = 0;
};

class SessionCore {
 public:
  // An error names the first bad field of `config`. `sink` must outlive the
  // core. Nothing is sent before the first onTick(), which is due at `now`.
  static Result<std::unique_ptr<SessionCore>, std::string> create(SessionConfig config, SessionSink& sink,
                                                                  NonceSource nonces, TimeUs now);
  SessionCore(const SessionCore&) = delete;
  SessionCore& operator=(const SessionCore&) = delete;

  // A datagram received from `from` at `now` (wall clock `arrival_us`).
  void onDatagram(const Endpoint& from, std::span<const std::byte> datagram, TimeUs now, std::uint64_t arrival_us);
  // Runs every timer due at `now`: HELLOs, dead edges and failed joins (and
  // their replacement), SUBSCRIBE refresh, playout deadlines.
  void onTick(TimeUs now);
  // When onTick() has work next.
  TimeUs nextDeadline() const;

  // Declares a stream published from here: makeStreamId(originNode(),
  // local_id). Its sequence starts at 0; publishing it again keeps the
  // sequence and takes the new options. An error (nothing changes) before
  // the first join or when options.latency_budget_us is outside 10 ms..2,550 ms.
  Result<StreamId, std::string> publish(std::uint32_t local_id, const PublishOptions& options);
  // One DATA packet on a published stream, with the next sequence and
  // `timestamp_us` (the publisher's wall clock), through every joined
  // session. False when the stream is not published, the payload exceeds
  // wire::kMaxPayloadBytes (both: no sequence used), no session is joined
  // (data_without_edge) or no edge's datagram was accepted (send_failed);
  // in the last two cases the sequence is used up, so subscribers see the loss.
  bool send(StreamId stream, std::span<const std::byte> payload, std::uint64_t timestamp_us);
  // Subscribes (SUBSCRIBE through every joined session now and on every
  // later join and refresh) and returns the subscription's id, unique over
  // the core's life. Subscribing again replaces the config and restarts the
  // stream's playout (held packets are dropped) under a new id. An error,
  // and nothing changes, when the config is invalid.
  Result<std::uint64_t, std::string> subscribe(StreamId stream, const SubscriptionConfig& config);
  // UNSUBSCRIBE through every joined session; the stream's held packets are
  // dropped. No-op for a stream not subscribed.
  void unsubscribe(StreamId stream);
  // Replaces the join token of every candidate: later joins and keepalives
  // carry it (the controller issues one token good at all of them). False
  // (unchanged) when longer than wire::kMaxJoinTokenBytes.
  bool setJoinToken(const std::string& token);

  // The node of the first edge ever joined: the origin of every stream
  // publish() names. kNoNode before.
  NodeId originNode() const { return origin_node_; }
  // The primary session's edge, or the last one while none is joined
  // (kNoNode before the first join).
  NodeId edgeNode() const { return last_primary_node_; }
  Endpoint edgeEndpoint() const { return last_primary_endpoint_; }
  // This client's address as the primary edge sees it (the last primary's
  // while none is joined).
  Endpoint reflexiveAddress() const { return last_primary_reflexive_; }
  bool connected() const { return primary_ != nullptr; }
  // The joined sessions, the primary first.
  std::vector<EdgeStatus> edges() const;
  SessionCounters counters() const;

 private:
  struct Session {
    std::size_t candidate;
    EdgeSession edge;
  };
  struct Publication {
    std::uint32_t next_sequence = 0;
    std::uint8_t flags = 0;           // header flags of its DATA
    std::uint8_t latency_budget = 0;  // header byte of its DATA
  };

  SessionCore(SessionConfig config, SessionSink& sink, NonceSource nonces, TimeUs now);

  // Sessions.
  void openSessions(TimeUs now);
  void dropExpiredSessions(TimeUs now);
  void onJoined(Session& session);
  void promote(const Session& session);
  const Session* oldestJoined() const;
  Session* sessionAt(const Endpoint& from);
  void sendHellos(TimeUs now);
  // Sending.
  void sendControl(wire::PacketType type, StreamId stream, Session& session);
  void sendControlToAll(wire::PacketType type, StreamId stream);
  void refreshSubscriptions(TimeUs now);
  // Tags and sends through `session`; counts packets_sent or send_failed.
  bool sendSealed(Session& session, wire::PacketBuffer& buffer, std::size_t size);
  bool sendRaw(const Endpoint& to, std::span<const std::byte> datagram);

  const SessionConfig config_;
  SessionSink& sink_;
  const NonceSource nonces_;
  CandidateRotation rotation_;
  std::vector<std::string> tokens_;  // per candidate; setJoinToken replaces them
  // unique_ptr: a Session's address is stable while others come and go.
  std::vector<std::unique_ptr<Session>> sessions_;
  const Session* primary_ = nullptr;
  NodeId origin_node_ = kNoNode;
  NodeId last_primary_node_ = kNoNode;
  Endpoint last_primary_endpoint_;
  Endpoint last_primary_reflexive_;
  bool lost_ = false;                   // kLost emitted; the next join is kConnected
  std::size_t failures_since_joined_ = 0;  // join failures while no session was joined
  TimeUs next_open_at_;                 // when to (re)try opening sessions
  TimeUs next_refresh_at_;

  std::map<StreamId, Publication> publications_;
  SubscriptionSet subscriptions_;
  SessionCounters counters_;  // data_delivered and playout_* come from subscriptions_
};

}  // namespace overline::sdk
