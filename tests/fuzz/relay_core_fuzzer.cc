// Stateful libFuzzer target for relay::RelayCore (relay/core/relay_core.h).
//
// Every input builds a fresh relay, node 2 with two lines, neighbours 1 and
// 3 (two lines each), mesh key epoch 1 and a fixed cookie secret, no routes,
// small limits, and reads the input as a sequence of operations on it: time
// passing and ticks; datagrams from the neighbours' lines and from five
// client endpoints (raw bytes; packets a neighbour sealed correctly with its
// pair key; the same with one byte changed after sealing; replays of earlier
// datagrams; clients joining through the HELLO/CHALLENGE/WELCOME handshake
// of sdk/core/join_handshake.h, then sending packets tagged with their
// session key); and configuration changes (wall clock, mesh key rotation,
// neighbour set, join policy, routes, a sink that refuses). Neighbours run
// an FecEncoder over the DATA they send and may "lose" packets, so FEC
// repair and NACKs are reached as well.
//
// After every operation the harness checks, through the public API only:
//  * counters: packets_received and bytes_received equal what was
//    delivered; packets_sent and bytes_sent equal what the sink accepted;
//  * gauges within the configured limits; links() matches the neighbours;
//  * every packet the relay emits parses; packets to a neighbour's line are
//    tagged by node 2 under the pair key of the epoch the rotation rules
//    (relay/core/neighbour_auth.h) say, with strictly increasing packet
//    numbers, and carry well-formed NACK and FEC payloads, no SUBSCRIBE for
//    the relay's own streams and no DATA back to the neighbour being
//    handled; packets to anyone else are untagged join answers or plain
//    DATA, and a WELCOME carries the client's own address;
//  * nothing from a non-neighbour makes the relay send that endpoint as
//    many bytes as it received (the join is not an amplifier);
//  * a correctly sealed packet from a neighbour with an installed epoch is
//    never refused by authentication, and a replay of an accepted one
//    always is (until the relay forgets that key's window).
// OVERLINE_INVARIANT aborts in this build (no NDEBUG), so the core's own
// invariants are checked on every path as well.
//
// OVERLINE_FUZZ_VERBOSE=1 prints what each input made the relay do (counters
// and drop reasons), to see what a seed or a reproducer reaches. The seeds in
// corpus/relay_core/ are named after the scenario they play.
//
// Input layout: a sequence of operations, each an opcode byte followed by
// its arguments (see the Op enum and World::step); a missing byte reads as 0.

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/crypto/gmac.h"
#include "common/crypto/key_derivation.h"
#include "common/crypto/packet_auth.h"
#include "common/endpoint.h"
#include "common/token/join_token.h"
#include "common/types.h"
#include "common/wire/fec_payload.h"
#include "common/wire/nack_payload.h"
#include "common/wire/packet.h"
#include "relay/core/fec_encoder.h"
#include "relay/core/packet_sink.h"
#include "relay/core/relay_config.h"
#include "relay/core/relay_core.h"
#include "sdk/core/join_handshake.h"

