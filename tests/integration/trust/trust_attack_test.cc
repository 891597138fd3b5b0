// Issue 11 acceptance (trust, wire v2): forged-source attacks on a live mesh
// change nothing and are all counted.
//
// A LocalMesh of three relays in a line, 1 - 2 - 3 (two lines each, mesh
// keys on), an SDK publisher joined at relay 1 (the origin) sending a
// stream at 500 packets/s for 10 s, and an SDK subscriber at relay 3
// (playout off) recording every sequence. After a 2 s baseline, for 6 s,
// this process sends forged datagrams with a raw IPv4 socket (IPPROTO_RAW,
// IP and UDP headers written here, checksums included; only 127.0.0.0/8),
// paced at about 2,000 a second and bounded in count and time:
//  * from the lines of a relay toward its neighbours (2 -> 1, 2 -> 3, and
//    1 -> 2, 3 -> 2): every packet type (DATA into the live stream 2^31
//    ahead, SUBSCRIBE, UNSUBSCRIBE, NACK of up to 64 recent sequences, FEC,
//    PROBE, PROBE_ACK, HELLO, CHALLENGE, WELCOME), each untagged, with a
//    random tag (a fresh packet number; the right epoch and sender, or a
//    wrong epoch, or a wrong sender), with an old packet number, and in the
//    v1 format (version 1, 32-byte header);
//  * the same from the joined subscriber's and publisher's endpoints toward
//    their edges (untagged HELLOs: header-only, short, without and with a
//    bogus cookie, token-sized);
//  * exact replays of genuine packets (relay to relay, client to edge)
//    captured on `lo` with an AF_PACKET socket during the baseline;
//  * from a victim address (a UDP socket bound on 127.0.0.77) to every line
//    of every relay: HELLOs (join step 1, with and without a token-sized
//    payload, with a bogus cookie, header-only, tagged), SUBSCRIBE, PROBE;
// and a second, genuinely joined client at relay 1 sends tagged DATA into
// the publisher's stream (far ahead; just ahead; stamped a minute ahead).
//
// Asserted: the subscriber receives every sequence (0 lost, nothing foreign);
// every relay's drop counter grows by at least the forged datagrams it was
// sent, reason by reason (a HELLO from an address that never joined, with
// no or a bogus cookie, is answered with a CHALLENGE instead and counted in
// challenges_sent); relay 1 forwards exactly the published DATA and nothing
// retransmits more than genuine NACKs asked for; the subscription gauges
// never change; the victim receives no more bytes than were forged with its
// address, and no DATA; relay 1 counts the poisoning client's DATA as
// not_owner / future_timestamp.

#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <catch2/catch.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <deque>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "common/wire/packet.h"
#include "deploy/localmesh/local_mesh.h"
#include "sdk/client.h"
#include "sdk/core/join_handshake.h"
#include "sdk/core/session_tagger.h"
#include "sdk/hello_packet.h"
#include "tests/test_skip.h"

namespace ol = overline;
namespace lm = overline::localmesh;
namespace wire = overline::wire;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using ol::NodeId;
using wire::PacketType;

namespace {

constexpr NodeId kOrigin = 1;
constexpr NodeId kMiddle = 2;
constexpr NodeId kEdge = 3;
constexpr std::uint32_t kLocalId = 7;
constexpr std::uint32_t kPackets = 5000;      // 10 s at 500 packets/s
constexpr auto kPacketInterval = 2ms;
constexpr std::size_t kPayloadBytes = 400;
constexpr auto kBaseline = 2000ms;            // stream only, before the first forged datagram
constexpr auto kAttack = 6000ms;
constexpr int kForgedPerSecond = 2000;
constexpr std::size_t kMaxForged = 20000;     // hard bound, whatever the clock does
constexpr std::size_t kMaxCaptured = 300;
constexpr int kReplaysPerCaptured = 3;
const std::uint32_t kVictimAddress = (127u << 24) | 77u;  // 127.0.0.77

const std::array<PacketType, 10> kAllTypes = {
    PacketType::kData,  PacketType::kSubscribe, PacketType::kUnsubscribe, PacketType::kNack,
    PacketType::kFec,   PacketType::kProbe,     PacketType::kProbeAck,    PacketType::kHello,
    PacketType::kChallenge, PacketType::kWelcome};

std::uint64_t wallClockUs() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
}

bool isLoopback(std::uint32_t address) { return (address >> 24) == 127; }

void putBe16(std::byte* p, std::uint16_t v) {
  p[0] = static_cast<std::byte>(v >> 8);
  p[1] = static_cast<std::byte>(v);
}
void putBe32(std::byte* p, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<std::byte>(v >> (24 - 8 * i));
}
void putBe64(std::byte* p, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<std::byte>(v >> (56 - 8 * i));
}
std::uint16_t getBe16(const std::byte* p) {
  return static_cast<std::uint16_t>((std::to_integer<unsigned>(p[0]) << 8) | std::to_integer<unsigned>(p[1]));
}
std::uint32_t getBe32(const std::byte* p) {
  return (static_cast<std::uint32_t>(getBe16(p)) << 16) | getBe16(p + 2);
}

// RFC 1071 sum, not yet folded.
std::uint32_t sum16(const std::byte* data, std::size_t size, std::uint32_t sum = 0) {
  for (std::size_t i = 0; i + 1 < size; i += 2) sum += getBe16(data + i);
  if (size % 2 == 1) sum += std::to_integer<std::uint32_t>(data[size - 1]) << 8;
  return sum;
}
std::uint16_t fold(std::uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum & 0xffff);
}

// Sends UDP datagrams with any loopback source: an IPPROTO_RAW socket
// (IP_HDRINCL implied), the IPv4 and UDP headers written here.
class RawUdpSender {
 public:
  // nullopt and errno set when the socket cannot be opened (no CAP_NET_RAW).
  static std::optional<RawUdpSender> open() {
    const int fd = ::socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
    if (fd < 0) return std::nullopt;
    return RawUdpSender(fd);
  }
  RawUdpSender(RawUdpSender&& o) noexcept : fd_(std::exchange(o.fd_, -1)), ip_id_(o.ip_id_) {}
  RawUdpSender& operator=(RawUdpSender&&) = delete;
  ~RawUdpSender() {
    if (fd_ >= 0) ::close(fd_);
  }

  // True when the kernel took the whole datagram.
  bool send(const ol::Endpoint& from, const ol::Endpoint& to, std::span<const std::byte> payload) {
    // Only ever loopback: this test must not put a forged packet on a network.
    if (!isLoopback(from.address()) || !isLoopback(to.address()) || payload.size() > 1500) {
      FAIL("refusing to send " << payload.size() << " bytes from " << from.toString() << " to " << to.toString());
    }
    std::array<std::byte, 20 + 8 + 1500> packet{};
    const std::size_t udp_size = 8 + payload.size();
    const std::size_t total = 20 + udp_size;
    std::byte* ip = packet.data();
    ip[0] = std::byte{0x45};  // IPv4, 20-byte header
    putBe16(ip + 2, static_cast<std::uint16_t>(total));
    putBe16(ip + 4, ++ip_id_);
    putBe16(ip + 6, 0x4000);  // DF
    ip[8] = std::byte{64};    // TTL
    ip[9] = std::byte{IPPROTO_UDP};
    putBe32(ip + 12, from.address());
    putBe32(ip + 16, to.address());
    putBe16(ip + 10, fold(sum16(ip, 20)));
    std::byte* udp = ip + 20;
    putBe16(udp, from.port());
    putBe16(udp + 2, to.port());
    putBe16(udp + 4, static_cast<std::uint16_t>(udp_size));
    std::memcpy(udp + 8, payload.data(), payload.size());
    // Pseudo-header: source, destination, protocol, UDP length.
    std::uint32_t sum = sum16(ip + 12, 8);
    sum += IPPROTO_UDP;
    sum += static_cast<std::uint32_t>(udp_size);
    std::uint16_t check = fold(sum16(udp, udp_size, sum));
    if (check == 0) check = 0xffff;
    putBe16(udp + 6, check);
    sockaddr_in dst{};
    dst.sin_family = AF_INET;
    dst.sin_addr.s_addr = htonl(to.address());
    const ssize_t sent =
        ::sendto(fd_, packet.data(), total, 0, reinterpret_cast<const sockaddr*>(&dst), sizeof dst);
    return sent == static_cast<ssize_t>(total);
  }

