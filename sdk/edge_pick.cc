#include "sdk/edge_pick.h"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "common/wire/packet.h"
#include "sdk/core/edge_ranking.h"
#include "sdk/hello_packet.h"
#include "sdk/unique_fd.h"

namespace overline::sdk {
namespace {

TimeUs monotonicUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// The clock of the kernel's receive timestamps (SO_TIMESTAMPNS).
TimeUs wallUs() {
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  return now.tv_sec * kSecond + now.tv_nsec / 1000;
}

std::string errnoText(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

// One HELLO sent; its header sequence is its index in the list of probes + 1
// (0 is what a client that does not number its HELLOs sends).
struct Probe {
  std::size_t candidate;
  TimeUs sent_wall_us;
  bool answered = false;
};

// Receives one datagram without blocking; `arrival_wall_us` is the kernel's
// receive timestamp, or the time of reading if there is none. -1 when
// nothing is waiting (or an ICMP error from a candidate that is down).
ssize_t receive(int fd, std::span<std::byte> buffer, sockaddr_in& from, TimeUs& arrival_wall_us) {
  iovec iov{buffer.data(), buffer.size()};
  alignas(cmsghdr) std::array<std::byte, CMSG_SPACE(sizeof(timespec))> control;
  msghdr message{};
  message.msg_name = &from;
  message.msg_namelen = sizeof(from);
  message.msg_iov = &iov;
  message.msg_iovlen = 1;
  message.msg_control = control.data();
  message.msg_controllen = control.size();
  const ssize_t n = ::recvmsg(fd, &message, MSG_DONTWAIT);
  arrival_wall_us = wallUs();
  for (cmsghdr* c = CMSG_FIRSTHDR(&message); n >= 0 && c != nullptr; c = CMSG_NXTHDR(&message, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_TIMESTAMPNS) continue;
    timespec stamp{};
    std::memcpy(&stamp, CMSG_DATA(c), sizeof(stamp));
    arrival_wall_us = stamp.tv_sec * kSecond + stamp.tv_nsec / 1000;
  }
  return n;
}

}  // namespace

Result<std::vector<MeasuredEdge>, std::string> pickFastestEdge(std::span<const EdgeCandidate> candidates,
                                                                DurationUs timeout_us) {
  std::vector<MeasuredEdge> measured;
  for (const EdgeCandidate& candidate : candidates) measured.push_back({candidate, std::nullopt, 0});
  UniqueFd socket_fd(::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!socket_fd.valid()) return Err{errnoText("socket")};
  // A reply is timed when the kernel received it, not when this thread got
  // to read it: on a busy client that may be many ms later, for one
  // candidate's reply and not another's. Without timestamps: reading time.
  const int on = 1;
  ::setsockopt(socket_fd.get(), SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on));

  // An unusable candidate is never probed and stays silent; Client::connect reports it.
  std::vector<std::size_t> probed;
  for (std::size_t i = 0; i < measured.size(); ++i) {
    if (measured[i].candidate.join_token.size() <= wire::kMaxJoinTokenBytes) probed.push_back(i);
  }

