#include "bench/relay_hop_socket.h"

#include <fcntl.h>
#include <netinet/udp.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>

#include "bench/relay_hop_basics.h"

namespace overline::bench {
namespace {

// How long one send may wait for room in a full send buffer.
constexpr DurationUs kSendStallUs = 100 * kMillisecond;
// sendmmsg takes at most UIO_MAXIOV messages per call.
constexpr std::size_t kMaxMessagesPerCall = 1024;
// UDP GSO: at most 64 segments per message (UDP_MAX_SEGMENTS on older
// kernels) and a message within one UDP datagram's size.
constexpr std::size_t kMaxGsoSegments = 64;
constexpr std::size_t kMaxGsoBytes = 65'000;

Status setOption(int fd, int level, int name, int value, const char* what) {
  if (::setsockopt(fd, level, name, &value, sizeof(value)) != 0) return Err(errnoText(what));
  return succeeded();
}

Status configure(int fd, ArrivalInfo info) {
  // The kernel caps the buffers at net.core.{r,w}mem_max, as for the relay.
  if (auto s = setOption(fd, SOL_SOCKET, SO_RCVBUF, kSocketBufferBytes, "SO_RCVBUF"); !s) return s;
  if (auto s = setOption(fd, SOL_SOCKET, SO_SNDBUF, kSocketBufferBytes, "SO_SNDBUF"); !s) return s;
  if (info == ArrivalInfo::kDropsAndKernelTime) {
    if (auto s = setOption(fd, SOL_SOCKET, SO_RXQ_OVFL, 1, "SO_RXQ_OVFL"); !s) return s;
    if (auto s = setOption(fd, SOL_SOCKET, SO_TIMESTAMPNS, 1, "SO_TIMESTAMPNS"); !s) return s;
  }
  const sockaddr_in addr = Endpoint(INADDR_LOOPBACK, 0).toSockaddr();
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) return Err(errnoText("bind"));
  return succeeded();
}

// False after kSendStallUs without room, or on an error.
bool waitWritable(int fd) {
  pollfd p{fd, POLLOUT, 0};
  const int rc = ::poll(&p, 1, static_cast<int>(kSendStallUs / kMillisecond));
  return rc == 1 && (p.revents & POLLOUT) != 0;
}

}  // namespace

Result<std::unique_ptr<BenchSocket>, std::string> BenchSocket::open(ArrivalInfo info) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return Err(errnoText("socket"));
  if (auto s = configure(fd, info); !s) {
    ::close(fd);
    return Err(s.error());
  }
  sockaddr_in bound{};
  socklen_t len = sizeof(bound);
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len) != 0) {
    const std::string error = errnoText("getsockname");
    ::close(fd);
    return Err(error);
  }
  return std::unique_ptr<BenchSocket>(new BenchSocket(fd, Endpoint::fromSockaddr(bound)));
}

BenchSocket::~BenchSocket() { ::close(fd_); }

std::size_t BenchSocket::sendBatch(std::span<const std::span<const std::byte>> datagrams, const Endpoint& to) const {
  sockaddr_in addr = to.toSockaddr();
  std::array<mmsghdr, kBatchSize> headers{};
  std::array<iovec, kBatchSize> iovecs{};
  std::size_t sent = 0;
  while (sent < datagrams.size()) {
    const std::size_t count = std::min({datagrams.size() - sent, kBatchSize, kMaxMessagesPerCall});
    for (std::size_t i = 0; i < count; ++i) {
      const auto datagram = datagrams[sent + i];
      iovecs[i] = {const_cast<std::byte*>(datagram.data()), datagram.size()};
      headers[i] = {};
      headers[i].msg_hdr.msg_name = &addr;
      headers[i].msg_hdr.msg_namelen = sizeof(addr);
      headers[i].msg_hdr.msg_iov = &iovecs[i];
      headers[i].msg_hdr.msg_iovlen = 1;
    }
    const int n = ::sendmmsg(fd_, headers.data(), static_cast<unsigned>(count), 0);
    if (n > 0) {
      sent += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR && !interrupted()) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && waitWritable(fd_)) continue;
    break;
  }
  return sent;
}

bool BenchSocket::sendTo(std::span<const std::byte> datagram, const Endpoint& to) const {
  const std::span<const std::byte> one[] = {datagram};
  return sendBatch(one, to) == 1;
}

std::size_t BenchSocket::maxSegments(std::size_t segment_size) {
  return std::clamp<std::size_t>(kMaxGsoBytes / std::max<std::size_t>(segment_size, 1), 1, kMaxGsoSegments);
}