 private:
  explicit RawUdpSender(int fd) : fd_(fd) {}
  int fd_ = -1;
  std::uint16_t ip_id_ = 0;
};

// A genuine datagram seen on `lo`.
struct Captured {
  ol::Endpoint from, to;
  std::vector<std::byte> payload;
  PacketType type = PacketType::kData;
};

// Captures tagged wire packets sent to `relay_lines` from `sources` on `lo`
// with an AF_PACKET socket: at most `per_kind` per (from, to, type), at most
// kMaxCaptured, for at most `duration`. Empty when the socket cannot be
// opened (then no replay is sent).
std::vector<Captured> captureGenuine(const std::set<ol::Endpoint>& relay_lines, const std::set<ol::Endpoint>& sources,
                                     std::chrono::milliseconds duration, std::size_t per_kind) {
  std::vector<Captured> out;
  const int fd = ::socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_IP));
  if (fd < 0) return out;
  int buffer = 4 << 20;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buffer, sizeof buffer);
  sockaddr_ll bind_to{};
  bind_to.sll_family = AF_PACKET;
  bind_to.sll_protocol = htons(ETH_P_IP);
  bind_to.sll_ifindex = static_cast<int>(::if_nametoindex("lo"));
  if (bind_to.sll_ifindex == 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&bind_to), sizeof bind_to) != 0) {
    ::close(fd);
    return out;
  }
  std::map<std::tuple<ol::Endpoint, ol::Endpoint, int>, std::size_t> kinds;
  std::set<std::vector<std::byte>> seen;  // loopback shows each packet outgoing and incoming
  std::array<std::byte, 65536> frame;
  const auto deadline = Clock::now() + duration;
  for (int reads = 0; reads < 200000 && Clock::now() < deadline && out.size() < kMaxCaptured; ++reads) {
    pollfd pfd{fd, POLLIN, 0};
    if (::poll(&pfd, 1, 20) <= 0) continue;
    const ssize_t got = ::recv(fd, frame.data(), frame.size(), MSG_DONTWAIT);
    if (got < 28) continue;
    const std::byte* ip = frame.data();
    const std::size_t ihl = (std::to_integer<std::size_t>(ip[0]) & 0xf) * 4;
    if ((std::to_integer<unsigned>(ip[0]) >> 4) != 4 || std::to_integer<int>(ip[9]) != IPPROTO_UDP) continue;
    if (static_cast<std::size_t>(got) < ihl + 8) continue;
    const std::byte* udp = ip + ihl;
    const std::size_t udp_size = getBe16(udp + 4);
    if (udp_size < 8 || ihl + udp_size > static_cast<std::size_t>(got)) continue;
    const ol::Endpoint from(getBe32(ip + 12), getBe16(udp));
    const ol::Endpoint to(getBe32(ip + 16), getBe16(udp + 2));
    if (!relay_lines.count(to) || !sources.count(from)) continue;
    std::vector<std::byte> payload(udp + 8, udp + udp_size);
    const auto parsed = wire::parsePacket(payload);
    if (!parsed || !parsed->header.tagged()) continue;
    std::size_t& count = kinds[{from, to, static_cast<int>(parsed->header.type)}];
    if (count >= per_kind) continue;
    std::vector<std::byte> key = payload;
    const std::byte* a = ip + 12;
    key.insert(key.end(), a, a + 8);
    key.insert(key.end(), udp, udp + 4);
    if (!seen.insert(std::move(key)).second) continue;
    ++count;
    out.push_back(Captured{from, to, std::move(payload), parsed->header.type});
  }
  ::close(fd);
  return out;
}

// A client speaking the wire itself (sdk/core's JoinHandshake and
// SessionTagger, as the SDK does), to send tagged packets the SDK never
// would: joins `edge`, keeps the session alive from its own thread.
class WireClient {
 public:
  explicit WireClient(const ol::Endpoint& edge, std::uint8_t nonce_seed) : edge_(edge) {
    ol::sdk::HelloNonce nonce{};
    for (std::size_t i = 0; i < nonce.size(); ++i) nonce[i] = static_cast<std::byte>(nonce_seed * 31 + i * 7 + 1);
    join_.emplace(nonce, std::string());
    fd_ = ::socket(AF_INET, SOCK_DGRAM, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_in local{};
    local.sin_family = AF_INET;
    local.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof local) == 0);
  }
  ~WireClient() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    ::close(fd_);
  }

  // HELLO, CHALLENGE, HELLO with the cookie, WELCOME; then keepalives every
  // second from a thread. False when it did not join within `timeout`.
  bool join(std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    std::array<std::byte, wire::kMaxPacketBytes> buffer;
    auto next_hello = Clock::now();
    for (int turns = 0; turns < 1000 && Clock::now() < deadline; ++turns) {
      if (Clock::now() >= next_hello) {
        sendHello();
        next_hello = Clock::now() + 200ms;
      }
      pollfd pfd{fd_, POLLIN, 0};
      if (::poll(&pfd, 1, 20) <= 0) continue;
      const ssize_t got = ::recv(fd_, buffer.data(), buffer.size(), MSG_DONTWAIT);
      if (got <= 0) continue;
      const auto parsed = wire::parsePacket(std::span(buffer.data(), static_cast<std::size_t>(got)));
      if (!parsed) continue;
      switch (join_->onAnswer(*parsed)) {
        case ol::sdk::JoinHandshake::Step::kIgnored: break;
        case ol::sdk::JoinHandshake::Step::kChallenged: sendHello(); break;
        case ol::sdk::JoinHandshake::Step::kJoined:
          reflexive_ = join_->reflexiveAddress();
          tagger_.emplace(join_->sessionKey());
          thread_ = std::thread([this] { keepAlive(); });
          return true;
      }
    }
    return false;
  }
  const ol::Endpoint& reflexive() const { return reflexive_; }

  // Tags and sends one packet (joined only); its size, 0 if not sent.
  std::size_t sendTagged(const wire::Header& header, std::span<const std::byte> payload) {
    wire::PacketBuffer packet;
    std::size_t size = wire::encodePacket(header, payload, packet);
    std::lock_guard lock(mutex_);
    size = tagger_->tag(packet, size);
    return sendDatagram(std::span(packet.data(), size)) ? size : 0;
  }

 private:
  bool sendDatagram(std::span<const std::byte> datagram) {
    const sockaddr_in to = edge_.toSockaddr();
    return ::sendto(fd_, datagram.data(), datagram.size(), 0, reinterpret_cast<const sockaddr*>(&to), sizeof to) ==
           static_cast<ssize_t>(datagram.size());
  }
  void sendHello() {
    wire::PacketBuffer packet;
    sendDatagram(std::span(packet.data(), join_->hello(packet, 0)));
  }
  void keepAlive() {
    std::array<std::byte, wire::kMaxPacketBytes> buffer;
    auto next = Clock::now();
    // Bounded: the test ends long before 10 minutes.
    for (const auto end = Clock::now() + 600s; !stop_ && Clock::now() < end;) {
      if (Clock::now() >= next) {
        wire::PacketBuffer packet;
        const std::size_t size = ol::sdk::encodeHello(join_->nonce(), ol::sdk::HelloCookie{}, {}, packet);
        std::lock_guard lock(mutex_);
        sendDatagram(std::span(packet.data(), tagger_->tag(packet, size)));
        next += 1s;
      }
      pollfd pfd{fd_, POLLIN, 0};
      if (::poll(&pfd, 1, 50) <= 0) continue;
      for (int i = 0; i < 64 && ::recv(fd_, buffer.data(), buffer.size(), MSG_DONTWAIT) > 0; ++i) {
      }
    }
  }

  ol::Endpoint edge_;
  std::optional<ol::sdk::JoinHandshake> join_;
  std::optional<ol::sdk::SessionTagger> tagger_;
  ol::Endpoint reflexive_;
  int fd_ = -1;
  std::mutex mutex_;  // tagger_ and the socket's sends
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// What the subscriber received.
class SequenceLog {
 public:
  void onData(ol::StreamId stream, ol::StreamId expected, std::uint32_t sequence) {
    std::lock_guard lock(mutex_);
    last_ = Clock::now();
    if (stream != expected || sequence >= kPackets) {
      ++foreign_;
      return;
    }
    if (seen_[sequence]) {
      ++duplicates_;
      return;
    }
    seen_[sequence] = true;
    ++unique_;
  }
  std::uint64_t unique() {
    std::lock_guard lock(mutex_);
    return unique_;
  }
  Clock::time_point last() {
    std::lock_guard lock(mutex_);
    return last_;
  }
  // Sequences in [first, end) never received.
  std::uint64_t missing(std::uint32_t first, std::uint32_t end) {
    std::lock_guard lock(mutex_);
    std::uint64_t n = 0;
    for (std::uint32_t s = first; s < end && s < kPackets; ++s) n += seen_[s] ? 0 : 1;
    return n;
  }
  std::uint64_t foreign() {
    std::lock_guard lock(mutex_);
    return foreign_;
  }
  std::uint64_t duplicates() {
    std::lock_guard lock(mutex_);
    return duplicates_;
  }

