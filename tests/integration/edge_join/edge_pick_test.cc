// pickFastestEdge against scripted responders on loopback (port 0), each on
// its own thread: probes are numbered, every candidate gets the same number
// of them (join HELLOs without token: a CHALLENGE needs none), a reply
// (CHALLENGE) counts only for the probe it names and
// only from that probe's destination, silent candidates cost the timeout
// and no more, and overriding the controller takes a second round of probes.

#include <catch2/catch.hpp>

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/wire/packet.h"
#include "sdk/edge_pick.h"

namespace overline::sdk {
namespace {

using namespace std::chrono_literals;

// How a Responder answers each HELLO it receives.
enum class Script {
  kEcho,           // one reply with the HELLO's sequence, as a relay does
  kNoisy,          // an unknown sequence, the HELLO's sequence twice, a neighbour's, sequence 0
  kSequenceZero,   // one reply with sequence 0 (an edge that does not copy it)
  kOtherSocket,    // the right sequence, but from another port
  kSilent,         // nothing
  kSlow,           // like kEcho, each reply kSlowReplyUs late (a far edge)
  kSlowAtFirst,    // like kSlow for the first kEdgeProbesPerCandidate HELLOs, then kEcho (a stall)
};

constexpr DurationUs kSlowReplyUs = 100 * kMillisecond;

struct ReceivedHello {
  std::uint32_t sequence;
  std::string token;
};

// A UDP socket on 127.0.0.1:<ephemeral> served by its own thread until destroyed.
class Responder {
 public:
  Responder(NodeId node, Script script) : node_(node), script_(script) {
    fd_ = openSocket();
    other_fd_ = openSocket();
    sockaddr_in bound{};
    socklen_t length = sizeof(bound);
    REQUIRE(::getsockname(fd_, reinterpret_cast<sockaddr*>(&bound), &length) == 0);
    endpoint_ = Endpoint::fromSockaddr(bound);
    thread_ = std::thread([this] { run(); });
  }
  ~Responder() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
    ::close(other_fd_);
  }
  Responder(const Responder&) = delete;
  Responder& operator=(const Responder&) = delete;

  Endpoint endpoint() const { return endpoint_; }
  std::vector<ReceivedHello> received() {
    std::lock_guard lock(mutex_);
    return received_;
  }

 private:
  static int openSocket() {
    const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    sockaddr_in addr = Endpoint::parse("127.0.0.1:0")->toSockaddr();
    REQUIRE(::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0);
    return fd;
  }

  void reply(int fd, const sockaddr_in& to, std::uint32_t sequence) {
    wire::Header header;
    header.type = wire::PacketType::kChallenge;
    header.sender_node_id = node_;
    header.sequence = sequence;
    std::array<std::byte, wire::kCookieBytes> cookie{};
    cookie.fill(std::byte{0x5c});
    wire::PacketBuffer packet;
    const std::size_t size = wire::encodePacket(header, cookie, packet);
    ::sendto(fd, packet.data(), size, 0, reinterpret_cast<const sockaddr*>(&to), sizeof(to));
  }

  struct Delayed {
    std::chrono::steady_clock::time_point due;
    sockaddr_in to;
    std::uint32_t sequence;
  };

