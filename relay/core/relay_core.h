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
//  * Trust (docs/architecture.md, "Trust"): every packet from a neighbour's
//    line must carry a valid tag under the pair's key and a fresh packet
//    number (NeighbourAuth), else it is dropped (unauthenticated, bad_tag,
//    replayed) before anything else looks at it; every packet to a
//    neighbour is tagged. Insecure lab mode turns both off.
//  * Clients join in two steps (client_gate.h): an untagged HELLO is
//    answered with a stateless CHALLENGE (no state, fewer bytes than the
//    HELLO); a HELLO echoing a valid cookie, with a join token the
//    JoinPolicy admits (join_check.h; else bad_token, unanswered), creates
//    the session (bounded by Limits::max_clients and max_clients_per_ip)
//    and is answered with a WELCOME carrying the session key. Every later
//    packet from the client must be tagged with that key (else
//    unauthenticated / bad_tag / replayed). A tagged HELLO is a keepalive
//    (answered with a header-only HELLO) and may carry a fresh token that
//    extends the session; a session whose token has expired ends.
//  * The token's grant gates SUBSCRIBE (subscribe role, stream scope) and
//    DATA (publish role, stream scope): not_permitted. The first client
//    session to publish a stream at its origin owns it while the session
//    lives; DATA from another is not_owner. A client may publish a stream
//    whose home (the id's upper 32 bits) is another relay: a publisher that
//    moved here, or publishes through two edges (the token's stream scope
//    decides who may). Client DATA more than
//    kMaxSequenceJump ahead of the stream's window, or stamped more than
//    kMaxFutureUs ahead of the wall clock, is dropped and moves nothing.
//  * Stream directory (stream_directory.h): a relay where a client has
//    published a stream within the last refresh interval is one of its
//    origins. It sends ANNOUNCE for its streams to every neighbour at once
//    when a publication starts and then every refresh interval; relays
//    record announcements and flood new ones on. A stream's origins are the
//    announced ones, or its home while none is known; a relay that is an
//    origin itself has no upstream.
//  * SUBSCRIBE(stream) from a neighbour or client records that downstream
//    with a soft-state expiry. If this relay is not an origin of the stream
//    and does not yet carry it, it sends SUBSCRIBE to the next hop toward
//    each origin (RouteTable, direct neighbours implicit): the upstream
//    (toward the first origin that has a next hop: the home when it is
//    announced, else the oldest announced) and one extra upstream per other
//    next hop, so a dual-homed stream arrives over both branches and one
//    origin dying loses nothing (dedup drops the second copy). Refreshes go
//    upstream every refresh interval while any downstream remains; a change
//    of the stream's origins moves them at the next tick.
//  * UNSUBSCRIBE or expiry removes a downstream; when a stream has none left,
//    the relay sends UNSUBSCRIBE upstream and forgets the stream.
//  * DATA from the stream's upstream or an extra upstream (or from a local
//    client publishing the stream) is sent once to every downstream, with
//    hop_limit decremented and sender_node_id set to this relay. Every stream
//    has a DedupWindow: a sequence already forwarded (or too old to tell) is
//    dropped as `duplicate`. DATA flagged kFlagRedundant goes to each
//    neighbour downstream twice: on the active link and on the
//    PathSelector's second (disjoint) link, when one is not DOWN.
//  * A neighbour is recognised by the source endpoint matching any of its
//    configured lines, and is one downstream whichever line it uses.
//  * Links: every (local line, neighbour line) pair is a link with a
//    LinkMonitor (link_monitor.h), probed every ProbingConfig::interval_us;
//    probes are staggered evenly over the interval across all links. PROBEs
//    from a neighbour are answered with a same-size PROBE_ACK from the line
//    they arrived on to their source; PROBE/PROBE_ACK from anyone else is
//    dropped as unknown_source, unanswered.
//  * Path choice: traffic to a neighbour goes out on its PathSelector's
//    active link (path_selector.h), re-chosen at every tick; until a link is
//    measured that is local line 0 -> the neighbour's line 0.
//  * Failover: a neighbour is down when every link to it is DOWN (UNKNOWN
//    links are not). The FailoverTable (failover_table.h) turns the route
//    table's primary/backup into the next hop toward each destination; when
//    it changes, streams move at that same tick: SUBSCRIBE to the new
//    upstream at once. The old upstream gets UNSUBSCRIBE at once if it is
//    down; if not (a failback, a route change) only when the new upstream's
//    first DATA arrives, or one refresh interval later on an idle stream
//    (make before break). DATA from the old upstream is accepted for one
//    refresh interval after the move, so nothing in flight on the old branch
//    is lost; dedup drops what both branches deliver.
//  * A client is answered on the line it last used and is forgotten, with its
//    subscriptions, after Limits::client_expiry_us of silence.
//  * Loss recovery per hop (RecoveryConfig::nack; docs/architecture.md, "Loss
//    recovery"): every stream has a NackTracker fed with the DATA its
//    upstream delivers; due NACKs go to the upstream on the active link and
//    on duplicateLink(), at most kMaxNackSequences sequences per NACK.
//    DATA forwarded to neighbour relays is kept in a RetransmitBuffer; a NACK
//    from a downstream neighbour of the stream is answered with each kept,
//    unexpired packet, kFlagRetransmit set, on second() (else the active
//    link), and when that link's measured loss is at least
//    dual_retransmit_loss also on the active link (or, without a second,
//    on duplicateLink()). One packet goes to one neighbour at most
//    once per max(srtt / 2, kMinRetransmitSpacingUs), so a NACK arriving on
//    two links is answered once. A retransmission received takes the
//    normal DATA path (upstream check, dedup) and is forwarded with the flag
//    cleared. A packet that filled a gap here (late or retransmitted) goes to
//    a neighbour over a lossy active link (loss >= dual_retransmit_loss) on
//    duplicateLink() too: the neighbour has been missing it all along. NACKs
//    always go on duplicateLink() too; SUBSCRIBEs over a lossy active link
//    go on every link to the neighbour (soft state). NACKs from anyone
//    else are counted drops (not_downstream, malformed_nack; from clients
//    unsupported_type).
//  * FEC per hop (docs/architecture.md, "Loss recovery"): every (stream,
//    downstream neighbour) has an FecPolicy and an FecEncoder fed with the
//    first transmission of each DATA packet to that neighbour; parity goes
//    out on the active link right after the group it protects, partial
//    groups are flushed at the tick. FEC is used only where NACK is too slow
//    for the stream's budget: fewer than FecPolicyConfig::min_nack_rounds
//    NACK rounds (budget / (srtt + nack_allowance)) fit, or NACK is off;
//    then the policy sets the parity from the active link's loss (none
//    below 1%). Every stream has an FecDecoder for the FEC of its upstream;
//    it sees every DATA from the upstream while FEC is active, and the
//    packets it rebuilds take the normal DATA path. A NACK due for a
//    sequence a pending group may still repair waits for the tracker's next
//    round. FEC from another neighbour is dropped as not_upstream, a bad
//    FEC payload as malformed_fec.

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/endpoint.h"
#include "common/types.h"
#include "common/wire/packet.h"
#include "relay/core/client_gate.h"
#include "relay/core/deadline_queue.h"
#include "relay/core/egress.h"
#include "relay/core/failover_table.h"
#include "relay/core/neighbour_auth.h"
#include "relay/core/neighbour_table.h"
#include "relay/core/packet_sink.h"
#include "relay/core/relay_config.h"
#include "relay/core/relay_core_state.h"
#include "relay/core/relay_counters.h"
#include "relay/core/retransmit_buffer.h"
#include "relay/core/stream_directory.h"
#include "relay/core/subscription_table.h"