 private:
  std::mutex mutex_;
  std::vector<bool> seen_ = std::vector<bool>(kPackets, false);
  std::uint64_t unique_ = 0, foreign_ = 0, duplicates_ = 0;
  Clock::time_point last_ = Clock::now();
};

// Expected outcomes of everything sent, filled as it is sent.
struct Ledger {
  std::map<std::pair<NodeId, std::string>, std::uint64_t> drops;  // (relay, reason) -> datagrams
  std::map<NodeId, std::uint64_t> challenges;                     // CHALLENGEs the relay must answer
  std::map<std::string, std::uint64_t> by_type;                   // forged, by packet type
  std::map<std::string, std::uint64_t> by_form;                   // forged, by variant
  std::map<std::string, std::uint64_t> by_source;                 // forged, by spoofed source
  std::uint64_t forged = 0, forged_bytes = 0, send_failures = 0;
  std::uint64_t replays = 0;  // exact replays of captured genuine packets (not in `forged`)
  std::uint64_t victim_forged = 0, victim_forged_bytes = 0, victim_challenges = 0;
  std::uint64_t poison = 0;  // tagged DATA from the second client (not in `forged`)

  std::uint64_t expectedDrops() const {
    std::uint64_t n = 0;
    for (const auto& [key, count] : drops) n += count;
    return n;
  }
  std::uint64_t expectedDrops(NodeId relay) const {
    std::uint64_t n = 0;
    for (const auto& [key, count] : drops) n += key.first == relay ? count : 0;
    return n;
  }
};

// One datagram to send, and what it must do.
struct Outgoing {
  ol::Endpoint from, to;
  NodeId target = ol::kNoNode;
  std::vector<std::byte> bytes;
  std::string reason;        // expected drop reason; "" when none (a CHALLENGE answer only)
  bool challenge = false;    // the relay answers it with a CHALLENGE
  std::string type, form, source;
  enum class Kind { kForged, kVictim, kReplay } kind = Kind::kForged;
};

enum class Form { kUntagged, kRandomTag, kOldNumber, kV1 };
constexpr std::array<Form, 4> kAllForms = {Form::kUntagged, Form::kRandomTag, Form::kOldNumber, Form::kV1};

std::string formName(Form form) {
  switch (form) {
    case Form::kUntagged: return "untagged";
    case Form::kRandomTag: return "random_tag";
    case Form::kOldNumber: return "old_packet_number";
    case Form::kV1: return "v1";
  }
  return "?";
}

std::string reasonOfSize(std::size_t size) { return size < wire::kHeaderBytes ? "too_short" : "bad_version"; }

// Builds the forged datagrams. Deterministic for a given seed.
class Forger {
 public:
  Forger(ol::StreamId stream, std::uint32_t seed) : stream_(stream), rng_(seed) {}

  std::vector<std::byte> randomBytes(std::size_t n) {
    std::vector<std::byte> out(n);
    for (auto& b : out) b = static_cast<std::byte>(rng_());
    return out;
  }

  // The payload a packet of `type` needs to parse (v2), `hello_kind`
  // choosing among the HELLO payloads: 0 header-only, 1 short (20 bytes),
  // 2 nonce + zero cookie, 3 nonce + bogus cookie, 4 nonce + zero cookie +
  // a token-sized 256 bytes.
  std::vector<std::byte> payloadFor(PacketType type, std::uint32_t published, int hello_kind) {
    switch (type) {
      case PacketType::kData: return randomBytes(kPayloadBytes);
      case PacketType::kNack: {
        const std::uint32_t n = 1 + static_cast<std::uint32_t>(nack_count_++ % 64);
        std::vector<std::byte> out(4 * n);
        for (std::uint32_t i = 0; i < n; ++i) {
          // The most recent sequences: what relay 1 still keeps to retransmit.
          putBe32(out.data() + 4 * i, published > n ? published - n + i : i);
        }
        return out;
      }
      case PacketType::kFec: return randomBytes(120);
      case PacketType::kHello: {
        switch (hello_kind) {
          case 0: return {};
          case 1: return randomBytes(20);
          case 3: {
            auto out = randomBytes(wire::kMinHelloPayloadBytes);
            out[wire::kHelloNonceBytes] |= std::byte{1};  // never all zero: a (bogus) cookie
            return out;
          }
          case 4: {
            auto out = randomBytes(wire::kMinHelloPayloadBytes + wire::kMaxJoinTokenBytes);
            std::fill(out.begin() + wire::kHelloNonceBytes, out.begin() + wire::kMinHelloPayloadBytes, std::byte{0});
            for (std::size_t i = wire::kMinHelloPayloadBytes; i < out.size(); ++i) {
              out[i] = static_cast<std::byte>('a' + i % 26);
            }
            return out;
          }
          default: {
            auto out = randomBytes(wire::kMinHelloPayloadBytes);
            std::fill(out.begin() + wire::kHelloNonceBytes, out.end(), std::byte{0});
            return out;
          }
        }
      }
      case PacketType::kChallenge: return randomBytes(wire::kCookieBytes);
      case PacketType::kWelcome: return randomBytes(wire::kWelcomePayloadBytes);
      default: return {};
    }
  }