  void run() {
    std::array<std::byte, wire::kMaxPacketBytes> buffer;
    std::vector<Delayed> delayed;  // in due order: every delay is the same
    std::size_t hellos = 0;
    while (!stop_) {
      while (!delayed.empty() && delayed.front().due <= std::chrono::steady_clock::now()) {
        reply(fd_, delayed.front().to, delayed.front().sequence);
        delayed.erase(delayed.begin());
      }
      pollfd pfd{fd_, POLLIN, 0};
      if (::poll(&pfd, 1, delayed.empty() ? 20 : 1) <= 0) continue;
      sockaddr_in from{};
      socklen_t length = sizeof(from);
      const ssize_t n = ::recvfrom(fd_, buffer.data(), buffer.size(), 0, reinterpret_cast<sockaddr*>(&from), &length);
      if (n <= 0) continue;
      const auto parsed = wire::parsePacket(std::span(buffer.data(), static_cast<std::size_t>(n)));
      if (!parsed || parsed->header.type != wire::PacketType::kHello) continue;
      const std::uint32_t sequence = parsed->header.sequence;
      {
        std::lock_guard lock(mutex_);
        // What follows the nonce and cookie fields: the token, if any.
        const auto token = parsed->payload.size() >= wire::kMinHelloPayloadBytes
                               ? parsed->payload.subspan(wire::kMinHelloPayloadBytes)
                               : parsed->payload;
        received_.push_back({sequence, std::string(reinterpret_cast<const char*>(token.data()), token.size())});
      }
      switch (script_) {
        case Script::kEcho: reply(fd_, from, sequence); break;
        case Script::kNoisy:
          reply(fd_, from, sequence + 1000);
          reply(fd_, from, sequence);
          reply(fd_, from, sequence);
          reply(fd_, from, sequence + 1);  // another candidate's probe, or a later one not yet sent
          reply(fd_, from, 0);
          break;
        case Script::kSequenceZero: reply(fd_, from, 0); break;
        case Script::kOtherSocket: reply(other_fd_, from, sequence); break;
        case Script::kSilent: break;
        case Script::kSlow:
        case Script::kSlowAtFirst:
          if (script_ == Script::kSlow || hellos < kEdgeProbesPerCandidate) {
            delayed.push_back({std::chrono::steady_clock::now() + std::chrono::microseconds(kSlowReplyUs), from,
                               sequence});
          } else {
            reply(fd_, from, sequence);
          }
          break;
      }
      ++hellos;
    }
  }

  const NodeId node_;
  const Script script_;
  int fd_ = -1;
  int other_fd_ = -1;
  Endpoint endpoint_;
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::vector<ReceivedHello> received_;  // guarded by mutex_
  std::thread thread_;
};

DurationUs elapsedUs(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - since).count();
}

TEST_CASE("pickFastestEdge: numbered probes, each reply counted once for its own probe", "[integration]") {
  Responder echo(1, Script::kEcho);
  Responder noisy(2, Script::kNoisy);
  Responder zero(3, Script::kSequenceZero);
  Responder other_socket(4, Script::kOtherSocket);
  Responder silent(5, Script::kSilent);
  Responder unusable(6, Script::kEcho);
  // In the controller's order: the silent ones first, so that their place
  // after the answering ones is the ranking's doing.
  const std::vector<EdgeCandidate> candidates = {
      {zero.endpoint(), "token-zero"},   {silent.endpoint(), "token-silent"},
      {noisy.endpoint(), "token-noisy"}, {other_socket.endpoint(), "token-other"},
      {echo.endpoint(), "token-echo"},   {unusable.endpoint(), std::string(wire::kMaxHelloPayloadBytes + 1, 'x')},
  };
  // Long enough for every answer even when a loaded machine stalls this
  // thread or a responder's for a while: the silent ones make the pick wait it out.
  constexpr DurationUs kTimeoutUs = 2 * kSecond;
  const auto started = std::chrono::steady_clock::now();
  const auto measured = pickFastestEdge(candidates, kTimeoutUs);
  const DurationUs took_us = elapsedUs(started);
  REQUIRE(measured);
  const std::vector<MeasuredEdge>& edges = measured.value();
  REQUIRE(edges.size() == candidates.size());

  // Answering first (their relative order is the ranking's, by RTT), then
  // the silent ones in the given order.
  const std::set<Endpoint> answering = {edges[0].candidate.endpoint, edges[1].candidate.endpoint};
  CHECK(answering == std::set<Endpoint>{echo.endpoint(), noisy.endpoint()});
  CHECK(edges[2].candidate.endpoint == zero.endpoint());
  CHECK(edges[3].candidate.endpoint == silent.endpoint());
  CHECK(edges[4].candidate.endpoint == other_socket.endpoint());
  CHECK(edges[5].candidate.endpoint == unusable.endpoint());
  for (const MeasuredEdge& edge : edges) {
    INFO(edge.candidate.endpoint.toString());
    if (edge.candidate.endpoint == echo.endpoint() || edge.candidate.endpoint == noisy.endpoint()) {
      CHECK(edge.replies == kEdgeProbesPerCandidate);  // duplicates and strangers not counted
      REQUIRE(edge.rtt_us.has_value());
      CHECK(*edge.rtt_us >= 0);
      CHECK(*edge.rtt_us < kTimeoutUs);
    } else {
      CHECK(edge.replies == 0);
      CHECK_FALSE(edge.rtt_us.has_value());
    }
  }
  // Silent candidates keep the pick waiting for its whole timeout, no longer
  // (the upper bound is generous: the machine may be loaded).
  CHECK(took_us >= kTimeoutUs);
  CHECK(took_us < kTimeoutUs + 2 * kSecond);

  // Every usable candidate got the same number of probes, none carrying a
  // token (a probe joins nowhere); all sequences are distinct and none is 0.
  std::set<std::uint32_t> sequences;
  for (Responder* responder : {&echo, &noisy, &zero, &other_socket, &silent}) {
    const std::vector<ReceivedHello> hellos = responder->received();
    CHECK(hellos.size() == kEdgeProbesPerCandidate);
    for (const ReceivedHello& hello : hellos) {
      CHECK(hello.token.empty());
      CHECK(hello.sequence != 0);
      CHECK(sequences.insert(hello.sequence).second);
    }
  }
  CHECK(unusable.received().empty());  // its token is too long to join with: not probed
}