namespace overline::relay {

class RelayCore {
 public:
  // Loss recovery timing (see the class comment): the least spacing between
  // two retransmissions of one packet to one neighbour, and the RTT assumed
  // toward a neighbour whose active link has no RTT sample yet.
  static constexpr DurationUs kMinRetransmitSpacingUs = 5 * kMillisecond;
  static constexpr DurationUs kUnmeasuredSrttUs = NeighbourTable::kUnmeasuredSrttUs;
  // A stream that forwarded no DATA for this long, with no FEC group or
  // decoder state pending, leaves the FEC tick (streams_with_data_).
  static constexpr DurationUs kFecIdleUs = 2 * kSecond;
  // Client DATA checks (see the class comment): 16,384 sequences is 16 s at
  // 1,000 packets/s; a wall-clock timestamp may run ahead of this relay's
  // clock by the publisher's clock error, not more than 10 s.
  static constexpr std::uint32_t kMaxSequenceJump = 16384;
  static constexpr DurationUs kMaxFutureUs = 10 * kSecond;

  // `sink` must outlive this RelayCore and must not call back into it.
  // `config` must name a node id, >= 1 line and neighbours with >= 1 line each
  // (relay/config validates it; violations assert).
  RelayCore(RelayCoreConfig config, PacketSink& sink);

