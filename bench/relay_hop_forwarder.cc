#include "bench/relay_hop_forwarder.h"

#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <filesystem>

#include "bench/relay_hop_socket.h"

namespace overline::bench {
namespace {

// How long the idle loop waits for a datagram before it looks at the stop flag.
constexpr int kIdleWaitMs = 20;
// sendmmsg takes at most UIO_MAXIOV messages per call.
constexpr std::size_t kMaxMessagesPerCall = 1024;

Result<std::string, std::string> ownExecutable() {
  std::error_code ec;
  const auto path = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return Err("cannot find this executable: " + ec.message());
  return path.string();
}

// The forwarding loop's buffers: one per datagram of a receive batch, and one
// send message per (datagram, destination).
class Forwarder {
 public:
  Forwarder(const BenchSocket& socket, const std::vector<Endpoint>& destinations)
      : socket_(socket),
        buffers_(kBatchSize),
        receive_headers_(kBatchSize),
        receive_iovecs_(kBatchSize),
        send_headers_(kBatchSize * destinations.size()),
        send_iovecs_(kBatchSize * destinations.size()) {
    for (const Endpoint& d : destinations) destinations_.push_back(d.toSockaddr());
    for (std::size_t i = 0; i < kBatchSize; ++i) {
      receive_iovecs_[i] = {buffers_[i].data(), buffers_[i].size()};
      receive_headers_[i].msg_hdr.msg_iov = &receive_iovecs_[i];
      receive_headers_[i].msg_hdr.msg_iovlen = 1;
    }
    // Message i * K + d: each datagram goes to every destination in turn,
    // as a relay sends one packet to each downstream.
    for (std::size_t m = 0; m < send_headers_.size(); ++m) {
      send_headers_[m].msg_hdr.msg_name = &destinations_[m % destinations_.size()];
      send_headers_[m].msg_hdr.msg_namelen = sizeof(sockaddr_in);
      send_headers_[m].msg_hdr.msg_iov = &send_iovecs_[m];
      send_headers_[m].msg_hdr.msg_iovlen = 1;
    }
  }

  // Until interrupted: read a batch, send it on; sleep in poll when idle.
  void run() {
    while (!interrupted()) {
      const int n = ::recvmmsg(socket_.fd(), receive_headers_.data(), kBatchSize, MSG_DONTWAIT, nullptr);
      if (n > 0) {
        forward(static_cast<std::size_t>(n));
        continue;
      }
      pollfd p{socket_.fd(), POLLIN, 0};
      ::poll(&p, 1, kIdleWaitMs);
    }
  }

 private:
  void forward(std::size_t count) {
    const std::size_t fanout = destinations_.size();
    for (std::size_t i = 0; i < count; ++i) {
      const std::size_t length = receive_headers_[i].msg_len;
      for (std::size_t d = 0; d < fanout; ++d) send_iovecs_[i * fanout + d] = {buffers_[i].data(), length};
    }
    const std::size_t total = count * fanout;
    for (std::size_t sent = 0; sent < total;) {
      const auto chunk = static_cast<unsigned>(std::min(total - sent, kMaxMessagesPerCall));
      const int n = ::sendmmsg(socket_.fd(), &send_headers_[sent], chunk, 0);
      if (n > 0) {
        sent += static_cast<std::size_t>(n);
      } else if (!(n < 0 && errno == EINTR)) {
        // sendmmsg reports an error for the first message it could not
        // send: skip it, as a relay counts a failed send and goes on.
        ++sent;
      }
    }
  }

  const BenchSocket& socket_;
  std::vector<sockaddr_in> destinations_;
  std::vector<wire::PacketBuffer> buffers_;
  std::vector<mmsghdr> receive_headers_;
  std::vector<iovec> receive_iovecs_;
  std::vector<mmsghdr> send_headers_;
  std::vector<iovec> send_iovecs_;
};

std::string readyJson(const Endpoint& address) {
  return "{\"lines\":[{\"address\":\"" + address.toString() + "\"}]}\n";
}

}  // namespace

Result<std::unique_ptr<HopProcess>, std::string> startReferenceForwarder(const std::vector<Endpoint>& destinations,
                                                                         std::optional<int> cpu) {
  const auto self = ownExecutable();
  if (!self) return Err(self.error());
  std::string list;
  for (const Endpoint& d : destinations) list += (list.empty() ? "" : ",") + d.toString();
  return HopProcess::start({*self, "--run-forwarder", "--forward-to", list}, {}, cpu);
}

int runReferenceForwarder(const std::vector<Endpoint>& destinations, const std::string& ready_file) {
  installInterruptHandlers();
  // Ends with the bench, however the bench ends (SIGTERM runs the loop out).
  const pid_t parent = ::getppid();
  ::prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (::getppid() != parent || destinations.empty()) return 1;
  auto socket = BenchSocket::open(ArrivalInfo::kNone);
  if (!socket) {
    std::fprintf(stderr, "forwarder: %s\n", socket.error().c_str());
    return 1;
  }
  if (auto s = writeFileAtomically(ready_file, readyJson(socket.value()->local())); !s) {
    std::fprintf(stderr, "forwarder: %s\n", s.error().c_str());
    return 1;
  }
  Forwarder(*socket.value(), destinations).run();
  return 0;
}

}  // namespace overline::bench
