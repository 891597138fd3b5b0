#pragma once
// BenchSocket: a non-blocking UDP socket bound on 127.0.0.1:0 with the
// relay's default buffer size, and ReceiveBatch, which reads up to
// kBatchSize datagrams per recvmmsg together with, per datagram, the
// socket's drop count (SO_RXQ_OVFL) and the kernel's arrival time
// (SO_TIMESTAMPNS). The receiving side of every throughput figure rests on
// these two: a receiver that falls behind loses datagrams to a full buffer,
// and the drop count puts them back into "packets out" of the hop.

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "bench/relay_hop_basics.h"
#include "common/endpoint.h"
#include "common/result.h"
#include "common/wire/packet.h"

namespace overline::bench {

// SO_RCVBUF and SO_SNDBUF of every bench socket: the relay's default
// socket_buffer_bytes, so the forwarder and the relay queue alike.
constexpr int kSocketBufferBytes = 4 << 20;
// Datagrams per recvmmsg, everywhere (the reference forwarder's batch).
constexpr std::size_t kBatchSize = 64;
// GSO messages per sendmmsg in BenchSocket::sendSegments, at most.
constexpr std::size_t kGsoMessagesPerCall = 4;

enum class ArrivalInfo : std::uint8_t {
  kNone,               // plain socket (the forwarder's: it looks at nothing)
  kDropsAndKernelTime  // SO_RXQ_OVFL and SO_TIMESTAMPNS on every datagram
};

class BenchSocket {
 public:
  static Result<std::unique_ptr<BenchSocket>, std::string> open(ArrivalInfo info);
  ~BenchSocket();
  BenchSocket(const BenchSocket&) = delete;
  BenchSocket& operator=(const BenchSocket&) = delete;

  int fd() const { return fd_; }
  const Endpoint& local() const { return local_; }

  // Sends every datagram to `to` with as few sendmmsg calls as the kernel
  // allows. While the send buffer is full it waits for room (poll, at most
  // kSendStallUs per stall). Returns how many were sent: fewer only after an
  // error or such a stall. Safe while another thread receives on the socket.
  std::size_t sendBatch(std::span<const std::span<const std::byte>> datagrams, const Endpoint& to) const;
  bool sendTo(std::span<const std::byte> datagram, const Endpoint& to) const;
  // Sends `segments` (back to back, each `segment_size` bytes; the last may
  // be shorter) to `to` as separate datagrams with UDP GSO: up to
  // maxSegments() per message, all messages in one sendmmsg call, so the
  // kernel walks its send path once per message instead of once per
  // datagram. Returns how many datagrams were sent, or nullopt when the
  // kernel refuses GSO (then nothing was sent: use sendBatch).
  std::optional<std::size_t> sendSegments(std::span<const std::byte> segments, std::size_t segment_size,
                                          const Endpoint& to) const;
  // Segments per GSO message: within the kernel's limit of 64 and a UDP
  // datagram's 64 KiB.
  static std::size_t maxSegments(std::size_t segment_size);

 private:
  BenchSocket(int fd, const Endpoint& local) : fd_(fd), local_(local) {}

  int fd_ = -1;
  Endpoint local_;
};

// One recvmmsg's worth of datagrams from one socket; the next receive()
// reuses the buffers.
class ReceiveBatch {
 public:
  ReceiveBatch();
  ReceiveBatch(const ReceiveBatch&) = delete;
  ReceiveBatch& operator=(const ReceiveBatch&) = delete;

  // Reads what is waiting, up to kBatchSize datagrams, without blocking.
  // 0 when nothing is (or on an error: those of a bound UDP socket are
  // transient). Datagrams longer than wire::kMaxPacketBytes are truncated.
  std::size_t receive(const BenchSocket& socket);

  std::span<const std::byte> datagram(std::size_t i) const;
  Endpoint source(std::size_t i) const { return Endpoint::fromSockaddr(sources_[i]); }
  // Datagrams the socket had dropped for lack of buffer room, in total since
  // it was opened, when datagram i was queued (SO_RXQ_OVFL; the kernel
  // leaves the message out while the total is 0).
  std::uint32_t socketDrops(std::size_t i) const { return drops_[i]; }
  // When the kernel queued datagram i: CLOCK_REALTIME in ns, 0 if unknown.
  std::int64_t kernelTimeNs(std::size_t i) const { return kernel_ns_[i]; }

 private:
  static constexpr std::size_t kControlBytes = 64;  // room for both control messages

  void prepare();
  void readControl(std::size_t i);

  std::vector<wire::PacketBuffer> buffers_;
  std::array<mmsghdr, kBatchSize> headers_{};
  std::array<iovec, kBatchSize> iovecs_{};
  std::array<sockaddr_in, kBatchSize> sources_{};
  std::array<std::array<std::byte, kControlBytes>, kBatchSize> control_{};
  std::array<std::uint32_t, kBatchSize> drops_{};
  std::array<std::int64_t, kBatchSize> kernel_ns_{};
};

}  // namespace overline::bench