  // One received datagram on local line `line` from `from`.
  void onDatagram(LineIndex line, const Endpoint& from, std::span<const std::byte> datagram, TimeUs now);

  // Runs what is due: probes and link states, path choice, failover, FEC
  // flushes and NACKs of streams carrying DATA, and the subscriptions and
  // client sessions whose deadline has come (refresh upstream, expiry).
  // Call it at nextDeadline(); calling it earlier is harmless.
  void onTick(TimeUs now);
  // When onTick is next needed: the earliest of the next link tick (every
  // tickInterval() while there are neighbours), the next FEC/NACK round
  // while some stream carries DATA or misses packets, the next announcement,
  // directory expiry, and the earliest stream or client deadline. Idle
  // streams add nothing per tick: they are visited only when their own
  // deadline comes. Cheap (no scan); may move earlier after onDatagram.
  TimeUs nextDeadline() const;
  // The cadence of the periodic parts (links, FEC, NACK rounds).
  DurationUs tickInterval() const;

  // Packets the sink accepted but could not send after all (a batched sink
  // learns it when it flushes): counted as send_failed drops (they stay in
  // packets_sent, which counts what the sink accepted).
  void countSendFailures(std::size_t packets) { egress_.countSendFailures(packets); }

  // The wall-clock time (unix microseconds) that join tokens are checked
  // against. The core reads no clock, so the I/O layer sets it before the
  // first datagram and then at every tick (token expiry has 1 s resolution).
  // Until it is set, a JoinPolicy that requires tokens admits nobody.
  void setWallClockUs(TimeUs wall_now_us) { wall_now_us_ = wall_now_us; }

  // Replaces the route table (an immutable snapshot; null means no routes).
  // Existing upstream subscriptions move to the new next hop at the next
  // onTick: SUBSCRIBE to the new upstream, UNSUBSCRIBE to the old one as
  // described above (make before break).
  void setRoutes(RouteTablePtr routes);

  // Replaces the neighbour set (the controller's peer list). Each neighbour
  // needs >= 1 line, an id other than this node's and canKey() (asserted).
  // Its pushed keys (NeighbourConfig::keys) replace its mesh-derived ones;
  // without any it has the mesh keys' pair keys. A neighbour
  // whose lines are unchanged keeps its link monitors, path selector and
  // down state; a new one, or one whose lines changed, starts with fresh
  // (unmeasured) links, its first probes staggered over one interval. A
  // neighbour left out is forgotten: it stops being a downstream of every
  // stream (a stream left without downstreams is closed, UNSUBSCRIBE
  // upstream), and streams whose upstream it was get UNSUBSCRIBE sent to it
  // and move to their new next hop at the next onTick, as after setRoutes.
  void setNeighbours(std::vector<NeighbourConfig> neighbours);

