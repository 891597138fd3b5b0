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
#include <memory>
#include <optional>
#include <span>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/endpoint.h"
#include "common/types.h"
#include "common/wire/packet.h"
#include "common/crypto/gmac.h"
#include "common/crypto/replay_window.h"
#include "common/token/join_token.h"
#include "relay/core/client_gate.h"
#include "relay/core/dedup_window.h"
#include "relay/core/failover_table.h"
#include "relay/core/fec_decoder.h"
#include "relay/core/fec_encoder.h"
#include "relay/core/fec_policy.h"
#include "relay/core/link_monitor.h"
#include "relay/core/neighbour_auth.h"
#include "relay/core/nack_tracker.h"
#include "relay/core/packet_sink.h"
#include "relay/core/path_selector.h"
#include "relay/core/relay_config.h"
#include "relay/core/relay_counters.h"
#include "relay/core/retransmit_buffer.h"
#include "relay/core/stream_directory.h"

namespace overline::relay {

// One link's state, for metrics and tests.
struct LinkSnapshot {
  NodeId neighbour = kNoNode;
  LineIndex local_line = 0;   // this relay's line
  LineIndex remote_line = 0;  // index into the neighbour's configured lines
  LinkState state = LinkState::kUnknown;
  DurationUs srtt_us = 0;     // 0 before the first RTT sample
  DurationUs jitter_us = 0;
  double loss_ratio = 0;      // over the loss window; 0 before any probe is resolved
  bool active = false;        // carries the traffic to this neighbour
  std::uint64_t probes_sent = 0;  // issued on this link, including any the sink refused
  std::uint64_t acks_received = 0;  // ACKs matching one of its probes (late ones included)
};

class RelayCore : private NeighbourHealth {
 public:
  // Loss recovery timing (see the class comment): the least spacing between
  // two retransmissions of one packet to one neighbour, and the RTT assumed
  // toward a neighbour whose active link has no RTT sample yet.
  static constexpr DurationUs kMinRetransmitSpacingUs = 5 * kMillisecond;
  static constexpr DurationUs kUnmeasuredSrttUs = 100 * kMillisecond;
  // The longest an FEC group waits for its k packets before the tick flushes it.
  static constexpr DurationUs kFecMaxGroupDelayUs = 10 * kMillisecond;
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

  // Runs timers: probes and link states, path choice, failover, subscription
  // refresh upstream, downstream and client expiry. Call at least every
  // tickInterval().
  void onTick(TimeUs now);
  DurationUs tickInterval() const;

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
  std::vector<LinkSnapshot> links() const;
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
    explicit Client(const crypto::Key128& key) : session_key(key) {}
    LineIndex line = 0;  // the line it last used; replies go out on it
    TimeUs last_seen_us = 0;
    // Streams it subscribes to (at most Limits::max_subscriptions_per_client),
    // so that its expiry can remove them without scanning every stream.
    std::vector<StreamId> streams;
    // Streams it owns (publishes) at this origin, <= max_publications_per_client.
    std::vector<StreamId> published;
    // The session (client_gate.h): its key, the nonce it was made for, the
    // replay window of the client's packet numbers, and the token's grant.
    crypto::Gmac session_key;
    std::array<std::byte, wire::kHelloNonceBytes> nonce{};
    crypto::ReplayWindow window;
    token::JoinGrant grant;
    std::uint64_t next_packet_number = 1;  // of the relay's packets to the client
  };
  // Client sessions have one key; its epoch on the wire.
  static constexpr std::uint32_t kClientSessionEpoch = 1;

  struct Downstream {
    PeerId peer;
    TimeUs expires_at_us = 0;
    // A dual-homed client's other edge (its SUBSCRIBE's hint): branches
    // are planned around it where routes allow. kNoNode otherwise.
    NodeId avoid = kNoNode;
    // FEC toward a neighbour downstream (unused for clients); the encoder
    // holds no buffers while its protection is off.
    FecPolicy fec_policy{FecPolicyConfig{}};
    FecEncoder fec{kFecMaxGroupDelayUs};
  };

  struct Stream {
    // Never empty while the stream is in streams_: the last removal forgets
    // the stream. Small (neighbours + local clients), searched linearly.
    std::vector<Downstream> downstreams;
    // Neighbour this relay subscribes to for the stream; kNoNode when this
    // relay is an origin, or when there is currently no usable route.
    NodeId upstream = kNoNode;
    // Next hops toward the stream's other origins (dual-homed or moving
    // publishers), subscribed to as well; never the upstream, never a
    // downstream; at most StreamDirectory::kMaxOriginsPerStream - 1.
    std::vector<NodeId> extra_upstreams;
    // Extra upstreams dropped by the last re-plans (e.g. this relay became
    // an origin): what they had in flight is still accepted until
    // released_until_us (one refresh interval after the latest drop).
    std::vector<NodeId> released_extras;
    TimeUs released_until_us = 0;
    // Next upstream SUBSCRIBE refresh (or route retry); at an origin, the
    // next check whether it still is one.
    TimeUs next_refresh_us = 0;
    // The upstream before the last move: DATA from it is still accepted
    // until previous_upstream_until_us (one refresh interval after the move).
    // If it was not down at the move, the relay stays subscribed to it (make
    // before break) until the new upstream delivers its first DATA or the
    // interval ends, and only then sends it UNSUBSCRIBE.
    NodeId previous_upstream = kNoNode;
    TimeUs previous_upstream_until_us = 0;
    bool previous_subscribed = false;
    DedupWindow dedup;
    NackTracker loss;  // gaps in the DATA from upstream (not at the origin)
    FecDecoder fec{FecDecoderConfig{}};  // FEC from the current upstream; reset when it changes
    DurationUs budget_us = 0;  // of the last DATA forwarded; 0 before any (FEC assumes the default)
    bool client_created = false;  // a client's SUBSCRIBE created it (Limits::max_client_streams)
  };
  using StreamMap = std::unordered_map<StreamId, Stream>;

