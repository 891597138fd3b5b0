#include "relay/io/send_batch.h"

#include <cerrno>
#include <cstring>

namespace overline::relay {

SendBatch::SendBatch() {
  // The headers point at fixed slots once; add() fills in lengths and addresses.
  for (std::size_t i = 0; i < kCapacity; ++i) {
    iovecs_[i].iov_base = bytes_[i].data();
    msghdr& header = headers_[i].msg_hdr;
    header.msg_name = &addresses_[i];
    header.msg_namelen = sizeof(sockaddr_in);
    header.msg_iov = &iovecs_[i];
    header.msg_iovlen = 1;
  }
}

bool SendBatch::add(const Endpoint& to, std::span<const std::byte> datagram) {
  if (datagram.size() > kMaxDatagramBytes || count_ == kCapacity) return false;
  std::memcpy(bytes_[count_].data(), datagram.data(), datagram.size());
  iovecs_[count_].iov_len = datagram.size();
  addresses_[count_] = to.toSockaddr();
  ++count_;
  return true;
}

SendBatch::FlushResult SendBatch::flush(int fd) {
  FlushResult result;
  std::size_t next = 0;
  const auto drop = [&](std::size_t index) {
    ++result.failed;
    result.failed_bytes += iovecs_[index].iov_len;
  };
  while (next < count_) {
    ++result.calls;
    const int sent = ::sendmmsg(fd, &headers_[next], static_cast<unsigned>(count_ - next), MSG_DONTWAIT);
    if (sent > 0) {
      for (std::size_t i = next; i < next + static_cast<std::size_t>(sent); ++i) {
        ++result.sent;
        result.sent_bytes += iovecs_[i].iov_len;
      }
      next += static_cast<std::size_t>(sent);
      continue;
    }
    if (sent < 0 && errno == EINTR) continue;
    // sendmmsg reports an error only for the first datagram it tried.
    const int error = sent < 0 ? errno : EAGAIN;
    if (result.first_error == 0) result.first_error = error;
    if (error == EAGAIN || error == EWOULDBLOCK || error == ENOBUFS) {
      while (next < count_) drop(next++);  // nothing more fits now
    } else {
      drop(next++);
    }
  }
  count_ = 0;
  return result;
}

}  // namespace overline::relay