  // Replaces the probing settings of every link (a config reload), keeping
  // each link's measurements and state; links created later use them too.
  // `probing.loss_window` must equal the current one (asserted): the windows
  // keep their size. tickInterval() may change; the caller re-reads it.
  void setProbing(const ProbingConfig& probing);
  // Replaces the join policy; clients already joined stay.
  void setJoinPolicy(JoinPolicy join) { config_.join = std::move(join); }
  // Replaces the mesh keys (a config reload: a key rotation step). Kept
  // epochs keep their replay windows; packet numbers go on.
  void setMeshKeys(std::vector<MeshKey> keys) { auth_.setMeshKeys(std::move(keys)); }
  // Whether `neighbour` would have a key to tag packets with: auth is off,
  // it has pushed keys, or there are mesh keys. setNeighbours needs it of
  // every neighbour (asserted; the entry is left out).
  bool canKey(const NeighbourConfig& neighbour) const { return auth_.wouldHaveKey(neighbour.keys); }
  const ProbingConfig& probing() const { return config_.probing; }

  const RelayCounters& counters() const { return counters_; }
  RelayGauges gauges() const;
  // Every link, neighbour by neighbour in config order, then by local line
  // and neighbour line. The set follows the neighbour set: the config's, then
  // each setNeighbours().
  std::vector<LinkSnapshot> links() const { return neighbours_.links(); }
  NodeId nodeId() const { return config_.node_id; }

 private:
  void onNeighbourPacket(Neighbour& neighbour, LineIndex remote_line, LineIndex line, const Endpoint& from,
                         const wire::PacketView& packet, TimeUs now);
  // DATA from a neighbour: admitted from the stream's upstreams only.
  void onNeighbourData(Neighbour& neighbour, const wire::PacketView& packet, TimeUs now);
  void onClientPacket(LineIndex line, const Endpoint& from, const wire::PacketView& packet, TimeUs now);
  // An untagged HELLO: CHALLENGE, or a new session and WELCOME.
  void onClientHello(LineIndex line, const Endpoint& from, const wire::PacketView& packet, TimeUs now);
  // A joined client's tagged HELLO: keepalive answer, token renewal.
  void onClientKeepalive(const Endpoint& from, ClientSession& client, const wire::PacketView& packet);
  void onClientData(const Endpoint& from, ClientSession& client, const wire::PacketView& packet, TimeUs now);
  // Sends a join answer (CHALLENGE, WELCOME, keepalive HELLO) to `to`.
  void sendJoinAnswer(LineIndex line, const Endpoint& to, wire::PacketType type, std::uint32_t sequence,
                      std::span<const std::byte> payload);
  // Tags `packet` (untagged) with the client's session key and sends it on
  // the line the client last used.
  bool sendToClient(const Endpoint& to, ClientSession& client, std::span<const std::byte> packet);
  // The client's token has expired at the current wall clock.
  bool tokenExpired(const ClientSession& client) const;
  // When (on the monotonic clock) the client's token expires, for the deadline.
  TimeUs tokenDeadline(const ClientSession& client, TimeUs now) const;
  void onSubscribe(const PeerId& from, ClientSession* client, const wire::Header& header, TimeUs now);
  void onUnsubscribe(const PeerId& from, const wire::Header& header);
  // Sends one rewritten copy of an admitted DATA packet to every downstream
  // but `from` (two to neighbours when it is redundant), unless it is a
  // duplicate; keeps it for retransmission when it went to a neighbour, and
  // feeds the stream's NackTracker when it came from a neighbour.
  // `packet` is the parsed datagram (its tag, if any, is left behind).
  // Returns whether the packet was new here (passed dedup).
  bool forwardData(const PeerId& from, const wire::PacketView& packet, StreamId id, Stream& stream, TimeUs now);
  // One downstream neighbour's copy of a DATA packet being forwarded: the
  // active link, a second copy where the packet is redundant or filled a gap
  // over a lossy link, the retransmit credit and the FEC group it joins.
  bool sendDataToNeighbour(Downstream& downstream, const wire::PacketView& copy, bool filled, TimeUs now);
  // An FEC packet from neighbour `neighbour`: feeds the stream's decoder.
  void onFec(const Neighbour& neighbour, const wire::PacketView& packet, TimeUs now);
  // Forwards the packets in fec_recovered_ (rebuilt by `stream`'s decoder,
  // whose counters were `before` the call) as DATA from `from`, and counts
  // the decoder's failures since `before`.
  void deliverRecovered(const PeerId& from, StreamId id, Stream& stream, const FecDecoderCounters& before,
                        TimeUs now);
  // Updates the FEC protection of every downstream hop of the streams that
  // carried DATA lately, flushes due groups, ages out decoders; streams
  // idle for longer than kFecIdleUs with nothing pending leave the set.
  void tickFec(TimeUs now);
  // The policy input for a hop to `neighbour` of a stream with budget
  // `budget_us`, with the loss zeroed where NACK alone fits the budget.
  FecPolicyInput fecInput(const Neighbour& neighbour, DurationUs budget_us) const;
  // Sends fec_out_ to `neighbour` on its active link.
  void sendFec(const Neighbour& neighbour);
  // A NACK from neighbour `neighbour`: retransmits what it asks for.
  void onNack(Neighbour& neighbour, const wire::Header& header, std::span<const std::byte> payload, TimeUs now);
  // Sends the due NACKs of every stream with missing sequences.
  void tickRecovery(TimeUs now);
  void sendNacks(StreamId id, const Neighbour& upstream, std::span<const std::uint32_t> sequences);
  // The latency budget of a DATA packet with this header.
  DurationUs budgetOf(const wire::Header& header) const;
  // Drops every downstream, upstream and previous upstream that is the
  // neighbour `id` (which must still be in the table), with the
  // UNSUBSCRIBEs that implies.
  void forgetNeighbour(NodeId id);