  // A neighbour relay and the links to it.
  struct Neighbour {
    NodeId id = kNoNode;
    std::vector<Endpoint> lines;     // its line addresses, in its line order
    std::vector<LinkMonitor> links;  // index = local line * lines.size() + its line
    PathSelector path;
    bool down = false;               // every link DOWN
    TimeUs up_since_us = 0;          // when it last stopped being down
    // Bytes it may still be sent as retransmissions
    // (RecoveryConfig::retransmit_budget_ratio).
    double retransmit_credit = 0;
  };
  // Where a packet from a neighbour's line came from.
  struct NeighbourLine {
    std::size_t neighbour = 0;  // index into neighbours_
    LineIndex line = 0;         // the neighbour's line
  };

  // NeighbourHealth, for the failover table.
  bool isDown(NodeId node) const override;
  TimeUs upSince(NodeId node) const override;

  void onNeighbourPacket(const NeighbourLine& source, LineIndex line, const Endpoint& from,
                         const wire::Header& header, std::span<const std::byte> datagram, TimeUs now);
  void onClientPacket(LineIndex line, const Endpoint& from, const wire::PacketView& packet,
                      std::span<const std::byte> datagram, TimeUs now);
  // An untagged HELLO: CHALLENGE, or a new session and WELCOME.
  void onClientHello(LineIndex line, const Endpoint& from, const wire::PacketView& packet, TimeUs now);
  // A joined client's tagged HELLO: keepalive answer, token renewal.
  void onClientKeepalive(const Endpoint& from, Client& client, const wire::PacketView& packet);
  void onClientData(const Endpoint& from, Client& client, const wire::Header& header,
                    std::span<const std::byte> datagram, TimeUs now);
  // Sends a join answer (CHALLENGE, WELCOME, keepalive HELLO) to `to`.
  void sendJoinAnswer(LineIndex line, const Endpoint& to, wire::PacketType type, std::uint32_t sequence,
                      std::span<const std::byte> payload);
  // Tags `packet` (untagged) with the client's session key and sends it on
  // the line the client last used.
  bool sendToClient(const Endpoint& to, Client& client, std::span<const std::byte> packet);
  // The client's token has expired at the current wall clock.
  bool tokenExpired(const Client& client) const;
  // When (on the monotonic clock) the client's token expires, for the deadline.
  TimeUs tokenDeadline(const Client& client, TimeUs now) const;
  void onSubscribe(const PeerId& from, Client* client, const wire::Header& header, TimeUs now);
  void onUnsubscribe(const PeerId& from, const wire::Header& header);
  // Sends one rewritten copy of an admitted DATA packet to every downstream
  // but `from` (two to neighbours when it is redundant), unless it is a
  // duplicate; keeps it for retransmission when it went to a neighbour, and
  // feeds the stream's NackTracker when it came from a neighbour.
  // Returns whether the packet was new here (passed dedup).
  bool forwardData(const PeerId& from, const wire::Header& header, std::span<const std::byte> datagram,
                   Stream& stream, TimeUs now);
  // An FEC packet from neighbour `neighbour`: feeds the stream's decoder.
  void onFec(const Neighbour& neighbour, const wire::Header& header, std::span<const std::byte> datagram,
             TimeUs now);
  // Forwards the packets in fec_recovered_ (rebuilt by `stream`'s decoder,
  // whose counters were `before` the call) as DATA from `from`, and counts
  // the decoder's failures since `before`.
  void deliverRecovered(const PeerId& from, Stream& stream, const FecDecoderCounters& before, TimeUs now);
  // Updates every downstream hop's FEC protection, flushes due groups, ages
  // out decoders.
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
  void sendNacks(StreamId id, NodeId upstream, std::span<const std::uint32_t> sequences);
  // A link besides the active one for copies of small or urgent packets
  // (NACKs, and retransmissions and gap-filling DATA on lossy links):
  // PathSelector::second() when it has one, else the link on the other
  // local AND other remote line than the active one (where there are two),
  // whatever its state: a lossy link keeps flapping DOWN under probing yet
  // delivers most packets, and a copy into a dead one only costs its bytes.
  // nullopt when there is a single link.
  std::optional<std::size_t> duplicateLink(const Neighbour& neighbour) const;
  // The smoothed RTT of the active link to `neighbour`, or kUnmeasuredSrttUs.
  DurationUs srttTo(const Neighbour& neighbour) const;
  // The latency budget of a DATA packet with this header.
  DurationUs budgetOf(const wire::Header& header) const;
  void answerProbe(NodeId neighbour, LineIndex line, const Endpoint& from, const wire::Header& probe);
  // Probes, link states, path choice and neighbour down/up, for every neighbour.
  void tickLinks(TimeUs now);
  void sendProbe(Neighbour& neighbour, std::size_t link, TimeUs now);
  // Builds neighbours_ and its indexes from config_.neighbours, moving in the
  // entries of `previous` whose id and lines are unchanged.
  void buildNeighbours(std::vector<Neighbour> previous);
  // Drops every downstream, upstream and previous upstream that is the
  // neighbour `id` (which must still be in neighbours_), with the
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
  void onAnnounce(const Neighbour& neighbour, const wire::Header& header, std::span<const std::byte> datagram,
                  TimeUs now);
  // Sends this relay's live publications (ANNOUNCE packets) when due, and
  // expires the directory. Marks upstreams dirty when origins changed.
  void tickDirectory(TimeUs now);
  // ANNOUNCE packets naming this relay as the origin of `streams`, to every
  // neighbour (announces_sent counts the neighbours).
  void announce(std::span<const StreamId> streams);
  // Sends `packet` (untagged) to every neighbour but `except` on its active
  // link, and on every link when that one is lossy (as SUBSCRIBE).
  // Returns the neighbours it went to.
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
  StreamMap::iterator closeStream(StreamMap::iterator it);
  void removeClient(std::unordered_map<Endpoint, Client>::iterator it);

