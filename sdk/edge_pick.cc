#include "sdk/edge_pick.h"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "sdk/hello_packet.h"
#include "sdk/unique_fd.h"

namespace overline::sdk {
namespace {

TimeUs monotonicUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string errnoText(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

}  // namespace

Result<std::vector<MeasuredEdge>, std::string> pickFastestEdge(std::span<const EdgeCandidate> candidates,
                                                                DurationUs timeout_us,
                                                                DurationUs rtt_margin_us) {
  std::vector<MeasuredEdge> measured;
  for (const EdgeCandidate& candidate : candidates) measured.push_back({candidate, std::nullopt});
  UniqueFd socket_fd(::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!socket_fd.valid()) return Err{errnoText("socket")};

  std::vector<std::optional<TimeUs>> sent_at_us(measured.size());  // nullopt: not sent
  std::size_t waiting = 0;
  for (std::size_t i = 0; i < measured.size(); ++i) {
    const EdgeCandidate& candidate = measured[i].candidate;
    // An unusable candidate stays silent; Client::connect reports it.
    if (candidate.join_token.size() > wire::kMaxHelloPayloadBytes) continue;
    wire::PacketBuffer hello;
    const std::size_t bytes = encodeHello(candidate.join_token, hello);
    const sockaddr_in to = candidate.endpoint.toSockaddr();
    const TimeUs send_us = monotonicUs();
    const ssize_t n = ::sendto(socket_fd.get(), hello.data(), bytes, MSG_NOSIGNAL,
                               reinterpret_cast<const sockaddr*>(&to), sizeof(to));
    if (n != static_cast<ssize_t>(bytes)) continue;
    sent_at_us[i] = send_us;
    ++waiting;
  }

  const TimeUs deadline_us = monotonicUs() + timeout_us;
  std::array<std::byte, wire::kMaxPacketBytes + 1> buffer;
  while (waiting > 0) {
    const TimeUs now_us = monotonicUs();
    if (now_us >= deadline_us) break;
    pollfd pfd{socket_fd.get(), POLLIN, 0};
    const int timeout_ms = static_cast<int>((deadline_us - now_us + kMillisecond - 1) / kMillisecond);
    if (::poll(&pfd, 1, timeout_ms) < 0 && errno != EINTR) return Err{errnoText("poll")};
    for (;;) {
      sockaddr_in from{};
      socklen_t from_len = sizeof(from);
      const ssize_t n = ::recvfrom(socket_fd.get(), buffer.data(), buffer.size(), MSG_DONTWAIT,
                                   reinterpret_cast<sockaddr*>(&from), &from_len);
      if (n < 0) break;  // EAGAIN, or an ICMP error from a candidate that is down
      const TimeUs arrival_us = monotonicUs();
      const auto parsed = wire::parsePacket(std::span(buffer.data(), static_cast<std::size_t>(n)));
      if (!parsed || parsed->header.type != wire::PacketType::kHello || parsed->header.sender_node_id == kNoNode) {
        continue;
      }
      const Endpoint source = Endpoint::fromSockaddr(from);
      for (std::size_t i = 0; i < measured.size(); ++i) {
        if (measured[i].candidate.endpoint == source && !measured[i].rtt_us && sent_at_us[i]) {
          measured[i].rtt_us = arrival_us - *sent_at_us[i];
          --waiting;
        }
      }
    }
  }
  std::optional<DurationUs> fastest_us;
  for (const MeasuredEdge& edge : measured) {
    if (edge.rtt_us && (!fastest_us || *edge.rtt_us < *fastest_us)) fastest_us = edge.rtt_us;
  }
  // 0: about as fast as the fastest, 1: answered, 2: silent. Within classes 0
  // and 2 the stable sort keeps the given order; class 1 goes by RTT.
  const auto rank = [&](const MeasuredEdge& edge) {
    if (!edge.rtt_us) return 2;
    return *edge.rtt_us <= *fastest_us + rtt_margin_us ? 0 : 1;
  };
  std::stable_sort(measured.begin(), measured.end(), [&](const MeasuredEdge& a, const MeasuredEdge& b) {
    if (rank(a) != rank(b)) return rank(a) < rank(b);
    return rank(a) == 1 && *a.rtt_us < *b.rtt_us;
  });
  return measured;
}

std::vector<EdgeCandidate> candidatesOf(std::span<const MeasuredEdge> measured) {
  std::vector<EdgeCandidate> out;
  for (const MeasuredEdge& edge : measured) out.push_back(edge.candidate);
  return out;
}

}  // namespace overline::sdk