  wire::Header headerFor(PacketType type, NodeId sender, std::uint32_t published) {
    wire::Header h;
    h.type = type;
    h.sender_node_id = sender;
    switch (type) {
      case PacketType::kData:
        h.stream_id = stream_;
        h.sequence = published + (1u << 31);  // far ahead of the live stream
        h.timestamp_us = wallClockUs();
        h.latency_budget = 40;
        break;
      case PacketType::kSubscribe:
        // The live stream, or a new one (a subscription that must not appear).
        h.stream_id = (subscribe_count_++ % 2 == 0) ? stream_ : ol::makeStreamId(kOrigin, 900 + subscribe_count_ % 50);
        break;
      case PacketType::kUnsubscribe:
      case PacketType::kNack:
      case PacketType::kFec: h.stream_id = stream_; break;
      case PacketType::kProbe:
      case PacketType::kProbeAck:
        h.hop_limit = 1;
        h.sequence = static_cast<std::uint32_t>(rng_());
        h.timestamp_us = rng_() >> 8;
        break;
      default: h.sequence = static_cast<std::uint32_t>(rng_()); break;
    }
    return h;
  }

  // A v2 packet, untagged or with a random tag under (epoch, packet number).
  std::vector<std::byte> v2(const wire::Header& header, std::span<const std::byte> payload,
                            std::optional<std::pair<std::uint32_t, std::uint64_t>> key) {
    std::vector<std::byte> out(wire::kHeaderBytes + payload.size() + (key ? wire::kTagBytes : 0));
    const std::size_t size = wire::encodePacket(header, payload, out);
    if (size != wire::kHeaderBytes + payload.size()) FAIL("encodePacket wrote " << size << " bytes");
    if (key) {
      wire::writeKeyFields(out, key->first, key->second);
      const auto tag = randomBytes(wire::kTagBytes);
      std::copy(tag.begin(), tag.end(), out.begin() + static_cast<std::ptrdiff_t>(size));
    }
    return out;
  }

  // The same fields in the v1 layout: version 1, a 32-byte header.
  static std::vector<std::byte> v1(const wire::Header& h, std::span<const std::byte> payload) {
    std::vector<std::byte> out(32 + payload.size());
    out[0] = std::byte{wire::kMagic};
    out[1] = std::byte{1};
    out[2] = static_cast<std::byte>(h.type);
    out[3] = std::byte{h.flags};
    out[4] = std::byte{h.hop_limit};
    out[5] = std::byte{h.latency_budget};
    putBe16(out.data() + 6, static_cast<std::uint16_t>(payload.size()));
    putBe32(out.data() + 8, h.sender_node_id);
    putBe64(out.data() + 12, h.stream_id);
    putBe32(out.data() + 20, h.sequence);
    putBe64(out.data() + 24, h.timestamp_us);
    std::copy(payload.begin(), payload.end(), out.begin() + 32);
    return out;
  }

  // A fresh packet number far ahead of any real one: passes the replay
  // window, so only the tag check can refuse it.
  std::uint64_t freshNumber() { return (1ull << 63) + (rng_() >> 2); }
  ol::StreamId stream() const { return stream_; }

 private:
  ol::StreamId stream_;
  std::mt19937_64 rng_;
  std::uint64_t nack_count_ = 0;
  std::uint64_t subscribe_count_ = 0;
};

// The neighbour-address forgeries of one (source relay line -> target relay
// line) for one round: every type in every form.
void forgeNeighbour(Forger& forger, std::uint32_t published, int round, NodeId source, const ol::Endpoint& from,
                    NodeId target, const ol::Endpoint& to, std::deque<Outgoing>& out) {
  for (const PacketType type : kAllTypes) {
    for (const Form form : kAllForms) {
      Outgoing o;
      o.from = from;
      o.to = to;
      o.target = target;
      o.type = std::string(wire::toString(type));
      o.form = formName(form);
      o.source = "relay" + std::to_string(source) + "->relay" + std::to_string(target);
      wire::Header h = forger.headerFor(type, source, published);
      const auto payload = forger.payloadFor(type, published, 2);
      switch (form) {
        case Form::kUntagged:
          o.bytes = forger.v2(h, payload, std::nullopt);
          o.reason = "unauthenticated";
          break;
        case Form::kRandomTag: {
          // The neighbour's id and epoch, or an epoch it never had, or
          // another sender id: all bad_tag.
          std::uint32_t epoch = 1;
          if (round % 3 == 1) epoch = 9;
          if (round % 3 == 2) h.sender_node_id = 99;
          o.bytes = forger.v2(h, payload, std::make_pair(epoch, forger.freshNumber()));
          o.reason = "bad_tag";
          o.form += round % 3 == 0 ? "" : (round % 3 == 1 ? "(epoch 9)" : "(sender 99)");
          break;
        }
        case Form::kOldNumber:
          // Far behind the pair's packet numbers (they start at the sender's
          // wall clock in ns): refused before the tag is checked.
          o.bytes = forger.v2(h, payload, std::make_pair(std::uint32_t{1}, std::uint64_t{1} + round));
          o.reason = "replayed";
          break;
        case Form::kV1:
          o.bytes = Forger::v1(h, payload);
          o.reason = reasonOfSize(o.bytes.size());
          break;
      }
      out.push_back(std::move(o));
    }
  }
}

// The joined client's forgeries toward its edge for one round.
void forgeClient(Forger& forger, std::uint32_t published, int round, const std::string& name,
                 const ol::Endpoint& from, NodeId target, const ol::Endpoint& to, std::deque<Outgoing>& out) {
  for (const PacketType type : kAllTypes) {
    for (const Form form : kAllForms) {
      Outgoing o;
      o.from = from;
      o.to = to;
      o.target = target;
      o.type = std::string(wire::toString(type));
      o.form = formName(form);
      o.source = name + "->relay" + std::to_string(target);
      const int hello_kind = round % 5;
      const wire::Header h = forger.headerFor(type, ol::kNoNode, published);
      const auto payload = forger.payloadFor(type, published, form == Form::kUntagged ? hello_kind : 2);
      switch (form) {
        case Form::kUntagged:
          o.bytes = forger.v2(h, payload, std::nullopt);
          o.reason = "unauthenticated";
          if (type == PacketType::kHello) {
            // An untagged HELLO is a join's first step, whoever sends it.
            const char* kinds[] = {"(header-only)", "(20 bytes)", "(no cookie)", "(bogus cookie)", "(token-sized)"};
            o.form += kinds[hello_kind];
            o.reason = hello_kind == 0 ? "bad_hello" : hello_kind == 1 ? "unexpected_payload"
                       : hello_kind == 3                                ? "bad_cookie"
                                                                        : "";
            o.challenge = hello_kind >= 2;
          }
          break;
        case Form::kRandomTag:
          o.bytes = forger.v2(h, payload, std::make_pair(std::uint32_t{1}, forger.freshNumber()));
          o.reason = "bad_tag";
          break;
        case Form::kOldNumber:
          // Packet number 1, already accepted from the client (its first packet).
          o.bytes = forger.v2(h, payload, std::make_pair(std::uint32_t{1}, std::uint64_t{1}));
          o.reason = "replayed";
          break;
        case Form::kV1:
          o.bytes = Forger::v1(h, payload);
          o.reason = reasonOfSize(o.bytes.size());
          break;
      }
      out.push_back(std::move(o));
    }
  }
}

