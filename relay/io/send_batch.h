#pragma once
// SendBatch: the datagrams a line's socket is about to send, sent together
// with one sendmmsg(2) call per flush instead of one sendmsg(2) each.
//
// libuv 1.44 batches receives (recvmmsg) but has no batched send, so the
// line hands the socket's fd to flush(). A datagram is copied in when it is
// added (the core reuses its buffers at once) and leaves at the next flush:
// at the end of each receive batch, after timer work and once per loop
// iteration (relay_io.h), so it waits at most for the rest of the batch that
// caused it. Nothing is kept across flushes: a datagram the kernel refuses
// (a full socket buffer, an unreachable address) is dropped and reported in
// the flush's result, never queued for later (a hidden queue would turn
// overload into delay).

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cstddef>
#include <span>

#include "common/endpoint.h"
#include "common/wire/packet.h"

namespace overline::relay {

class SendBatch {
 public:
  // 64 datagrams: three receive batches' worth of single-copy forwarding
  // (libuv reads up to 20 per recvmmsg), at ~85 KiB of buffer per line.
  static constexpr std::size_t kCapacity = 64;
  static constexpr std::size_t kMaxDatagramBytes = wire::kMaxPacketBytes;

  struct FlushResult {
    std::size_t sent = 0;          // datagrams the kernel took
    std::size_t sent_bytes = 0;
    std::size_t failed = 0;        // datagrams dropped: refused, or left behind a full buffer
    std::size_t failed_bytes = 0;
    int first_error = 0;           // errno of the first refusal, 0 if none
    std::size_t calls = 0;         // sendmmsg calls made
  };

  SendBatch();
  SendBatch(const SendBatch&) = delete;
  SendBatch& operator=(const SendBatch&) = delete;

  bool empty() const { return count_ == 0; }
  bool full() const { return count_ == kCapacity; }
  std::size_t size() const { return count_; }

  // Copies `datagram` (at most kMaxDatagramBytes) for `to`. The batch must
  // not be full (flush first). Returns false, adding nothing, if too large.
  bool add(const Endpoint& to, std::span<const std::byte> datagram);

  // Sends every added datagram, in order, on the non-blocking socket `fd`
  // and empties the batch. EAGAIN (the socket buffer is full) drops the
  // datagram it stopped at and every one after it; any other refusal drops
  // only that datagram and the rest are still sent.
  FlushResult flush(int fd);

 private:
  std::size_t count_ = 0;
  std::array<std::array<std::byte, kMaxDatagramBytes>, kCapacity> bytes_;
  std::array<sockaddr_in, kCapacity> addresses_{};
  std::array<iovec, kCapacity> iovecs_{};
  std::array<mmsghdr, kCapacity> headers_{};
};

}  // namespace overline::relay
