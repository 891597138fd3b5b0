#include "deploy/netlab/lab_probe.h"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>
#include <utility>

#include "deploy/netlab/in_namespace.h"

namespace overline::netlab {
namespace {

constexpr int kBatch = 50;
constexpr std::uint32_t kMagic = 0x4f4c5042;  // "OLPB": ignore anything else on the port

// A UDP socket bound to a line address inside that relay's namespace.
class ProbeSocket {
 public:
  static Result<ProbeSocket, std::string> open(const LabLayout& layout, LineRef ref) {
    const Endpoint local(layout.relayAddress(ref), kProbePort);
    auto made = runInNamespace(layout.relayNamespace(ref.node), [&]() -> std::pair<int, std::string> {
      const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (fd < 0) return {-1, std::string("socket: ") + std::strerror(errno)};
      const sockaddr_in addr = local.toSockaddr();
      if (bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
        const std::string error = "bind " + local.toString() + ": " + std::strerror(errno);
        ::close(fd);
        return {-1, error};
      }
      return {fd, ""};
    });
    if (!made) return Err{made.error()};
    if (made.value().first < 0) return Err{made.value().second};
    return ProbeSocket(made.value().first);
  }

  ProbeSocket(ProbeSocket&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  ProbeSocket& operator=(ProbeSocket&&) = delete;
  ProbeSocket(const ProbeSocket&) = delete;
  ~ProbeSocket() {
    if (fd_ >= 0) ::close(fd_);
  }

  // Best effort, like the media it stands for: a refused send is a lost ping.
  void send(const Endpoint& to, std::uint32_t seq) {
    std::uint8_t bytes[8];
    for (int i = 0; i < 4; ++i) {
      bytes[i] = static_cast<std::uint8_t>(kMagic >> (24 - 8 * i));
      bytes[4 + i] = static_cast<std::uint8_t>(seq >> (24 - 8 * i));
    }
    const sockaddr_in addr = to.toSockaddr();
    ::sendto(fd_, bytes, sizeof bytes, 0, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
  }

  // Receives probes until `want` arrived, nothing came for `quiet`, or
  // (under a flood of foreign datagrams) 1 s passed; calls `on(seq, from)`
  // for each.
  template <typename OnProbe>
  void receive(int want, std::chrono::milliseconds quiet, OnProbe on) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    for (int got = 0; got < want && std::chrono::steady_clock::now() < deadline;) {
      pollfd pfd{fd_, POLLIN, 0};
      if (::poll(&pfd, 1, static_cast<int>(quiet.count())) <= 0) return;
      for (;;) {  // drain what is queued
        std::uint8_t bytes[64];
        sockaddr_in from{};
        socklen_t from_len = sizeof from;
        const ssize_t n = ::recvfrom(fd_, bytes, sizeof bytes, 0, reinterpret_cast<sockaddr*>(&from), &from_len);
        if (n < 0) break;
        if (n != 8) continue;
        std::uint32_t magic = 0;
        std::uint32_t seq = 0;
        for (int i = 0; i < 4; ++i) {
          magic = (magic << 8) | bytes[i];
          seq = (seq << 8) | bytes[4 + i];
        }
        if (magic != kMagic) continue;
        ++got;
        on(seq, Endpoint::fromSockaddr(from));
      }
    }
  }

 private:
  explicit ProbeSocket(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace

Result<LossMeasurement, std::string> measureLoss(const LabLayout& layout, LineRef from, LineRef to, int packets,
                                                 std::chrono::milliseconds quiet) {
  if (!layout.contains(from) || !layout.contains(to)) return Err{std::string("unknown line")};
  if (from.node == to.node) {
    return Err{"both lines belong to relay " + std::to_string(from.node) +
               ": traffic between them stays inside its namespace"};
  }
  auto a = ProbeSocket::open(layout, from);
  if (!a) return Err{a.error()};
  auto b = ProbeSocket::open(layout, to);
  if (!b) return Err{b.error()};
  const Endpoint to_endpoint(layout.relayAddress(to), kProbePort);
  const Endpoint from_endpoint(layout.relayAddress(from), kProbePort);

  LossMeasurement m;
  std::set<std::uint32_t> forward;
  std::set<std::uint32_t> back;
  for (int first = 0; first < packets; first += kBatch) {
    const int count = std::min(kBatch, packets - first);
    for (int i = 0; i < count; ++i) a.value().send(to_endpoint, static_cast<std::uint32_t>(first + i));
    m.sent += count;
    int echoed = 0;
    b.value().receive(count, quiet, [&](std::uint32_t seq, const Endpoint& source) {
      if (source != from_endpoint || !forward.insert(seq).second) return;
      b.value().send(from_endpoint, seq);
      ++echoed;
    });
    a.value().receive(echoed, quiet, [&](std::uint32_t seq, const Endpoint& source) {
      if (source == to_endpoint && forward.count(seq)) back.insert(seq);
    });
  }
  m.forward_received = static_cast<int>(forward.size());
  m.back_received = static_cast<int>(back.size());
  return m;
}

}  // namespace overline::netlab