// The victim-address flood toward one relay line for one round.
void forgeVictim(Forger& forger, std::uint32_t published, const ol::Endpoint& victim, NodeId target,
                 const ol::Endpoint& to, std::deque<Outgoing>& out) {
  const auto add = [&](std::vector<std::byte> bytes, const std::string& form, const std::string& reason,
                       bool challenge, const std::string& type) {
    Outgoing o;
    o.from = victim;
    o.to = to;
    o.target = target;
    o.bytes = std::move(bytes);
    o.reason = reason;
    o.challenge = challenge;
    o.type = type;
    o.form = form;
    o.source = "victim->relay" + std::to_string(target);
    o.kind = Outgoing::Kind::kVictim;
    out.push_back(std::move(o));
  };
  const wire::Header hello = forger.headerFor(PacketType::kHello, ol::kNoNode, published);
  add(forger.v2(hello, forger.payloadFor(PacketType::kHello, published, 2), std::nullopt), "hello(no cookie)", "",
      true, "hello");
  add(forger.v2(hello, forger.payloadFor(PacketType::kHello, published, 4), std::nullopt), "hello(token-sized)", "",
      true, "hello");
  add(forger.v2(hello, forger.payloadFor(PacketType::kHello, published, 3), std::nullopt), "hello(bogus cookie)",
      "bad_cookie", true, "hello");
  add(forger.v2(hello, forger.payloadFor(PacketType::kHello, published, 0), std::nullopt), "hello(header-only)",
      "bad_hello", false, "hello");
  add(forger.v2(hello, forger.payloadFor(PacketType::kHello, published, 2),
                std::make_pair(std::uint32_t{1}, forger.freshNumber())),
      "hello(tagged)", "unknown_source", false, "hello");
  wire::Header subscribe = forger.headerFor(PacketType::kSubscribe, ol::kNoNode, published);
  subscribe.stream_id = forger.stream();  // the live stream, to the victim
  add(forger.v2(subscribe, {}, std::nullopt), "subscribe", "unknown_source", false, "subscribe");
  add(forger.v2(forger.headerFor(PacketType::kProbe, ol::kNoNode, published), {}, std::nullopt), "probe",
      "unknown_source", false, "probe");
}

using Snapshot = std::map<NodeId, lm::MetricSamples>;

Snapshot scrapeAll(lm::LocalMesh& mesh) {
  Snapshot s;
  for (const auto& node : mesh.spec().nodes) {
    auto samples = mesh.scrape(node.id);
    REQUIRE(samples.has_value());
    s[node.id] = std::move(*samples);
  }
  return s;
}

double metric(const Snapshot& s, NodeId relay, const std::string& key) {
  return lm::valueOf(s.at(relay), key).value_or(0);
}
double total(const Snapshot& s, NodeId relay, const std::string& name) { return lm::sumOf(s.at(relay), name); }
std::string dropKey(const std::string& reason) {
  return "overline_relay_dropped_packets_total{reason=\"" + reason + "\"}";
}

// Subscription state that no forged packet may change.
std::string gaugeState(const Snapshot& s) {
  std::ostringstream out;
  for (const auto& [relay, samples] : s) {
    out << "relay" << relay << "{streams=" << lm::sumOf(samples, "overline_relay_streams")
        << " downstreams=" << lm::sumOf(samples, "overline_relay_downstreams")
        << " clients=" << lm::sumOf(samples, "overline_relay_clients")
        << " upstreams=" << lm::sumOf(samples, "overline_relay_upstream_subscriptions") << "} ";
  }
  return out.str();
}

// UDP counters of this network namespace (/proc/net/snmp), for the report.
std::map<std::string, long long> udpCounters() {
  std::ifstream in("/proc/net/snmp");
  std::string names, values, line;
  while (std::getline(in, line)) {
    if (line.rfind("Udp: ", 0) != 0) continue;
    if (names.empty()) {
      names = line;
    } else {
      values = line;
      break;
    }
  }
  std::map<std::string, long long> out;
  std::istringstream n(names), v(values);
  std::string name, value;
  n >> name;
  v >> value;
  while (n >> name && v >> value) out[name] = std::stoll(value);
  return out;
}

template <typename Map>
std::string joinCounts(const Map& map) {
  std::ostringstream out;
  bool first = true;
  for (const auto& [key, count] : map) {
    out << (first ? "" : ", ") << key << " " << count;
    first = false;
  }
  return out.str();
}

}  // namespace