TEST_CASE("pickFastestEdge: returns once every probe is answered, long before its timeout", "[integration]") {
  Responder first(1, Script::kEcho);
  Responder second(2, Script::kEcho);
  const std::vector<EdgeCandidate> candidates = {{first.endpoint(), ""}, {second.endpoint(), ""}};
  const auto started = std::chrono::steady_clock::now();
  const auto measured = pickFastestEdge(candidates, 30 * kSecond);
  const DurationUs took_us = elapsedUs(started);
  REQUIRE(measured);
  for (const MeasuredEdge& edge : measured.value()) {
    // More only if a stall made one look clearly slower and asked for a second look.
    CHECK(edge.replies >= kEdgeProbesPerCandidate);
    CHECK(edge.rtt_us.has_value());
  }
  // The probe rounds take (probes - 1) x spacing; the rest is loopback RTTs
  // (generous bound: the machine may be loaded).
  CHECK(took_us >= (kEdgeProbesPerCandidate - 1) * kEdgeProbeSpacingUs);
  CHECK(took_us < 10 * kSecond);
}

TEST_CASE("pickFastestEdge: a candidate clearly faster than the controller's choice goes first, after a second look",
          "[integration]") {
  Responder fast(2, Script::kEcho);
  SECTION("a far first choice: confirmed, reordered") {
    Responder far(1, Script::kSlow);
    const std::vector<EdgeCandidate> candidates = {{far.endpoint(), ""}, {fast.endpoint(), ""}};
    const auto measured = pickFastestEdge(candidates, 30 * kSecond);
    REQUIRE(measured);
    const std::vector<MeasuredEdge>& edges = measured.value();
    CHECK(edges[0].candidate.endpoint == fast.endpoint());
    CHECK(edges[1].candidate.endpoint == far.endpoint());
    for (const MeasuredEdge& edge : edges) {
      CHECK(edge.replies == kEdgeProbesPerCandidate + kEdgeConfirmProbesPerCandidate);
    }
    CHECK(*edges[1].rtt_us >= kSlowReplyUs);
  }
  SECTION("a first choice that stalled for its first probes only: the controller's order stands") {
    Responder stalled(1, Script::kSlowAtFirst);
    const std::vector<EdgeCandidate> candidates = {{stalled.endpoint(), ""}, {fast.endpoint(), ""}};
    const auto measured = pickFastestEdge(candidates, 30 * kSecond);
    REQUIRE(measured);
    const std::vector<MeasuredEdge>& edges = measured.value();
    CHECK(edges[0].candidate.endpoint == stalled.endpoint());
    CHECK(edges[1].candidate.endpoint == fast.endpoint());
    for (const MeasuredEdge& edge : edges) {
      CHECK(edge.replies == kEdgeProbesPerCandidate + kEdgeConfirmProbesPerCandidate);
    }
    CHECK(*edges[0].rtt_us < kSlowReplyUs);
  }
}

TEST_CASE("pickFastestEdge: no candidates, no wait", "[integration]") {
  const auto measured = pickFastestEdge({}, 30 * kSecond);
  REQUIRE(measured);
  CHECK(measured.value().empty());
}

}  // namespace
}  // namespace overline::sdk