  void sendControl(wire::PacketType type, StreamId stream, NodeId neighbour, std::uint8_t hop_limit);
  bool sendToPeer(const PeerId& peer, std::span<const std::byte> packet);
  // Every packet to a neighbour relay leaves through sendOnLink (probe
  // answers through sendToNeighbourLine): the one place where bytes to
  // neighbours are counted by kind.
  bool sendOnLink(const Neighbour& neighbour, std::size_t link, std::span<const std::byte> packet);
  // Tags `packet` (untagged) for `neighbour` and sends it.
  bool sendToNeighbourLine(NodeId neighbour, LineIndex line, const Endpoint& to, std::span<const std::byte> packet);
  void countNeighbourBytes(std::span<const std::byte> packet);
  bool send(LineIndex line, const Endpoint& to, std::span<const std::byte> packet);
  void armDeadline(TimeUs deadline_us);

  RelayCoreConfig config_;
  PacketSink& sink_;
  RelayCounters counters_;
  FailoverTable failover_;
  bool failover_dirty_ = true;     // a neighbour went down or up: re-evaluate the failover table
  bool upstreams_dirty_ = false;   // next hops changed: upstreams are re-resolved at the next tick

  std::vector<Neighbour> neighbours_;                                // config_.neighbours order
  std::unordered_map<Endpoint, NeighbourLine> neighbour_by_endpoint_;  // every line of every neighbour
  std::unordered_map<NodeId, std::size_t> neighbour_index_;          // into neighbours_
  std::vector<LinkQuality> link_quality_;  // scratch for PathSelector::update, one neighbour's links
  std::unordered_map<Endpoint, Client> clients_;                   // <= Limits::max_clients
  std::unordered_map<std::uint32_t, std::size_t> clients_per_ip_;  // IPv4 -> sessions, <= max_clients_per_ip
  StreamMap streams_;                                              // <= Limits::max_streams
  std::size_t client_streams_ = 0;                                 // streams with client_created, <= max_client_streams
  // Stream -> the client session that owns it (publishes it here) and
  // when it last sent DATA.
  struct Publication {
    Endpoint owner;
    TimeUs last_data_us = 0;
  };
  std::unordered_map<StreamId, Publication> owners_;
  // Where streams are published now (announcements), this relay's own
  // announcement numbers, and when it next announces.
  StreamDirectory directory_;
  std::uint32_t announce_sequence_ = 0;
  TimeUs next_announce_us_ = 0;
  std::vector<StreamId> announce_scratch_;
  NeighbourAuth auth_;
  ClientGate gate_;
  // Where packets to neighbours are tagged (a copy: the callers' buffers have no room).
  wire::PacketBuffer seal_buffer_{};
  std::size_t active_fec_decoders_ = 0;  // streams whose decoder holds state, as of the last tick

  // onTick does nothing before this time: no downstream or client can expire
  // and no refresh is due earlier. Kept as a lower bound (refreshes only move
  // deadlines later), recomputed exactly by each full scan.
  TimeUs next_deadline_us_ = std::numeric_limits<TimeUs>::max();
  std::optional<TimeUs> wall_now_us_;  // setWallClockUs; for join tokens only
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