  // The neighbours a stream is subscribed from (see the class comment).
  struct UpstreamPlan {
    bool origin = false;  // this relay is an origin: no upstream
    std::size_t origin_count = 0;  // the origins planned toward (0 at an origin)
    NodeId upstream = kNoNode;
    std::array<NodeId, StreamDirectory::kMaxOriginsPerStream> extras{};
    std::size_t extra_count = 0;

    std::span<const NodeId> extraView() const { return {extras.data(), extra_count}; }
  };
  // `stream` is null for a stream not created yet. Its downstreams, and
  // `joining` (a neighbour subscribing now, or kNoNode), are never planned
  // as upstreams. A branch whose next hop is another origin, a node its
  // client downstreams avoid, or `avoid` (a client subscribing now) takes
  // the route's other hop where it can.
  UpstreamPlan planUpstreams(StreamId id, const Stream* stream, NodeId joining, NodeId avoid, TimeUs now) const;
  // A local client published the stream within the last refresh interval.
  bool publishedHere(StreamId id, TimeUs now) const;
  static bool isUpstream(const Stream& stream, NodeId neighbour);
  // An ANNOUNCE from a neighbour: recorded, and flooded on when new.
  void onAnnounce(const Neighbour& neighbour, const wire::PacketView& packet, TimeUs now);
  // Sends this relay's live publications (ANNOUNCE packets) when due, and
  // expires the directory. Streams whose origins changed are re-planned.
  void tickDirectory(TimeUs now);
  // ANNOUNCE packets naming this relay as the origin of `streams`, to every
  // neighbour (announces_sent counts the neighbours).
  void announce(std::span<const StreamId> streams);
  // Sends `packet` (untagged) to every neighbour but `except` as soft state
  // (NeighbourTable::sendSoftState). Returns the neighbours it went to.
  std::size_t floodToNeighbours(std::span<const std::byte> packet, NodeId except);

  // Index of `peer` in stream.downstreams, or nullopt.
  static std::optional<std::size_t> findDownstream(const Stream& stream, const PeerId& peer);
  // Next hop toward `origin` (route table first, then direct neighbours), or
  // kNoNode when there is none or the route names a node that is not a neighbour.
  NodeId resolveNextHop(NodeId origin) const;
  // Moves the stream to the current next hop, or re-sends SUBSCRIBE when due.
  void maintainUpstream(StreamId id, Stream& stream, TimeUs now);
  // Sends the deferred UNSUBSCRIBE to the previous upstream, if one is due.
  void releasePreviousUpstream(StreamId id, Stream& stream);
  // Removes downstreams[index] (and the stream from its client's list). Does
  // not forget an emptied stream; callers do that with closeStream.
  void detachDownstream(StreamId id, Stream& stream, std::size_t index);
  // Sends UNSUBSCRIBE upstream (if any) and forgets the stream.
  SubscriptionTable::iterator closeStream(SubscriptionTable::iterator it);
  void removeClient(std::unordered_map<Endpoint, ClientSession>::iterator it);