TEST_CASE("Forged-source packets of every type, replays, a victim-address HELLO flood and stream poisoning "
          "change nothing, and every one is counted") {
  // Needs raw sockets; check before anything starts.
  auto raw_sender = RawUdpSender::open();
  if (!raw_sender) {
    ol::test::skipTest(std::string("trust_attack_test needs CAP_NET_RAW (raw IPv4 socket: ") + std::strerror(errno) +
                       "); run it as root");
  }
  RawUdpSender& raw = *raw_sender;

  lm::MeshSpec spec;
  spec.nodes = {{kOrigin, "a"}, {kMiddle, "a"}, {kEdge, "a"}};
  spec.links = {{kOrigin, kMiddle}, {kMiddle, kEdge}};
  lm::LocalMeshOptions options;
  options.bin_dir = OVERLINE_BIN_DIR;
  auto started = lm::LocalMesh::start(spec, options);
  INFO((started ? std::string() : started.error()));
  REQUIRE(started.ok());
  lm::LocalMesh& mesh = *started.value();
  REQUIRE(!mesh.spec().mesh_secret_hex.empty());  // authenticated mesh

  const ol::StreamId stream = ol::makeStreamId(kOrigin, kLocalId);

  // Subscriber at relay 3, raw arrival order.
  auto subscriber_connected = ol::sdk::Client::connect(mesh.relay(kEdge).lines.at(0));
  INFO((subscriber_connected ? std::string() : subscriber_connected.error()));
  REQUIRE(subscriber_connected.ok());
  auto& subscriber = *subscriber_connected.value();
  SequenceLog log;
  ol::sdk::SubscribeOptions sub_options;
  sub_options.playout = false;
  REQUIRE(!subscriber
               .subscribe(
                   stream,
                   [&](ol::StreamId s, const wire::Header& h, std::span<const std::byte>, std::uint64_t) {
                     log.onData(s, stream, h.sequence);
                   },
                   sub_options)
               .has_value());

  // Publisher at relay 1 (the origin).
  auto publisher_connected = ol::sdk::Client::connect(mesh.relay(kOrigin).lines.at(0));
  INFO((publisher_connected ? std::string() : publisher_connected.error()));
  REQUIRE(publisher_connected.ok());
  auto& publisher = *publisher_connected.value();
  const auto published_stream = publisher.publish(kLocalId);
  REQUIRE(published_stream.ok());
  REQUIRE(published_stream.value() == stream);

  // The second client of issue 11's poisoning attack, genuinely joined at relay 1.
  WireClient poisoner(mesh.relay(kOrigin).lines.at(0), 0x5a);
  REQUIRE(poisoner.join(5s));

  REQUIRE(mesh.waitForTree({kEdge}, kOrigin, 10s) == "");

  const ol::Endpoint subscriber_at = subscriber.reflexiveAddress();
  const ol::Endpoint publisher_at = publisher.reflexiveAddress();
  REQUIRE(isLoopback(subscriber_at.address()));
  REQUIRE(isLoopback(publisher_at.address()));

  // The victim: a socket on another loopback address, read by this test.
  struct Fd {
    int fd;
    ~Fd() {
      if (fd >= 0) ::close(fd);
    }
  } victim_socket{::socket(AF_INET, SOCK_DGRAM, 0)};
  const int victim_fd = victim_socket.fd;
  REQUIRE(victim_fd >= 0);
  {
    int buffer = 4 << 20;
    ::setsockopt(victim_fd, SOL_SOCKET, SO_RCVBUF, &buffer, sizeof buffer);
    const sockaddr_in local = ol::Endpoint(kVictimAddress, 0).toSockaddr();
    REQUIRE(::bind(victim_fd, reinterpret_cast<const sockaddr*>(&local), sizeof local) == 0);
  }
  sockaddr_in victim_addr{};
  socklen_t victim_len = sizeof victim_addr;
  REQUIRE(::getsockname(victim_fd, reinterpret_cast<sockaddr*>(&victim_addr), &victim_len) == 0);
  const ol::Endpoint victim = ol::Endpoint::fromSockaddr(victim_addr);
  std::uint64_t victim_bytes = 0, victim_datagrams = 0, victim_data = 0;
  std::map<std::string, std::uint64_t> victim_types;
  const auto drainVictim = [&] {
    std::array<std::byte, 2048> buffer;
    for (int i = 0; i < 4096; ++i) {
      const ssize_t got = ::recv(victim_fd, buffer.data(), buffer.size(), MSG_DONTWAIT);
      if (got < 0) break;
      ++victim_datagrams;
      victim_bytes += static_cast<std::uint64_t>(got);
      const auto parsed = wire::parsePacket(std::span(buffer.data(), static_cast<std::size_t>(got)));
      const std::string type = parsed ? std::string(wire::toString(parsed->header.type)) : "malformed";
      ++victim_types[type];
      if (parsed && parsed->header.type == PacketType::kData) ++victim_data;
    }
  };

  // Settled: the joins and the tree show in every relay's exported metrics
  // (copied every 250 ms) before the reference scrape.
  REQUIRE(mesh.waitForMetrics(kOrigin, 5s, [](const lm::MetricSamples& s) {
    return lm::sumOf(s, "overline_relay_clients") == 2 && lm::sumOf(s, "overline_relay_downstreams") == 1;
  }));
  REQUIRE(mesh.waitForMetrics(kEdge, 5s, [](const lm::MetricSamples& s) {
    return lm::sumOf(s, "overline_relay_clients") == 1 && lm::sumOf(s, "overline_relay_downstreams") == 1;
  }));
  std::this_thread::sleep_for(600ms);
  const Snapshot before = scrapeAll(mesh);
  const std::string gauges_before = gaugeState(before);
  const auto udp_before = udpCounters();

  // The stream: kPackets at 500/s on a fixed schedule, from its own thread.
  std::atomic<std::uint32_t> published{0};
  std::atomic<std::uint64_t> publish_failures{0};
  std::atomic<bool> stop_publishing{false};
  std::thread publishing([&] {
    std::vector<std::byte> payload(kPayloadBytes, std::byte{0x42});
    const auto start = Clock::now();
    for (std::uint32_t i = 0; i < kPackets && !stop_publishing; ++i) {
      std::this_thread::sleep_until(start + i * kPacketInterval);
      if (!publisher.send(stream, payload)) ++publish_failures;
      published = i + 1;
    }
  });
  struct JoinPublisher {
    std::atomic<bool>& stop;
    std::thread& thread;
    ~JoinPublisher() {
      stop = true;
      if (thread.joinable()) thread.join();
    }
  } join_publisher{stop_publishing, publishing};
  const auto stream_start = Clock::now();

  // Baseline: capture genuine packets toward the relays for the replays.
  std::set<ol::Endpoint> relay_lines, sources;
  std::map<ol::Endpoint, NodeId> line_owner;
  for (const auto& node : spec.nodes) {
    for (const auto& line : mesh.relay(node.id).lines) {
      relay_lines.insert(line);
      sources.insert(line);
      line_owner[line] = node.id;
    }
  }
  sources.insert(subscriber_at);
  sources.insert(publisher_at);
  std::this_thread::sleep_for(200ms);
  const std::vector<Captured> captured = captureGenuine(relay_lines, sources, 1200ms, 6);
  std::map<std::string, std::uint64_t> captured_types;
  for (const Captured& c : captured) ++captured_types[std::string(wire::toString(c.type))];
  std::this_thread::sleep_until(stream_start + kBaseline);
  const std::uint32_t attack_first = published.load();

  // The attack.
  Ledger ledger;
  Forger forger(stream, 20261121);
  std::deque<Outgoing> queue;
  std::vector<std::string> gauge_changes;
  const auto& r1 = mesh.relay(kOrigin).lines;
  const auto& r2 = mesh.relay(kMiddle).lines;
  const auto& r3 = mesh.relay(kEdge).lines;
  REQUIRE(r1.size() == 2);
  REQUIRE(r2.size() == 2);
  REQUIRE(r3.size() == 2);
  std::size_t replay_cursor = 0;
  const std::size_t replay_total = captured.size() * kReplaysPerCaptured;
  int round = 0;
  std::size_t sent_count = 0;
  const auto attack_start = Clock::now();
  auto next_gauge_check = attack_start + 500ms;
  const auto sendPoison = [&] {
    const std::uint32_t now_seq = published.load();
    for (int kind = 0; kind < 3; ++kind) {
      wire::Header h;
      h.type = PacketType::kData;
      h.stream_id = stream;
      h.latency_budget = 40;
      h.sequence = kind == 1 ? now_seq + 1 : now_seq + (1u << 31);
      h.timestamp_us = wallClockUs() + (kind == 2 ? 60'000'000 : 0);
      const auto payload = forger.randomBytes(kPayloadBytes);
      if (poisoner.sendTagged(h, payload) == 0) continue;
      ++ledger.poison;
      ++ledger.drops[{kOrigin, kind == 2 ? "future_timestamp" : "not_owner"}];
    }
  };
  while (Clock::now() < attack_start + kAttack && sent_count < kMaxForged) {
    if (queue.empty()) {
      const std::uint32_t p = published.load();
      const int a = round % 2, b = (round / 2) % 2;
      forgeNeighbour(forger, p, round, kMiddle, r2[a], kOrigin, r1[b], queue);
      forgeNeighbour(forger, p, round, kMiddle, r2[b], kEdge, r3[a], queue);
      forgeNeighbour(forger, p, round, kOrigin, r1[a], kMiddle, r2[b], queue);
      forgeNeighbour(forger, p, round, kEdge, r3[b], kMiddle, r2[a], queue);
      forgeClient(forger, p, round, "subscriber", subscriber_at, kEdge, r3[a], queue);
      forgeClient(forger, p, round, "publisher", publisher_at, kOrigin, r1[b], queue);
      for (const auto& node : spec.nodes) {
        for (const auto& line : mesh.relay(node.id).lines) forgeVictim(forger, p, victim, node.id, line, queue);
      }
      for (int i = 0; i < 20 && replay_cursor < replay_total; ++i, ++replay_cursor) {
        const Captured& c = captured[replay_cursor % captured.size()];
        Outgoing o;
        o.from = c.from;
        o.to = c.to;
        o.target = line_owner.at(c.to);
        o.bytes = c.payload;
        o.reason = "replayed";
        o.type = std::string(wire::toString(c.type));
        o.form = "replay";
        o.kind = Outgoing::Kind::kReplay;
        queue.push_back(std::move(o));
      }
      // Interleave the kinds (not all UNSUBSCRIBEs in one burst).
      std::vector<Outgoing> shuffled(std::make_move_iterator(queue.begin()), std::make_move_iterator(queue.end()));
      std::shuffle(shuffled.begin(), shuffled.end(), std::mt19937(static_cast<unsigned>(round)));
      queue.assign(std::make_move_iterator(shuffled.begin()), std::make_move_iterator(shuffled.end()));
      sendPoison();
      ++round;
    }
    Outgoing o = std::move(queue.front());
    queue.pop_front();
    if (!raw.send(o.from, o.to, o.bytes)) {
      ++ledger.send_failures;
    } else {
      if (!o.reason.empty()) ++ledger.drops[{o.target, o.reason}];
      if (o.challenge) ++ledger.challenges[o.target];
      if (o.kind == Outgoing::Kind::kReplay) {
        ++ledger.replays;
      } else {
        ++ledger.forged;
        ledger.forged_bytes += o.bytes.size();
        ++ledger.by_type[o.type];
        ++ledger.by_form[o.form];
        ++ledger.by_source[o.source.substr(0, o.source.find("->"))];
        if (o.kind == Outgoing::Kind::kVictim) {
          ++ledger.victim_forged;
          ledger.victim_forged_bytes += o.bytes.size();
          if (o.challenge) ++ledger.victim_challenges;
        }
      }
    }
    ++sent_count;
    if (sent_count % 64 == 0) drainVictim();
    // Paced: the relays must see every datagram (their socket buffers never fill).
    std::this_thread::sleep_until(attack_start + sent_count * std::chrono::microseconds(1'000'000 / kForgedPerSecond));
    if (Clock::now() >= next_gauge_check) {
      const std::string now_state = gaugeState(scrapeAll(mesh));
      if (now_state != gauges_before) gauge_changes.push_back(now_state);
      next_gauge_check = Clock::now() + 500ms;
    }
  }
  const auto attack_end = Clock::now();
  const std::uint32_t attack_last = published.load();

  // The stream runs to its end; then the subscriber goes quiet.
  const auto publish_deadline = Clock::now() + 20s;
  while (published.load() < kPackets && Clock::now() < publish_deadline) std::this_thread::sleep_for(50ms);
  REQUIRE(published.load() == kPackets);
  for (const auto quiet_deadline = Clock::now() + 5s; Clock::now() < quiet_deadline;) {
    if (log.unique() == kPackets || Clock::now() - log.last() > 1s) break;
    std::this_thread::sleep_for(20ms);
  }
  std::this_thread::sleep_for(300ms);
  drainVictim();

  // Every relay shows its forged datagrams (metrics are copied every 250 ms).
  for (const auto& node : spec.nodes) {
    const double want = lm::sumOf(before.at(node.id), "overline_relay_dropped_packets_total") +
                        static_cast<double>(ledger.expectedDrops(node.id));
    mesh.waitForMetrics(node.id, 5s, [&](const lm::MetricSamples& s) {
      return lm::sumOf(s, "overline_relay_dropped_packets_total") >= want &&
             lm::sumOf(s, "overline_relay_data_packets_received_total") >=
                 lm::sumOf(before.at(node.id), "overline_relay_data_packets_received_total") + kPackets;
    });
  }
  const Snapshot after = scrapeAll(mesh);
  const std::string gauges_after = gaugeState(after);
  const auto udp_after = udpCounters();
  const auto delta = [&](NodeId relay, const std::string& name) { return total(after, relay, name) - total(before, relay, name); };
  const auto deltaKey = [&](NodeId relay, const std::string& key) {
    return metric(after, relay, key) - metric(before, relay, key);
  };

  // ---- Figures ----
  const std::uint64_t lost_total = log.missing(0, kPackets);
  const std::uint64_t lost_baseline = log.missing(0, attack_first);
  const std::uint64_t lost_attack = log.missing(attack_first, attack_last + 1);
  const std::uint64_t lost_after = log.missing(attack_last + 1, kPackets);
  WARN("stream: published " << kPackets << " (send failures " << publish_failures.load() << "), subscriber received "
                            << log.unique() << " unique; lost " << lost_total << " (baseline seq 0-"
                            << attack_first - 1 << ": " << lost_baseline << ", during the attack seq " << attack_first
                            << "-" << attack_last << ": " << lost_attack << ", after: " << lost_after
                            << "); duplicates " << log.duplicates() << ", foreign/out-of-range " << log.foreign());
  WARN("forged " << ledger.forged << " datagrams (" << ledger.forged_bytes << " bytes) in "
                 << std::chrono::duration_cast<std::chrono::milliseconds>(attack_end - attack_start).count()
                 << " ms, " << round << " rounds, raw send failures " << ledger.send_failures
                 << "; by type: " << joinCounts(ledger.by_type) << "; by form: " << joinCounts(ledger.by_form)
                 << "; by spoofed source: " << joinCounts(ledger.by_source));
  WARN("replays of captured genuine packets: " << ledger.replays << " (" << captured.size()
                                               << " captured on lo: " << joinCounts(captured_types)
                                               << "); poisoning DATA from a joined client: " << ledger.poison);
  std::ostringstream drops_report;
  std::uint64_t expected_total = 0;
  double observed_total = 0;
  for (const auto& node : spec.nodes) {
    drops_report << "relay" << node.id << ": dropped +" << delta(node.id, "overline_relay_dropped_packets_total")
                 << " (expected >= " << ledger.expectedDrops(node.id) << ") [";
    bool first = true;
    for (const auto& [key, value] : after.at(node.id)) {
      if (key.rfind("overline_relay_dropped_packets_total{", 0) != 0) continue;
      const double d = value - metric(before, node.id, key);
      if (d == 0) continue;
      const std::string reason = key.substr(key.find('"') + 1, key.rfind('"') - key.find('"') - 1);
      const auto expected = ledger.drops.find({node.id, reason});
      drops_report << (first ? "" : ", ") << reason << " +" << d << "/"
                   << (expected == ledger.drops.end() ? 0 : expected->second);
      first = false;
    }
    drops_report << "], challenges_sent +" << delta(node.id, "overline_relay_challenges_sent_total")
                 << " (expected " << ledger.challenges[node.id] << "); ";
    expected_total += ledger.expectedDrops(node.id);
    observed_total += delta(node.id, "overline_relay_dropped_packets_total");
  }
  WARN("drops by relay and reason (observed/expected): " << drops_report.str());
  WARN("victim " << victim.toString() << ": forged " << ledger.victim_forged << " datagrams, "
                 << ledger.victim_forged_bytes << " bytes with its address; received " << victim_datagrams
                 << " datagrams, " << victim_bytes << " bytes (" << joinCounts(victim_types) << "), ratio "
                 << (ledger.victim_forged_bytes ? static_cast<double>(victim_bytes) / ledger.victim_forged_bytes : 0));
  std::ostringstream effects;
  for (const auto& node : spec.nodes) {
    effects << "relay" << node.id << ": data forwarded +" << delta(node.id, "overline_relay_data_packets_forwarded_total")
            << " (bytes to neighbours +" << deltaKey(node.id, "overline_relay_sent_bytes_total{kind=\"data\"}") << ")"
            << ", retransmissions +" << delta(node.id, "overline_relay_retransmissions_sent_total")
            << ", retransmit bytes +" << deltaKey(node.id, "overline_relay_sent_bytes_total{kind=\"retransmit\"}")
            << ", NACKs sent +" << delta(node.id, "overline_relay_nack_packets_sent_total") << " (sequences +"
            << delta(node.id, "overline_relay_nack_sequences_sent_total") << "), NACKs received +"
            << delta(node.id, "overline_relay_nack_packets_received_total") << ", FEC received +"
            << delta(node.id, "overline_relay_fec_packets_received_total") << ", probe acks sent +"
            << deltaKey(node.id, "overline_relay_probe_packets_sent_total{kind=\"ack\"}") << " for probes sent +"
            << deltaKey(node.id, "overline_relay_probe_packets_sent_total{kind=\"probe\"}")
            << ", unsubscribes sent +" << delta(node.id, "overline_relay_unsubscribes_sent_total")
            << ", downstreams expired +" << delta(node.id, "overline_relay_downstreams_expired_total")
            << ", welcomes +" << delta(node.id, "overline_relay_welcomes_sent_total")
            << ", sessions replaced +" << delta(node.id, "overline_relay_client_sessions_replaced_total") << "; ";
  }
  WARN("effects: " << effects.str() << "gauges before: " << gauges_before << "after: " << gauges_after
                   << "(mid-attack changes seen: " << gauge_changes.size() << ")");
  std::ostringstream udp_report;
  for (const char* name : {"InErrors", "RcvbufErrors", "InCsumErrors", "NoPorts"}) {
    const auto b = udp_before.find(name), a = udp_after.find(name);
    if (a != udp_after.end() && b != udp_before.end()) udp_report << name << " +" << a->second - b->second << " ";
  }
  WARN("kernel UDP counters (whole namespace, anything on the machine): " << udp_report.str());

  // ---- 1. The stream lost nothing ----
  CHECK(publish_failures.load() == 0);
  CHECK(attack_last > attack_first);
  CHECK(lost_attack == 0);
  CHECK(lost_total == 0);
  CHECK(log.foreign() == 0);
  CHECK(log.duplicates() == 0);

  // ---- 2. Every forged datagram is counted, under its reason ----
  CHECK(ledger.send_failures == 0);
  CHECK(ledger.forged > 5000);
  CHECK(ledger.replays > 0);  // the AF_PACKET capture works wherever the raw socket does
  for (const auto& [key, expected] : ledger.drops) {
    INFO("relay " << key.first << " reason " << key.second);
    CHECK(deltaKey(key.first, dropKey(key.second)) >= static_cast<double>(expected));
  }
  for (const auto& node : spec.nodes) {
    INFO("relay " << node.id);
    CHECK(delta(node.id, "overline_relay_dropped_packets_total") >= static_cast<double>(ledger.expectedDrops(node.id)));
    CHECK(delta(node.id, "overline_relay_challenges_sent_total") >= static_cast<double>(ledger.challenges[node.id]));
  }
  CHECK(observed_total >= static_cast<double>(expected_total));

  // ---- 3. No forged packet caused anything ----
  // Relay 1 sent relay 2 exactly the published stream, relay 2 relay 3, and
  // relay 3 the subscriber: nothing forged was forwarded.
  for (const auto& node : spec.nodes) {
    INFO("relay " << node.id);
    CHECK(delta(node.id, "overline_relay_data_packets_forwarded_total") == kPackets);
    CHECK(delta(node.id, "overline_relay_unsubscribes_sent_total") == 0);
    CHECK(delta(node.id, "overline_relay_downstreams_expired_total") == 0);
    CHECK(delta(node.id, "overline_relay_client_sessions_replaced_total") == 0);
    CHECK(delta(node.id, "overline_relay_welcomes_sent_total") == 0);
  }
  // Byte for byte: relay 1 sent relay 2 the published DATA (48-byte header,
  // payload, tag) and nothing else, relay 2 the same to relay 3.
  const double data_bytes = static_cast<double>(kPackets) * (wire::kHeaderBytes + kPayloadBytes + wire::kTagBytes);
  CHECK(deltaKey(kOrigin, "overline_relay_sent_bytes_total{kind=\"data\"}") == data_bytes);
  CHECK(deltaKey(kMiddle, "overline_relay_sent_bytes_total{kind=\"data\"}") == data_bytes);
  // Retransmissions only for what genuine NACKs asked: relay 1 answers relay
  // 2's, relay 2 answers relay 3's; relay 3 has no relay downstream.
  CHECK(delta(kOrigin, "overline_relay_retransmissions_sent_total") <=
        delta(kMiddle, "overline_relay_nack_sequences_sent_total") * 2);
  CHECK(delta(kMiddle, "overline_relay_retransmissions_sent_total") <=
        delta(kEdge, "overline_relay_nack_sequences_sent_total") * 2);
  CHECK(delta(kEdge, "overline_relay_retransmissions_sent_total") == 0);
  // Only genuine NACKs and FEC got past authentication.
  CHECK(delta(kOrigin, "overline_relay_nack_packets_received_total") <=
        delta(kMiddle, "overline_relay_nack_packets_sent_total"));
  CHECK(delta(kMiddle, "overline_relay_nack_packets_received_total") <=
        delta(kEdge, "overline_relay_nack_packets_sent_total"));
  CHECK(delta(kEdge, "overline_relay_nack_packets_received_total") == 0);
  CHECK(delta(kOrigin, "overline_relay_fec_packets_received_total") == 0);
  CHECK(delta(kMiddle, "overline_relay_fec_packets_received_total") <= delta(kOrigin, "overline_relay_fec_packets_sent_total"));
  CHECK(delta(kEdge, "overline_relay_fec_packets_received_total") <= delta(kMiddle, "overline_relay_fec_packets_sent_total"));
  if (delta(kMiddle, "overline_relay_nack_sequences_sent_total") == 0 &&
      delta(kEdge, "overline_relay_nack_sequences_sent_total") == 0) {
    for (const auto& node : spec.nodes) {
      CHECK(deltaKey(node.id, "overline_relay_sent_bytes_total{kind=\"retransmit\"}") == 0);
    }
  }
  // No forged PROBE was answered. In a line every relay answers as many
  // genuine probes as it sends (its neighbours probe as many links to it as
  // it probes to them, at the same interval), so its acks track its probes
  // up to the probes in flight at the two scrapes (a few; +4 seen). Every
  // forged PROBE is also counted as a drop above, which is exact; this is a
  // sanity bound on the answers themselves.
  for (const auto& node : spec.nodes) {
    INFO("relay " << node.id);
    const double probes = deltaKey(node.id, "overline_relay_probe_packets_sent_total{kind=\"probe\"}");
    const double acks = deltaKey(node.id, "overline_relay_probe_packets_sent_total{kind=\"ack\"}");
    CHECK(acks <= probes * 1.01 + 10);
  }
  // Subscriptions: the same tree before, during and after.
  CHECK(gauges_after == gauges_before);
  CHECK(gauge_changes.empty());
  for (const auto& change : gauge_changes) WARN("gauges changed mid-attack: " << change);

  // ---- 4. The victim got no more bytes than were forged with its address, and no DATA ----
  CHECK(ledger.victim_forged > 0);
  CHECK(victim_data == 0);
  CHECK(victim_bytes <= ledger.victim_forged_bytes);
  CHECK(victim_bytes <= 3 * ledger.victim_forged_bytes);
  CHECK(victim_types["challenge"] <= ledger.victim_challenges);
  CHECK(victim_types.size() <= 1);  // CHALLENGEs only

  // ---- 5. Poisoning from a joined client: refused at relay 1, nothing lost ----
  CHECK(ledger.poison > 0);
  CHECK(deltaKey(kOrigin, dropKey("not_owner")) + deltaKey(kOrigin, dropKey("future_timestamp")) +
            deltaKey(kOrigin, dropKey("sequence_jump")) >=
        static_cast<double>(ledger.poison));
}