  std::vector<Probe> probes;
  std::size_t unanswered = 0;
  int rounds_wanted = kEdgeProbesPerCandidate;
  int rounds_sent = 0;
  const TimeUs start_us = monotonicUs();
  const TimeUs deadline_us = start_us + timeout_us;
  TimeUs next_round_us = start_us;
  std::array<std::byte, wire::kMaxPacketBytes + 1> buffer;
  const auto minRtts = [&] {
    std::vector<std::optional<DurationUs>> rtts;
    for (const MeasuredEdge& edge : measured) rtts.push_back(edge.rtt_us);
    return rtts;
  };
  for (;;) {
    const TimeUs now_us = monotonicUs();
    if (now_us >= deadline_us) break;
    if (rounds_sent < rounds_wanted && now_us >= next_round_us) {
      // Each round starts one candidate further on, so that no candidate is
      // always the one whose reply waits while the others are sent.
      for (std::size_t k = 0; k < probed.size(); ++k) {
        const std::size_t i = probed[(k + static_cast<std::size_t>(rounds_sent)) % probed.size()];
        const EdgeCandidate& candidate = measured[i].candidate;
        // A probe is the first step of a join, without the token: the edge
        // answers every such HELLO with a CHALLENGE at once and keeps no
        // state, so probing several edges costs none of them anything.
        wire::PacketBuffer hello;
        const std::size_t bytes =
            encodeHello(HelloNonce{}, HelloCookie{}, {}, hello, static_cast<std::uint32_t>(probes.size() + 1));
        const sockaddr_in to = candidate.endpoint.toSockaddr();
        const TimeUs send_wall_us = wallUs();
        const ssize_t n = ::sendto(socket_fd.get(), hello.data(), bytes, MSG_NOSIGNAL,
                                   reinterpret_cast<const sockaddr*>(&to), sizeof(to));
        if (n != static_cast<ssize_t>(bytes)) continue;  // a lost probe, in effect
        probes.push_back({i, send_wall_us});
        ++unanswered;
      }
      ++rounds_sent;
      next_round_us = now_us + kEdgeProbeSpacingUs;
      continue;
    }
    if (rounds_sent == rounds_wanted && unanswered == 0) {
      // Everyone answered every probe. Overriding the controller takes a
      // second look: a stall that delayed one candidate's first probes
      // rarely lasts through the next ones, a really slower path does.
      if (rounds_wanted == kEdgeProbesPerCandidate && overridesController(minRtts())) {
        rounds_wanted += kEdgeConfirmProbesPerCandidate;
        continue;
      }
      break;
    }

    const TimeUs wake_us = rounds_sent < rounds_wanted ? std::min(next_round_us, deadline_us) : deadline_us;
    pollfd pfd{socket_fd.get(), POLLIN, 0};
    const int timeout_ms = static_cast<int>((wake_us - now_us + kMillisecond - 1) / kMillisecond);
    if (::poll(&pfd, 1, timeout_ms) < 0 && errno != EINTR) return Err{errnoText("poll")};
    for (;;) {
      sockaddr_in from{};
      TimeUs arrival_wall_us = 0;
      const ssize_t n = receive(socket_fd.get(), buffer, from, arrival_wall_us);
      if (n < 0) break;
      const auto parsed = wire::parsePacket(std::span(buffer.data(), static_cast<std::size_t>(n)));
      if (!parsed || parsed->header.type != wire::PacketType::kChallenge ||
          parsed->header.sender_node_id == kNoNode) {
        continue;
      }
      const std::uint32_t sequence = parsed->header.sequence;
      if (sequence == 0 || sequence > probes.size()) continue;  // not a probe of ours
      Probe& probe = probes[sequence - 1];
      MeasuredEdge& edge = measured[probe.candidate];
      if (probe.answered || edge.candidate.endpoint != Endpoint::fromSockaddr(from)) continue;
      probe.answered = true;
      --unanswered;
      ++edge.replies;
      // Negative only if the wall clock was stepped back meanwhile: no sample.
      const DurationUs rtt_us = arrival_wall_us - probe.sent_wall_us;
      if (rtt_us >= 0 && (!edge.rtt_us || rtt_us < *edge.rtt_us)) edge.rtt_us = rtt_us;
    }
  }

  std::vector<MeasuredEdge> ranked;
  for (const std::size_t i : rankEdges(minRtts())) ranked.push_back(std::move(measured[i]));
  return ranked;
}

std::vector<EdgeCandidate> candidatesOf(std::span<const MeasuredEdge> measured) {
  std::vector<EdgeCandidate> out;
  for (const MeasuredEdge& edge : measured) out.push_back(edge.candidate);
  return out;
}

}  // namespace overline::sdk