  // Deadlines (see nextDeadline): a stream's or client's next one goes into
  // its queue; a tick services only the due ones. A serviced stream expires
  // its downstreams, is closed when none is left, refreshes or moves its
  // upstream when due, and ends the previous upstream's grace.
  // `replan`: plan its upstreams again now (next hops or origins changed).
  // Returns the iterator after `it` (the stream may have been closed).
  SubscriptionTable::iterator serviceStream(SubscriptionTable::iterator it, TimeUs now, bool replan);
  void serviceStreams(TimeUs now);
  void serviceClients(TimeUs now);
  // A stream whose upstreams must be planned again at the next tick.
  void replanLater(StreamId id) { replan_.insert(id); }

  void sendControl(wire::PacketType type, StreamId stream, NodeId neighbour, std::uint8_t hop_limit);

  RelayCoreConfig config_;
  RelayCounters counters_;
  std::optional<TimeUs> wall_now_us_;  // setWallClockUs; for join tokens and key epochs
  NeighbourAuth auth_;
  Egress egress_;
  NeighbourTable neighbours_;
  ClientGate gate_;
  FailoverTable failover_;
  bool failover_dirty_ = true;     // a neighbour went down or up: re-evaluate the failover table
  bool upstreams_dirty_ = false;   // next hops changed: every stream is re-planned at the next tick
  std::unordered_set<StreamId> replan_;  // streams re-planned at the next tick (their origins changed)

  std::unordered_map<Endpoint, ClientSession> clients_;            // <= Limits::max_clients
  std::unordered_map<std::uint32_t, std::size_t> clients_per_ip_;  // IPv4 -> sessions, <= max_clients_per_ip
  SubscriptionTable streams_;  // <= Limits::max_streams, of which <= max_client_streams created by clients
  std::unordered_map<StreamId, Publication> owners_;               // streams published here
  DeadlineQueue<Endpoint> client_deadlines_;
  std::vector<StreamId> due_streams_;    // scratch for serviceStreams
  std::vector<Endpoint> due_clients_;    // scratch for serviceClients
  TimeUs next_link_tick_us_ = 0;         // when the links are next ticked
  TimeUs last_tick_us_ = 0;
  // Where streams are published now (announcements), this relay's own
  // announcement numbers, and when it next announces.
  StreamDirectory directory_;
  std::uint32_t announce_sequence_ = 0;
  TimeUs next_announce_us_ = 0;
  std::vector<StreamId> announce_scratch_;
  std::size_t active_fec_decoders_ = 0;  // streams whose decoder holds state, as of the last tick
  // Streams that forwarded DATA lately, the only ones the
  // FEC tick visits. An FEC group, its policy and the decoder need the tick
  // only while DATA flows (and briefly after, to flush).
  std::unordered_set<StreamId> streams_with_data_;  // exactly the streams with fec_ticked
  // The one copy of a DATA packet being forwarded, rewritten per hop.
  wire::PacketBuffer forward_buffer_{};

  // Loss recovery; the buffer exists only with RecoveryConfig::nack.
  std::optional<RetransmitBuffer> retransmit_;
  std::unordered_set<StreamId> streams_with_missing_;  // whose NackTracker hasMissing()
  std::vector<std::uint32_t> due_sequences_;           // scratch for tickRecovery
  // FEC scratch: parity from an encoder, DATA rebuilt by a decoder.
  const FecPolicyConfig fec_policy_config_{};
  std::vector<FecPacket> fec_out_;
  std::vector<FecPacket> fec_recovered_;

 public:
  RelayCore(const RelayCore&) = delete;
  RelayCore& operator=(const RelayCore&) = delete;
};

}  // namespace overline::relay