std::optional<std::size_t> BenchSocket::sendSegments(std::span<const std::byte> segments, std::size_t segment_size,
                                                     const Endpoint& to) const {
  sockaddr_in addr = to.toSockaddr();
  const std::size_t per_message = maxSegments(segment_size);
  const std::size_t message_bytes = per_message * segment_size;
  const std::size_t messages = (segments.size() + message_bytes - 1) / message_bytes;
  // More than fits one call is a caller bug: refused like a kernel without GSO.
  if (messages > kGsoMessagesPerCall) return std::nullopt;
  std::array<mmsghdr, kGsoMessagesPerCall> headers{};
  std::array<iovec, kGsoMessagesPerCall> iovecs{};
  std::array<std::array<std::byte, CMSG_SPACE(sizeof(std::uint16_t))>, kGsoMessagesPerCall> control{};
  const auto gso_size = static_cast<std::uint16_t>(segment_size);
  for (std::size_t m = 0; m < messages; ++m) {
    const std::size_t offset = m * message_bytes;
    iovecs[m] = {const_cast<std::byte*>(segments.data() + offset), std::min(message_bytes, segments.size() - offset)};
    msghdr& h = headers[m].msg_hdr;
    h.msg_name = &addr;
    h.msg_namelen = sizeof(addr);
    h.msg_iov = &iovecs[m];
    h.msg_iovlen = 1;
    h.msg_control = control[m].data();
    h.msg_controllen = control[m].size();
    cmsghdr* c = CMSG_FIRSTHDR(&h);
    c->cmsg_level = SOL_UDP;
    c->cmsg_type = UDP_SEGMENT;
    c->cmsg_len = CMSG_LEN(sizeof(gso_size));
    std::memcpy(CMSG_DATA(c), &gso_size, sizeof(gso_size));
  }
  std::size_t sent_messages = 0;
  while (sent_messages < messages) {
    const int n = ::sendmmsg(fd_, &headers[sent_messages], static_cast<unsigned>(messages - sent_messages), 0);
    if (n > 0) {
      sent_messages += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR && !interrupted()) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && waitWritable(fd_)) continue;
    // The kernel or the device cannot segment: the caller falls back.
    if (n < 0 && sent_messages == 0 && (errno == EIO || errno == EINVAL || errno == ENOPROTOOPT)) return std::nullopt;
    break;
  }
  if (sent_messages == messages) return segments.size() / segment_size + (segments.size() % segment_size != 0);
  return sent_messages * per_message;
}

ReceiveBatch::ReceiveBatch() : buffers_(kBatchSize) {}

void ReceiveBatch::prepare() {
  for (std::size_t i = 0; i < kBatchSize; ++i) {
    iovecs_[i] = {buffers_[i].data(), buffers_[i].size()};
    msghdr& h = headers_[i].msg_hdr;
    h = {};
    h.msg_name = &sources_[i];
    h.msg_namelen = sizeof(sources_[i]);
    h.msg_iov = &iovecs_[i];
    h.msg_iovlen = 1;
    h.msg_control = control_[i].data();
    h.msg_controllen = control_[i].size();
    headers_[i].msg_len = 0;
  }
}

void ReceiveBatch::readControl(std::size_t i) {
  drops_[i] = 0;
  kernel_ns_[i] = 0;
  msghdr& h = headers_[i].msg_hdr;
  for (cmsghdr* c = CMSG_FIRSTHDR(&h); c != nullptr; c = CMSG_NXTHDR(&h, c)) {
    if (c->cmsg_level != SOL_SOCKET) continue;
    if (c->cmsg_type == SO_RXQ_OVFL) {
      std::memcpy(&drops_[i], CMSG_DATA(c), sizeof(drops_[i]));
    } else if (c->cmsg_type == SO_TIMESTAMPNS) {
      timespec ts{};
      std::memcpy(&ts, CMSG_DATA(c), sizeof(ts));
      kernel_ns_[i] = static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
    }
  }
}

std::size_t ReceiveBatch::receive(const BenchSocket& socket) {
  prepare();
  const int n = ::recvmmsg(socket.fd(), headers_.data(), kBatchSize, MSG_DONTWAIT, nullptr);
  if (n <= 0) return 0;
  for (std::size_t i = 0; i < static_cast<std::size_t>(n); ++i) readControl(i);
  return static_cast<std::size_t>(n);
}

std::span<const std::byte> ReceiveBatch::datagram(std::size_t i) const {
  return std::span<const std::byte>(buffers_[i].data(), std::min<std::size_t>(headers_[i].msg_len, buffers_[i].size()));
}

}  // namespace overline::bench