namespace {

using namespace overline;
namespace crypto = overline::crypto;
namespace relay = overline::relay;
namespace wire = overline::wire;

// abort() rather than assert(): the checks must hold in every build type.
[[noreturn]] void fail(const char* what, int line) {
  std::fprintf(stderr, "relay_core_fuzzer.cc:%d: check failed: %s\n", line, what);
  std::abort();
}
#define FUZZ_CHECK(condition)                        \
  do {                                               \
    if (!(condition)) fail(#condition, __LINE__);    \
  } while (0)

// ---------------------------------------------------------------------------
// Input

class Input {
 public:
  Input(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  bool done() const { return pos_ >= size_; }
  std::uint8_t u8() { return pos_ < size_ ? data_[pos_++] : 0; }
  std::uint16_t u16() { return static_cast<std::uint16_t>((u8() << 8) | u8()); }
  std::uint32_t u32() { return (static_cast<std::uint32_t>(u16()) << 16) | u16(); }
  std::uint64_t u64() { return (static_cast<std::uint64_t>(u32()) << 32) | u32(); }
  // Up to `n` bytes (fewer at the end of the input).
  std::span<const std::byte> bytes(std::size_t n) {
    n = std::min(n, size_ - std::min(pos_, size_));
    const auto out = std::span(reinterpret_cast<const std::byte*>(data_ + pos_), n);
    pos_ += n;
    return out;
  }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
};

// ---------------------------------------------------------------------------
// The fixed world

constexpr NodeId kSelf = 2;
constexpr std::size_t kLines = 2;
constexpr TimeUs kStartUs = 1'000'000'000;             // monotonic clock at the start
constexpr TimeUs kWallBaseUs = 1'700'000'000'000'000;  // unix us the wall clock ops start from
constexpr TimeUs kRotateAtUs = kWallBaseUs + 5 * kSecond;
constexpr std::uint64_t kPacketNumberBase = 1'000;
constexpr std::size_t kMaxTicksPerInput = 4'000;

// Datagram sources: the neighbours' lines first (index < kNeighbourSources),
// then the client endpoints. Neighbour 4 is in only some neighbour sets.
struct Source {
  Endpoint endpoint;
  NodeId owner;  // the neighbour whose line it is, kNoNode for a client
};
constexpr std::size_t kNeighbourSources = 5;
const std::array<Source, 10> kSources{{
    {Endpoint(0x0A000101, 7000), 1},  // 10.0.1.1, neighbour 1 line 0
    {Endpoint(0x0A000102, 7000), 1},  // 10.0.1.2, neighbour 1 line 1
    {Endpoint(0x0A000301, 7000), 3},  // 10.0.3.1, neighbour 3 line 0
    {Endpoint(0x0A000302, 7000), 3},  // 10.0.3.2, neighbour 3 line 1
    {Endpoint(0x0A000401, 7000), 4},  // 10.0.4.1, neighbour 4 line 0
    {Endpoint(0xC000020A, 5000), kNoNode},  // client A, 192.0.2.10:5000
    {Endpoint(0xC000020A, 5001), kNoNode},  // client B, the same address as A
    {Endpoint(0xC6336407, 6000), kNoNode},  // client C, 198.51.100.7:6000
    {Endpoint(0xCB007163, 9999), kNoNode},  // a stranger, 203.0.113.99:9999
    {Endpoint(0xC000020A, 5002), kNoNode},  // client E, the same address as A and B
}};
constexpr std::size_t kClients = kSources.size() - kNeighbourSources;
constexpr std::array<NodeId, 3> kNeighbourIds{1, 3, 4};
constexpr std::uint32_t kMaxEpoch = 3;

std::size_t neighbourSlot(NodeId id) { return id == 1 ? 0 : id == 3 ? 1 : 2; }

std::vector<std::uint8_t> meshSecret(std::uint32_t epoch) {
  return std::vector<std::uint8_t>(relay::kMinMeshSecretBytes, static_cast<std::uint8_t>(0x40 + epoch));
}

// The pair keys every (neighbour, epoch) shares with node 2, derived once.
const crypto::Gmac& pairKey(NodeId neighbour, std::uint32_t epoch) {
  static const auto keys = [] {
    std::vector<crypto::Gmac> all;
    for (const NodeId id : kNeighbourIds) {
      for (std::uint32_t e = 1; e <= kMaxEpoch; ++e) {
        all.emplace_back(crypto::derivePairKey(meshSecret(e), e, id, kSelf));
      }
    }
    return all;
  }();
  return keys[neighbourSlot(neighbour) * kMaxEpoch + (epoch - 1)];
}

std::vector<relay::NeighbourConfig> neighbourSet(std::uint8_t variant) {
  const relay::NeighbourConfig one{1, {kSources[0].endpoint, kSources[1].endpoint}};
  const relay::NeighbourConfig three{3, {kSources[2].endpoint, kSources[3].endpoint}};
  const relay::NeighbourConfig three_one_line{3, {kSources[2].endpoint}};
  const relay::NeighbourConfig four{4, {kSources[4].endpoint}};
  switch (variant % 6) {
    case 0: return {one, three};
    case 1: return {one};
    case 2: return {one, three_one_line};
    case 3: return {three, one};
    case 4: return {one, three, four};
    default: return {three, four};
  }
}

std::vector<relay::MeshKey> meshKeySet(std::uint8_t variant) {
  const auto key = [](std::uint32_t epoch, TimeUs at) { return relay::MeshKey{epoch, meshSecret(epoch), at}; };
  switch (variant % 6) {
    case 0: return {key(1, 0)};
    case 1: return {key(1, 0), key(2, kRotateAtUs)};
    case 2: return {key(2, 0)};
    case 3: return {key(2, 0), key(3, kRotateAtUs + 5 * kSecond)};
    case 4: return {key(3, 0), key(1, 0)};  // not in epoch order
    default: return {key(1, kRotateAtUs), key(2, kRotateAtUs + 10 * kSecond)};  // none active yet
  }
}

relay::RouteTablePtr routeSet(std::uint8_t variant) {
  auto table = std::make_shared<relay::RouteTable>();
  switch (variant % 4) {
    case 0: break;  // empty: neighbours are their own routes
    case 1:
      table->entries[7] = relay::RouteEntry{1, 3};
      table->entries[3] = relay::RouteEntry{3, 1};
      break;
    case 2:
      table->entries[1] = relay::RouteEntry{3, kNoNode};  // toward 1 through 3
      table->entries[7] = relay::RouteEntry{9, 1};        // a primary that is no neighbour
      break;
    default: table->entries[4] = relay::RouteEntry{4, 3}; break;
  }
  return table;
}

// Streams the operations pick from: origins 1, 2 (this relay), 3, 4 and 7
// (no neighbour), three local ids each, so that they meet often.
constexpr std::size_t kStreamCount = 15;
StreamId streamOf(std::uint8_t sel) {
  constexpr std::array<NodeId, 5> kOrigins{1, 2, 3, 4, 7};
  sel %= kStreamCount;
  return makeStreamId(kOrigins[sel / 3], 1 + sel % 3);
}

const std::vector<std::uint8_t> kJoinKey(32, 0x6B);

relay::RelayCoreConfig initialConfig() {
  relay::RelayCoreConfig config;
  config.node_id = kSelf;
  config.line_count = kLines;
  config.neighbours = neighbourSet(0);
  // Five client endpoints, three on one address: both client limits can be hit.
  config.limits.max_clients = 3;
  config.limits.max_clients_per_ip = 2;
  config.limits.max_streams = 8;
  config.limits.max_client_streams = 5;
  config.limits.max_subscriptions_per_client = 4;
  config.limits.max_publications_per_client = 2;
  config.recovery.retransmit_buffer_packets = 32;
  config.recovery.retransmit_buffer_bytes = 48 * wire::kMaxPacketBytes;
  config.recovery.max_fec_decoders = 2;
  config.auth.mesh_keys = meshKeySet(0);
  config.auth.cookie_secret.fill(0xC5);
  config.auth.packet_number_base = kPacketNumberBase;
  return config;
}

// ---------------------------------------------------------------------------
// The sink: checks are the World's; this keeps the accepted totals.

struct SentPacket {
  LineIndex line = 0;
  Endpoint to;
  std::vector<std::byte> bytes;
};

class World;

class FuzzSink final : public relay::PacketSink {
 public:
  explicit FuzzSink(World& world) : world_(world) {}
  bool sendPacket(LineIndex line, const Endpoint& to, std::span<const std::byte> packet) override;

  bool refuse = false;
  std::uint64_t accepted = 0;
  std::uint64_t accepted_bytes = 0;

 private:
  World& world_;
};

// ---------------------------------------------------------------------------
// The peers the harness plays

// A neighbour relay's sending side toward node 2.
struct NeighbourSim {
  std::uint64_t packet_number = 0;  // the last one used; strictly increasing
  relay::FecEncoder fec{10 * kMillisecond};
  std::deque<relay::FecPacket> parity;  // produced, not yet delivered
  std::deque<std::vector<std::byte>> history;  // untagged DATA it sent (or "lost"), for retransmission
};

// An SDK client.
struct ClientSim {
  std::optional<sdk::JoinHandshake> handshake;
  std::optional<crypto::Gmac> session;
  std::uint64_t packet_number = 0;
  std::uint32_t hello_sequence = 0;
};

// A datagram delivered earlier, for replays.
struct Delivered {
  std::vector<std::byte> bytes;
  // It came from neighbour `neighbour`'s line, correctly sealed, and passed
  // authentication under `epoch` while its window had generation `generation`.
  bool authenticated = false;
  NodeId neighbour = kNoNode;
  std::uint32_t epoch = 0;
  std::uint64_t generation = 0;
};

enum Op : std::uint8_t {
  kAdvance,          // u16 d: now += d * 100 us
  kTick,             // onTick(now)
  kRunTicks,         // u8 count, u8 loss, u8 flags: count ticks one tickInterval apart, probes answered
  kRaw,              // u8 source, u8 line, u16 length, bytes
  kNeighbourPacket,  // u8 source, u8 line, u8 epoch, body: a correctly sealed packet
  kMutated,          // as kNeighbourPacket, then u16 position, u8 xor: one byte changed after sealing
  kReplay,           // u8 index, u8 source, u8 line
  kClientHello,      // u8 client, u8 mode, [u8 nonce, token]: one step of the join handshake
  kClientPacket,     // u8 client, u8 line, u8 flags, body: tagged with the session key
  kWallClock,        // u8 mode, u16 value
  kMeshKeys,         // u8 variant
  kNeighbours,       // u8 variant
  kAnswerProbes,     // u8 loss
  kSendParity,       // u8 neighbour, u8 count, u8 line
  kRetransmit,       // u8 neighbour, u8 index, u8 line
  kRefuse,           // u8 on
  kJoinPolicy,       // u8 mode
  kRoutes,           // u8 variant
  kDataBurst,        // u8 neighbour, u8 stream, u8 count, u16 loss mask, u8 fec, u8 payload size
  kOpCount,
};

// ---------------------------------------------------------------------------

class World {
 public:
  World() : sink_(*this), core_(initialConfig(), sink_) {
    neighbours_ = neighbourSet(0);
    keys_ = meshKeySet(0);
  }

  void run(Input& in) {
    while (!in.done()) {
      step(in);
      checkInvariants();
    }
  }

  // With OVERLINE_FUZZ_VERBOSE set: what the input made the relay do, to
  // see what a seed or a reproducer reaches.
  void printSummary() const;

  // Called by the sink for every packet the relay emits.
  void onSent(LineIndex line, const Endpoint& to, std::span<const std::byte> packet, bool accepted);

 private:
  void step(Input& in);

  // --- time
  void tick() { core_.onTick(now_); }
  void runTicks(Input& in);

  // --- delivering datagrams
  // What the harness knows about a datagram it delivers.
  struct Expect {
    bool sealed_fresh = false;  // correctly sealed with a fresh number by the source's neighbour
    NodeId sealed_by = kNoNode;
    std::uint32_t epoch = 0;
    const Delivered* replay_of = nullptr;
  };
  void deliver(std::size_t source, LineIndex line, std::span<const std::byte> bytes, const Expect& expect);
  std::uint64_t authDrops() const {
    const auto& c = core_.counters();
    return c.dropped[static_cast<std::size_t>(relay::DropReason::kUnauthenticated)] +
           c.dropped[static_cast<std::size_t>(relay::DropReason::kBadTag)] +
           c.dropped[static_cast<std::size_t>(relay::DropReason::kReplayed)];
  }
  // The neighbour whose line `endpoint` is in the current set, or kNoNode.
  NodeId neighbourAt(const Endpoint& endpoint) const;
  bool epochInstalled(std::uint32_t epoch) const {
    return std::any_of(keys_.begin(), keys_.end(), [&](const relay::MeshKey& k) { return k.epoch == epoch; });
  }
  // The epoch node 2 must tag with now (neighbour_auth.h's rule).
  std::uint32_t expectedSendingEpoch() const;

  // --- building packets
  // Reads a packet body (type, stream, fields, payload) and encodes it with
  // `sender` into `out`; returns its size.
  std::size_t buildPacket(Input& in, NodeId sender, wire::PacketBuffer& out);
  std::uint32_t nextSequence(std::size_t stream, std::uint8_t mode, Input& in);
  std::uint64_t timestampOf(std::uint8_t mode) const;

  // --- operations
  void neighbourPacket(Input& in, bool mutate);
  std::size_t sealAs(NodeId neighbour, std::uint32_t epoch, wire::PacketBuffer& buffer, std::size_t size,
                     std::uint64_t jump = 0);
  std::uint32_t pickEpoch(std::uint8_t sel) const;
  void replay(Input& in);
  void clientHello(Input& in);
  std::string tokenFor(Input& in, const Endpoint& client);
  void clientPacket(Input& in);
  void answerProbes(std::uint8_t loss);
  void sendParity(Input& in);
  void retransmit(Input& in);
  void dataBurst(Input& in);
  void setNeighbours(std::uint8_t variant);
  void setMeshKeys(std::uint8_t variant);
  void checkInvariants() const;

  FuzzSink sink_;
  relay::RelayCore core_;
  TimeUs now_ = kStartUs;
  std::optional<TimeUs> wall_;
  std::size_t ticks_ = 0;

  std::vector<relay::NeighbourConfig> neighbours_;  // the relay's current set
  std::vector<relay::NeighbourConfig> leaving_;     // during setNeighbours: the previous set too
  std::vector<relay::MeshKey> keys_;                // the relay's current mesh keys
  std::array<NeighbourSim, kNeighbourIds.size()> sims_;
  std::array<ClientSim, kClients> clients_;
  std::array<std::uint32_t, kStreamCount> sequences_{};

  // Replay windows node 2 keeps per (neighbour, epoch): their generation
  // grows whenever the relay forgets one (neighbour or epoch removed).
  std::array<std::array<std::uint64_t, kMaxEpoch + 1>, kNeighbourIds.size()> generation_{};
  // Packet numbers node 2 used toward each neighbour (0: none yet); they
  // keep growing across a neighbour's removal and return (the GMAC nonces).
  std::array<std::uint64_t, kNeighbourIds.size()> sent_numbers_{};

  std::uint64_t delivered_ = 0;
  std::uint64_t delivered_bytes_ = 0;
  std::deque<Delivered> recent_;  // the last kRecent datagrams delivered
  static constexpr std::size_t kRecent = 24;
  // Probes the relay sent, not answered yet: (line, to, sequence, timestamp).
  struct Probe {
    LineIndex line;
    Endpoint to;
    NodeId neighbour;
    std::uint32_t sequence;
    std::uint64_t timestamp_us;
  };
  std::deque<Probe> probes_;
  // Packets the relay sent during the current delivery (for the handshake
  // and the amplification check).
  std::vector<SentPacket> during_;
  bool delivering_ = false;
  NodeId handling_data_from_ = kNoNode;  // the neighbour whose DATA or FEC is being delivered
};

bool FuzzSink::sendPacket(LineIndex line, const Endpoint& to, std::span<const std::byte> packet) {
  world_.onSent(line, to, packet, !refuse);
  if (refuse) return false;
  ++accepted;
  accepted_bytes += packet.size();
  return true;
}

NodeId World::neighbourAt(const Endpoint& endpoint) const {
  for (const auto* set : {&neighbours_, &leaving_}) {
    for (const relay::NeighbourConfig& n : *set) {
      if (std::find(n.lines.begin(), n.lines.end(), endpoint) != n.lines.end()) return n.node_id;
    }
  }
  return kNoNode;
}

std::uint32_t World::expectedSendingEpoch() const {
  std::vector<relay::MeshKey> sorted = keys_;
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.epoch < b.epoch; });
  std::uint32_t epoch = 0;
  for (const relay::MeshKey& key : sorted) {
    if (key.activate_at_unix_us == 0 || (wall_ && *wall_ >= key.activate_at_unix_us)) epoch = key.epoch;
  }
  return epoch != 0 ? epoch : sorted.front().epoch;
}

void World::onSent(LineIndex line, const Endpoint& to, std::span<const std::byte> packet, bool accepted) {
  FUZZ_CHECK(line < kLines);
  FUZZ_CHECK(packet.size() <= wire::kMaxPacketBytes);
  const auto parsed = wire::parsePacket(packet);
  FUZZ_CHECK(parsed.ok());
  const wire::Header& header = parsed->header;
  FUZZ_CHECK(header.sender_node_id == kSelf);

  if (const NodeId neighbour = neighbourAt(to); neighbour != kNoNode) {
    // Relay to relay: tagged by node 2 with the pair key of the epoch the
    // rotation rules give, never a join packet.
    FUZZ_CHECK(header.tagged());
    FUZZ_CHECK(header.key_epoch == expectedSendingEpoch());
    FUZZ_CHECK(crypto::verifyPacket(pairKey(neighbour, header.key_epoch), parsed.value()));
    const std::size_t slot = neighbourSlot(neighbour);
    FUZZ_CHECK(header.packet_number >= kPacketNumberBase);
    FUZZ_CHECK(header.packet_number > sent_numbers_[slot]);
    sent_numbers_[slot] = header.packet_number;
    FUZZ_CHECK(header.type != wire::PacketType::kHello && header.type != wire::PacketType::kChallenge &&
               header.type != wire::PacketType::kWelcome);
    if (header.type == wire::PacketType::kProbe || header.type == wire::PacketType::kProbeAck ||
        header.type == wire::PacketType::kNack) {
      FUZZ_CHECK(header.hop_limit == 1);
    }
    if (header.type == wire::PacketType::kData || header.type == wire::PacketType::kSubscribe) {
      FUZZ_CHECK(header.hop_limit >= 1);
    }
    // This relay is the origin of its own streams: it never subscribes to them.
    if (header.type == wire::PacketType::kSubscribe || header.type == wire::PacketType::kUnsubscribe) {
      FUZZ_CHECK(streamOrigin(header.stream_id) != kSelf);
    }
    if (header.type == wire::PacketType::kNack) FUZZ_CHECK(wire::parseNackPayload(parsed->payload).ok());
    if (header.type == wire::PacketType::kFec) FUZZ_CHECK(wire::parseFecPayload(parsed->payload).ok());
    // Nothing goes back to the neighbour whose DATA or FEC is being handled.
    if (header.type == wire::PacketType::kData) FUZZ_CHECK(neighbour != handling_data_from_);
    if (header.type == wire::PacketType::kProbe && accepted && probes_.size() < 64) {
      probes_.push_back(Probe{line, to, neighbour, header.sequence, header.timestamp_us});
    }
  } else {
    // To a client: only what a client is sent; the join's answers untagged
    // (they precede the session), everything else tagged with its session key.
    FUZZ_CHECK(std::any_of(kSources.begin(), kSources.end(), [&](const Source& s) { return s.endpoint == to; }));
    const bool join_answer =
        header.type == wire::PacketType::kChallenge || header.type == wire::PacketType::kWelcome;
    FUZZ_CHECK(header.tagged() != join_answer);
    FUZZ_CHECK(header.type == wire::PacketType::kData || header.type == wire::PacketType::kHello ||
               header.type == wire::PacketType::kChallenge || header.type == wire::PacketType::kWelcome);
    if (header.type == wire::PacketType::kHello) FUZZ_CHECK(header.payload_length == 0);
    // Retransmission is per hop between relays; clients get plain DATA.
    if (header.type == wire::PacketType::kData) FUZZ_CHECK((header.flags & wire::kFlagRetransmit) == 0);
    if (header.type == wire::PacketType::kWelcome) {
      const std::span<const std::byte> payload = parsed->payload;
      const Endpoint seen((std::to_integer<std::uint32_t>(payload[16]) << 24) |
                              (std::to_integer<std::uint32_t>(payload[17]) << 16) |
                              (std::to_integer<std::uint32_t>(payload[18]) << 8) |
                              std::to_integer<std::uint32_t>(payload[19]),
                          static_cast<std::uint16_t>((std::to_integer<std::uint32_t>(payload[20]) << 8) |
                                                     std::to_integer<std::uint32_t>(payload[21])));
      FUZZ_CHECK(seen == to);
    }
  }
  if (delivering_ && accepted) during_.push_back(SentPacket{line, to, {packet.begin(), packet.end()}});
}

void World::deliver(std::size_t source, LineIndex line, std::span<const std::byte> bytes, const Expect& expect) {
  const Endpoint& from = kSources[source].endpoint;
  const NodeId neighbour = neighbourAt(from);
  const std::uint64_t auth_before = authDrops();
  const std::uint64_t dropped_before = core_.counters().droppedTotal();
  during_.clear();
  delivering_ = true;
  if (const auto parsed = wire::parsePacket(bytes);
      parsed.ok() && (parsed->header.type == wire::PacketType::kData || parsed->header.type == wire::PacketType::kFec)) {
    handling_data_from_ = neighbour;
  }
  core_.onDatagram(line, from, bytes, now_);
  delivering_ = false;
  handling_data_from_ = kNoNode;
  ++delivered_;
  delivered_bytes_ += bytes.size();
  const bool auth_dropped = authDrops() != auth_before;

  if (neighbour == kNoNode) {
    // No amplification toward any source that is not a neighbour: never
    // more bytes back than came in (a joined client's smallest keepalive,
    // a tagged HELLO without payload, is answered by a tagged HELLO of the
    // same 64 bytes; an unvalidated source's HELLO gets a smaller CHALLENGE).
    std::size_t answered = 0;
    for (const SentPacket& p : during_) answered += p.to == from ? p.bytes.size() : 0;
    FUZZ_CHECK(answered <= bytes.size());
  }

  Delivered record;
  record.bytes.assign(bytes.begin(), bytes.end());
  if (expect.sealed_fresh && neighbour == expect.sealed_by && neighbour != kNoNode && epochInstalled(expect.epoch)) {
    // Correct tag, fresh number, installed epoch, the sender's own line.
    FUZZ_CHECK(!auth_dropped);
    record.authenticated = true;
    record.neighbour = neighbour;
    record.epoch = expect.epoch;
    record.generation = generation_[neighbourSlot(neighbour)][expect.epoch];
  }
  if (const Delivered* original = expect.replay_of; original != nullptr && original->authenticated) {
    if (neighbour == kNoNode) {
      // A neighbour's packet from a client endpoint is never accepted.
      FUZZ_CHECK(core_.counters().droppedTotal() != dropped_before);
    } else if (neighbour != original->neighbour ||
               generation_[neighbourSlot(neighbour)][original->epoch] == original->generation) {
      FUZZ_CHECK(auth_dropped);
    }
  }
  recent_.push_back(std::move(record));
  if (recent_.size() > kRecent) recent_.pop_front();
}

std::uint32_t World::pickEpoch(std::uint8_t sel) const {
  // Mostly the epoch node 2 sends with (what a neighbour with the same
  // config would send), sometimes another installed or unknown one.
  switch (sel % 8) {
    case 0: return 1 + (sel / 8) % kMaxEpoch;
    case 1: return keys_.back().epoch;
    default: return expectedSendingEpoch();
  }
}

std::size_t World::sealAs(NodeId neighbour, std::uint32_t epoch, wire::PacketBuffer& buffer, std::size_t size,
                          std::uint64_t jump) {
  NeighbourSim& sim = sims_[neighbourSlot(neighbour)];
  sim.packet_number += 1 + jump;
  return crypto::sealPacket(pairKey(neighbour, epoch), epoch, sim.packet_number, buffer, size);
}

std::uint32_t World::nextSequence(std::size_t stream, std::uint8_t mode, Input& in) {
  std::uint32_t& seq = sequences_[stream];
  switch (mode % 16) {
    case 0: return seq;                                   // the last one again (a duplicate)
    case 1: return seq - in.u8();                         // late
    case 2: seq += 2 + in.u8() % 8; return seq;           // a gap
    case 3: seq += in.u16() * 4u; return seq;             // a jump
    case 4: seq = in.u32(); return seq;                   // anywhere (a restarted publisher)
    default: return ++seq;
  }
}

std::uint64_t World::timestampOf(std::uint8_t mode) const {
  const TimeUs wall = wall_.value_or(kWallBaseUs);
  switch (mode % 8) {
    case 0: return 0;
    case 1: return static_cast<std::uint64_t>(wall + 20 * kSecond);  // too far ahead
    case 2: return ~std::uint64_t{0};
    default: return static_cast<std::uint64_t>(wall - (mode % 8) * kMillisecond);
  }
}

std::size_t World::buildPacket(Input& in, NodeId sender, wire::PacketBuffer& out) {
  wire::Header header;
  header.type = static_cast<wire::PacketType>(1 + in.u8() % wire::kMaxPacketType);
  const std::uint8_t stream_sel = in.u8();
  const std::size_t stream = stream_sel % kStreamCount;
  header.stream_id = streamOf(stream_sel);
  const std::uint8_t hop = in.u8();
  header.hop_limit = hop < 200 ? wire::kDefaultHopLimit : static_cast<std::uint8_t>(hop - 200);
  header.sender_node_id = sender;
  std::array<std::byte, wire::kMaxFecPayloadBytes> payload{};
  std::size_t payload_size = 0;
  const auto take = [&](std::size_t n) {
    const auto bytes = in.bytes(n);
    std::copy(bytes.begin(), bytes.end(), payload.begin() + static_cast<std::ptrdiff_t>(payload_size));
    payload_size += n;  // short input: zeros
  };
  switch (header.type) {
    case wire::PacketType::kData:
      header.flags = in.u8() & wire::kKnownFlags;
      header.latency_budget = [&] {
        const std::uint8_t b = in.u8();
        return b < 128 ? std::uint8_t{0} : b;
      }();
      header.sequence = nextSequence(stream, in.u8(), in);
      header.timestamp_us = timestampOf(in.u8());
      header.age_us = in.u16();
      take(in.u8() % 160);
      break;
    case wire::PacketType::kProbe:
      header.sequence = in.u8();
      header.timestamp_us = static_cast<std::uint64_t>(now_);
      header.stream_id = 0;
      break;
    case wire::PacketType::kProbeAck: {
      const std::uint8_t sel = in.u8();
      if (!probes_.empty()) {
        const Probe& probe = probes_[sel % probes_.size()];
        header.sequence = probe.sequence;
        header.timestamp_us = probe.timestamp_us;
      } else {
        header.sequence = sel;
        header.timestamp_us = static_cast<std::uint64_t>(now_ - sel * kMillisecond);
      }
      header.stream_id = 0;
      break;
    }
    case wire::PacketType::kSubscribe:
    case wire::PacketType::kUnsubscribe: break;
    case wire::PacketType::kNack: {
      const std::uint8_t count = in.u8() % 12;
      if (count == 0) {
        take(in.u8() % 24);  // anything, often malformed
        break;
      }
      std::array<std::uint32_t, 11> sequences{};
      for (std::uint8_t i = 0; i < count; ++i) sequences[i] = sequences_[stream] - in.u8() % 40;
      payload_size = wire::encodeNackPayload(std::span(sequences.data(), count), payload);
      break;
    }
    case wire::PacketType::kFec: {
      const std::uint8_t mode = in.u8();
      header.sequence = in.u8();
      if (mode < 64) {
        take(in.u8());  // anything, often malformed
        break;
      }
      const auto k = static_cast<std::uint8_t>(1 + mode % 4);
      const auto m = static_cast<std::uint8_t>(1 + (mode / 4) % 3);
      std::array<std::uint32_t, 4> sequences{};
      for (std::uint8_t i = 0; i < k; ++i) sequences[i] = sequences_[stream] - (k - 1 - i);
      std::array<std::byte, 64> parity{};
      const std::size_t length = wire::kMinFecBlockBytes + in.u8() % 48;
      const auto bytes = in.bytes(length);
      std::copy(bytes.begin(), bytes.end(), parity.begin());
      payload_size = wire::encodeFecPayload(m, static_cast<std::uint8_t>((mode / 12) % m),
                                            std::span(sequences.data(), k), std::span(parity.data(), length),
                                            payload);
      break;
    }
    case wire::PacketType::kHello:
      header.sequence = in.u8();
      if (in.u8() % 2 == 1) take(wire::kMinHelloPayloadBytes + in.u8() % 24);
      break;
    case wire::PacketType::kChallenge: take(wire::kCookieBytes); break;
    case wire::PacketType::kWelcome: take(wire::kWelcomePayloadBytes); break;
  }
  return wire::encodePacket(header, std::span(payload.data(), payload_size), out);
}

void World::neighbourPacket(Input& in, bool mutate) {
  const std::size_t source = in.u8() % kNeighbourSources;
  const auto line = static_cast<LineIndex>(in.u8() % kLines);
  const NodeId sender = kSources[source].owner;
  const std::uint32_t epoch = pickEpoch(in.u8());
  const std::uint8_t jump_sel = in.u8();
  const std::uint64_t jump = jump_sel < 240 ? 0 : static_cast<std::uint64_t>(jump_sel - 239) * 3000;
  wire::PacketBuffer buffer{};
  const std::size_t size = buildPacket(in, sender, buffer);
  NeighbourSim& sim = sims_[neighbourSlot(sender)];
  const auto parsed = wire::parsePacket(std::span<const std::byte>(buffer.data(), size));
  if (parsed.ok() && parsed->header.type == wire::PacketType::kData) {
    relay::FecEncoder& fec = sim.fec;
    std::vector<relay::FecPacket> out;
    fec.onDataSent(std::span<const std::byte>(buffer.data(), size), now_, out);
    for (relay::FecPacket& p : out) {
      if (sim.parity.size() < 32) sim.parity.push_back(std::move(p));
    }
    sim.history.emplace_back(buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(size));
    if (sim.history.size() > 32) sim.history.pop_front();
  }
  const std::size_t sealed = sealAs(sender, epoch, buffer, size, jump);
  FUZZ_CHECK(sealed == size + wire::kTagBytes);
  Expect expect;
  if (mutate) {
    const std::uint16_t position = in.u16();
    const std::uint8_t change = in.u8();
    buffer[position % sealed] ^= std::byte{static_cast<std::uint8_t>(change == 0 ? 1 : change)};
  } else {
    // Parseable packets only: a body the parser refuses never reaches the check.
    expect.sealed_fresh = wire::parsePacket(std::span<const std::byte>(buffer.data(), sealed)).ok();
    expect.sealed_by = sender;
    expect.epoch = epoch;
  }
  deliver(source, line, std::span<const std::byte>(buffer.data(), sealed), expect);
}

void World::replay(Input& in) {
  const std::uint8_t index = in.u8();
  const std::uint8_t source_sel = in.u8();
  const auto line = static_cast<LineIndex>(in.u8() % kLines);
  if (recent_.empty()) return;
  const Delivered original = recent_[index % recent_.size()];  // a copy: deliver() appends
  std::size_t source = source_sel % kSources.size();
  Expect expect;
  expect.replay_of = &original;
  deliver(source, line, original.bytes, expect);
}

std::string World::tokenFor(Input& in, const Endpoint& client) {
  switch (in.u8() % 4) {
    case 0: return "";
    case 1: {
      const auto garbage = in.bytes(in.u8() % 48);
      return std::string(reinterpret_cast<const char*>(garbage.data()), garbage.size());
    }
    default: break;
  }
  token::JoinGrant grant;
  const std::int64_t wall_s = wall_.value_or(kWallBaseUs) / kSecond;
  grant.expires_unix_s = wall_s + static_cast<std::int8_t>(in.u8());
  grant.roles = static_cast<std::uint8_t>(1 + in.u8() % 3);
  const std::uint8_t scope = in.u8();
  switch (scope % 3) {
    case 0: grant.scope = token::StreamScope::any(); break;
    case 1: grant.scope = token::StreamScope::prefix(makeStreamId(kSelf, 0), 32); break;
    default: grant.scope = token::StreamScope::exactly(streamOf(scope / 3)); break;
  }
  const std::uint8_t edges = in.u8();
  grant.edges = edges % 4 == 0 ? std::vector<NodeId>{5} : std::vector<NodeId>{kSelf, 5};
  if (token::grantProblem(grant)) return "";
  std::string address = client.toString();
  address = address.substr(0, address.rfind(':'));
  if (edges % 8 == 1) address = "192.0.2.99";  // signed for someone else
  return token::signJoinToken(kJoinKey, grant, address);
}

void World::clientHello(Input& in) {
  const std::size_t index = in.u8() % kClients;
  const std::size_t source = kNeighbourSources + index;
  const std::uint8_t mode = in.u8();
  const auto line = static_cast<LineIndex>(mode & 1);
  ClientSim& client = clients_[index];
  if (!client.handshake || (mode & 2) != 0) {
    // A new handshake: a new nonce (so a new session), a new token.
    sdk::HelloNonce nonce{};
    nonce.fill(std::byte{in.u8()});
    nonce[0] = static_cast<std::byte>(index);
    client.handshake.emplace(nonce, tokenFor(in, kSources[source].endpoint));
  }
  wire::PacketBuffer buffer{};
  const std::size_t size = client.handshake->hello(buffer, ++client.hello_sequence);
  FUZZ_CHECK(size > 0);
  deliver(source, line, std::span<const std::byte>(buffer.data(), size), Expect{});
  for (const SentPacket& sent : during_) {
    if (sent.to != kSources[source].endpoint) continue;
    const auto parsed = wire::parsePacket(sent.bytes);
    FUZZ_CHECK(parsed.ok());
    if (client.handshake->onAnswer(parsed.value()) == sdk::JoinHandshake::Step::kJoined) {
      FUZZ_CHECK(client.handshake->edgeNode() == kSelf);
      FUZZ_CHECK(client.handshake->reflexiveAddress() == kSources[source].endpoint);
      client.session.emplace(client.handshake->sessionKey());
      client.packet_number = 0;
    }
  }
}

void World::clientPacket(Input& in) {
  const std::size_t index = in.u8() % kClients;
  const std::size_t source = kNeighbourSources + index;
  const auto line = static_cast<LineIndex>(in.u8() % kLines);
  const std::uint8_t flags = in.u8();
  ClientSim& client = clients_[index];
  wire::PacketBuffer buffer{};
  // Clients send as node 0; sometimes one lies.
  const std::size_t size = buildPacket(in, (flags & 0x10) != 0 ? 1 : kNoNode, buffer);
  if ((flags & 0x20) != 0) {
    // Untagged, as a client without a session sends.
    deliver(source, line, std::span<const std::byte>(buffer.data(), size), Expect{});
    return;
  }
  // Tagged with the session key (or, without one or when asked, a wrong key).
  static const crypto::Gmac kWrongKey(crypto::Key128{0x77});
  const crypto::Gmac& key = client.session && (flags & 0x40) == 0 ? *client.session : kWrongKey;
  if ((flags & 0x80) == 0 || client.packet_number == 0) ++client.packet_number;  // else: the number again
  const std::size_t sealed = crypto::sealPacket(key, 1 + (flags & 0x03), client.packet_number, buffer, size);
  FUZZ_CHECK(sealed == size + wire::kTagBytes);
  deliver(source, line, std::span<const std::byte>(buffer.data(), sealed), Expect{});
}

void World::answerProbes(std::uint8_t loss) {
  std::deque<Probe> probes;
  probes.swap(probes_);
  std::size_t i = 0;
  for (const Probe& probe : probes) {
    if (((loss >> (i++ % 8)) & 1) != 0) continue;  // lost
    if (neighbourAt(probe.to) != probe.neighbour) continue;  // the neighbour went away
    wire::Header ack;
    ack.type = wire::PacketType::kProbeAck;
    ack.hop_limit = 1;
    ack.sender_node_id = probe.neighbour;
    ack.sequence = probe.sequence;
    ack.timestamp_us = probe.timestamp_us;
    wire::PacketBuffer buffer{};
    const std::size_t size = wire::encodePacket(ack, {}, buffer);
    const std::uint32_t epoch = expectedSendingEpoch();
    const std::size_t sealed = sealAs(probe.neighbour, epoch, buffer, size);
    const auto source = static_cast<std::size_t>(
        std::find_if(kSources.begin(), kSources.end(), [&](const Source& s) { return s.endpoint == probe.to; }) -
        kSources.begin());
    Expect expect;
    expect.sealed_fresh = true;
    expect.sealed_by = probe.neighbour;
    expect.epoch = epoch;
    deliver(source, probe.line, std::span<const std::byte>(buffer.data(), sealed), expect);
  }
}

void World::runTicks(Input& in) {
  const std::size_t count = 1 + in.u8() % 64;
  const std::uint8_t loss = in.u8();
  const std::uint8_t flags = in.u8();
  for (std::size_t i = 0; i < count && ticks_ < kMaxTicksPerInput; ++i, ++ticks_) {
    now_ += core_.tickInterval();
    tick();
    if ((flags & 1) != 0) answerProbes(loss);
  }
}

void World::sendParity(Input& in) {
  const NodeId neighbour = kNeighbourIds[in.u8() % kNeighbourIds.size()];
  const std::size_t count = 1 + in.u8() % 4;
  const auto line = static_cast<LineIndex>(in.u8() % kLines);
  NeighbourSim& sim = sims_[neighbourSlot(neighbour)];
  std::vector<relay::FecPacket> flushed;
  sim.fec.onTick(now_, flushed);
  for (relay::FecPacket& p : flushed) sim.parity.push_back(std::move(p));
  for (std::size_t i = 0; i < count && !sim.parity.empty(); ++i) {
    relay::FecPacket packet = std::move(sim.parity.front());
    sim.parity.pop_front();
    const std::uint32_t epoch = expectedSendingEpoch();
    const std::size_t sealed = sealAs(neighbour, epoch, packet.bytes, packet.size);
    const std::size_t source = neighbour == 1 ? line : neighbour == 3 ? 2 + line : 4;
    Expect expect;
    expect.sealed_fresh = true;
    expect.sealed_by = neighbour;
    expect.epoch = epoch;
    deliver(source, line, std::span<const std::byte>(packet.bytes.data(), sealed), expect);
  }
}

void World::retransmit(Input& in) {
  const NodeId neighbour = kNeighbourIds[in.u8() % kNeighbourIds.size()];
  const std::uint8_t index = in.u8();
  const auto line = static_cast<LineIndex>(in.u8() % kLines);
  NeighbourSim& sim = sims_[neighbourSlot(neighbour)];
  if (sim.history.empty()) return;
  const std::vector<std::byte>& data = sim.history[index % sim.history.size()];
  wire::PacketBuffer buffer{};
  std::copy(data.begin(), data.end(), buffer.begin());
  wire::setRetransmitFlag(std::span(buffer.data(), data.size()), true);
  const std::uint32_t epoch = expectedSendingEpoch();
  const std::size_t sealed = sealAs(neighbour, epoch, buffer, data.size());
  const std::size_t source = neighbour == 1 ? line : neighbour == 3 ? 2 + line : 4;
  Expect expect;
  expect.sealed_fresh = true;
  expect.sealed_by = neighbour;
  expect.epoch = epoch;
  deliver(source, line, std::span<const std::byte>(buffer.data(), sealed), expect);
}

void World::dataBurst(Input& in) {
  const NodeId neighbour = kNeighbourIds[in.u8() % kNeighbourIds.size()];
  const std::uint8_t stream_sel = in.u8();
  const std::size_t count = 1 + in.u8() % 24;
  const std::uint16_t loss = in.u16();
  const std::uint8_t fec = in.u8();
  const std::size_t payload_size = in.u8() % 200;
  NeighbourSim& sim = sims_[neighbourSlot(neighbour)];
  sim.fec.setProtection(fec < 128 ? relay::FecProtection{}
                                  : relay::FecProtection{static_cast<std::uint8_t>(1 + fec % 8),
                                                         static_cast<std::uint8_t>(1 + (fec / 8) % 3)});
  const std::size_t stream = stream_sel % kStreamCount;
  for (std::size_t i = 0; i < count; ++i) {
    wire::Header header;
    header.type = wire::PacketType::kData;
    header.sender_node_id = neighbour;
    header.stream_id = streamOf(stream_sel);
    header.sequence = ++sequences_[stream];
    header.timestamp_us = timestampOf(3);
    header.latency_budget = 20;
    std::array<std::byte, 200> payload{};
    payload.fill(static_cast<std::byte>(i));
    wire::PacketBuffer buffer{};
    const std::size_t size = wire::encodePacket(header, std::span(payload.data(), payload_size), buffer);
    std::vector<relay::FecPacket> out;
    sim.fec.onDataSent(std::span<const std::byte>(buffer.data(), size), now_, out);
    for (relay::FecPacket& p : out) {
      if (sim.parity.size() < 32) sim.parity.push_back(std::move(p));
    }
    sim.history.emplace_back(buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(size));
    if (sim.history.size() > 32) sim.history.pop_front();
    now_ += 200;
    if (((loss >> (i % 16)) & 1) != 0) continue;  // lost on the way
    const std::uint32_t epoch = expectedSendingEpoch();
    const std::size_t sealed = sealAs(neighbour, epoch, buffer, size);
    const auto line = static_cast<LineIndex>(i % kLines);
    const std::size_t source = neighbour == 1 ? line : neighbour == 3 ? 2 + line : 4;
    Expect expect;
    expect.sealed_fresh = true;
    expect.sealed_by = neighbour;
    expect.epoch = epoch;
    deliver(source, line, std::span<const std::byte>(buffer.data(), sealed), expect);
  }
}

void World::setNeighbours(std::uint8_t variant) {
  std::vector<relay::NeighbourConfig> next = neighbourSet(variant);
  for (const NodeId id : kNeighbourIds) {
    const auto in = [&](const std::vector<relay::NeighbourConfig>& set) {
      return std::any_of(set.begin(), set.end(), [&](const relay::NeighbourConfig& n) { return n.node_id == id; });
    };
    const std::size_t slot = neighbourSlot(id);
    if (in(neighbours_) && !in(next)) {
      for (auto& generation : generation_[slot]) ++generation;  // its windows go
    }
  }
  // During the call the relay may still send to the neighbours it drops.
  leaving_ = neighbours_;
  neighbours_ = next;
  core_.setNeighbours(std::move(next));
  leaving_.clear();
  probes_.clear();
}

void World::setMeshKeys(std::uint8_t variant) {
  std::vector<relay::MeshKey> next = meshKeySet(variant);
  for (const relay::MeshKey& old : keys_) {
    const bool kept = std::any_of(next.begin(), next.end(), [&](const relay::MeshKey& k) { return k.epoch == old.epoch; });
    if (!kept) {
      for (auto& per_neighbour : generation_) ++per_neighbour[old.epoch];
    }
  }
  keys_ = next;
  core_.setMeshKeys(std::move(next));
}

void World::step(Input& in) {
  switch (static_cast<Op>(in.u8() % kOpCount)) {
    case kAdvance: now_ += TimeUs{in.u16()} * 100; break;
    case kTick: tick(); break;
    case kRunTicks: runTicks(in); break;
    case kRaw: {
      const std::size_t source = in.u8() % kSources.size();
      const auto line = static_cast<LineIndex>(in.u8() % kLines);
      const auto bytes = in.bytes(in.u16() % (wire::kMaxPacketBytes + 17));
      deliver(source, line, bytes, Expect{});
      break;
    }
    case kNeighbourPacket: neighbourPacket(in, false); break;
    case kMutated: neighbourPacket(in, true); break;
    case kReplay: replay(in); break;
    case kClientHello: clientHello(in); break;
    case kClientPacket: clientPacket(in); break;
    case kWallClock: {
      const std::uint8_t mode = in.u8();
      const std::uint16_t value = in.u16();
      // Mostly near the base (rotation and token times), sometimes stepping back.
      wall_ = mode % 4 == 3 ? kWallBaseUs - TimeUs{value} * kSecond : kWallBaseUs + TimeUs{value} * 100 * kMillisecond;
      core_.setWallClockUs(*wall_);
      break;
    }
    case kMeshKeys: setMeshKeys(in.u8()); break;
    case kNeighbours: setNeighbours(in.u8()); break;
    case kAnswerProbes: answerProbes(in.u8()); break;
    case kSendParity: sendParity(in); break;
    case kRetransmit: retransmit(in); break;
    case kRefuse: sink_.refuse = (in.u8() % 4) == 0; break;
    case kJoinPolicy: {
      const std::uint8_t mode = in.u8() % 3;
      core_.setJoinPolicy(mode == 0 ? relay::JoinPolicy{} : relay::JoinPolicy{kJoinKey, mode == 1});
      break;
    }
    case kRoutes: core_.setRoutes(routeSet(in.u8())); break;
    case kDataBurst: dataBurst(in); break;
    case kOpCount: break;
  }
}

void World::checkInvariants() const {
  const relay::RelayCounters& counters = core_.counters();
  FUZZ_CHECK(counters.packets_received == delivered_);
  FUZZ_CHECK(counters.bytes_received == delivered_bytes_);
  FUZZ_CHECK(counters.packets_sent == sink_.accepted);
  FUZZ_CHECK(counters.bytes_sent == sink_.accepted_bytes);

  static const relay::Limits limits = initialConfig().limits;
  const relay::RelayGauges gauges = core_.gauges();
  FUZZ_CHECK(gauges.streams <= limits.max_streams);
  FUZZ_CHECK(gauges.clients <= limits.max_clients);
  FUZZ_CHECK(gauges.upstream_subscriptions <= gauges.streams);
  // Every stream has a downstream; each downstream is a neighbour or a client.
  FUZZ_CHECK(gauges.downstreams >= gauges.streams);
  FUZZ_CHECK(gauges.downstreams <= gauges.streams * (kNeighbourIds.size() + limits.max_clients));

  std::size_t expected_links = 0;
  for (const relay::NeighbourConfig& n : neighbours_) expected_links += kLines * n.lines.size();
  const std::vector<relay::LinkSnapshot> links = core_.links();
  FUZZ_CHECK(links.size() == expected_links);
  for (const relay::NeighbourConfig& n : neighbours_) {
    const auto active = std::count_if(links.begin(), links.end(),
                                      [&](const relay::LinkSnapshot& l) { return l.neighbour == n.node_id && l.active; });
    FUZZ_CHECK(active == 1);
  }
  for (const relay::LinkSnapshot& link : links) {
    FUZZ_CHECK(link.loss_ratio >= 0.0 && link.loss_ratio <= 1.0);
    FUZZ_CHECK(link.local_line < kLines);
    FUZZ_CHECK(link.acks_received <= link.probes_sent);
  }
}

void World::printSummary() const {
  const relay::RelayCounters& c = core_.counters();
  const relay::RelayGauges g = core_.gauges();
  std::fprintf(stderr,
               "received %llu sent %llu | challenges %llu welcomes %llu | data in %llu forwarded %llu "
               "transit %llu | subscribes in %llu out %llu | probes %llu acks in %llu | nacks out %llu in %llu "
               "retransmissions out %llu | fec in %llu recovered fec %llu nack %llu | streams %llu "
               "downstreams %llu clients %llu upstreams %llu\n",
               static_cast<unsigned long long>(c.packets_received), static_cast<unsigned long long>(c.packets_sent),
               static_cast<unsigned long long>(c.challenges_sent), static_cast<unsigned long long>(c.welcomes_sent),
               static_cast<unsigned long long>(c.data_received), static_cast<unsigned long long>(c.data_forwarded),
               static_cast<unsigned long long>(c.transit_data_forwarded),
               static_cast<unsigned long long>(c.subscribes_received), static_cast<unsigned long long>(c.subscribes_sent),
               static_cast<unsigned long long>(c.probes_sent), static_cast<unsigned long long>(c.probe_acks_received),
               static_cast<unsigned long long>(c.nack_packets_sent),
               static_cast<unsigned long long>(c.nack_packets_received),
               static_cast<unsigned long long>(c.retransmissions_sent),
               static_cast<unsigned long long>(c.fec_packets_received), static_cast<unsigned long long>(c.recovered_fec),
               static_cast<unsigned long long>(c.recovered_nack), static_cast<unsigned long long>(g.streams),
               static_cast<unsigned long long>(g.downstreams), static_cast<unsigned long long>(g.clients),
               static_cast<unsigned long long>(g.upstream_subscriptions));
  for (std::size_t i = 0; i < relay::kDropReasonCount; ++i) {
    if (c.dropped[i] != 0) {
      const auto name = relay::toString(static_cast<relay::DropReason>(i));
      std::fprintf(stderr, "  dropped %.*s: %llu\n", static_cast<int>(name.size()), name.data(),
                   static_cast<unsigned long long>(c.dropped[i]));
    }
  }
  for (std::size_t i = 0; i < wire::kParseErrorCount; ++i) {
    if (c.malformed[i] != 0) {
      const auto name = wire::toString(static_cast<wire::ParseError>(i));
      std::fprintf(stderr, "  malformed %.*s: %llu\n", static_cast<int>(name.size()), name.data(),
                   static_cast<unsigned long long>(c.malformed[i]));
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Input input(data, size);
  auto world = std::make_unique<World>();
  world->run(input);
  static const bool verbose = std::getenv("OVERLINE_FUZZ_VERBOSE") != nullptr;
  if (verbose) world->printSummary();
  return 0;
}
