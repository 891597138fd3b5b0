#include "relay/io/udp_line.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <spdlog/spdlog.h>

#include <cassert>
#include <cstdlib>
#include <utility>

#include "relay/io/uv_handle.h"

namespace overline::relay {

namespace {

// One recvmmsg call reads up to kReceiveBatch datagrams, each into a slot of
// kSlotBytes (a cache-line multiple) of which kReadBytes are offered: one
// more than the longest wire packet, so a longer datagram arrives cut but
// still too long for the parser.
constexpr std::size_t kReceiveBatch = 64;
constexpr std::size_t kReadBytes = wire::kMaxPacketBytes + 1;
constexpr std::size_t kSlotBytes = (kReadBytes + 63) / 64 * 64;
// A wakeup reads at most this many batches before the loop runs its other
// handles (timers, the other lines): a flood cannot starve them.
constexpr int kMaxBatchesPerWakeup = 16;

TimeUs nowUs() { return static_cast<TimeUs>(uv_hrtime() / 1000); }

std::string describeLine(const LineConfig& config) { return "line " + config.name; }

}  // namespace

struct UdpLine::ReceiveBatch {
  ReceiveBatch() {
    for (std::size_t i = 0; i < kReceiveBatch; ++i) {
      iovecs[i] = {bytes.data() + i * kSlotBytes, kReadBytes};
      headers[i].msg_hdr.msg_name = &sources[i];
      headers[i].msg_hdr.msg_iov = &iovecs[i];
      headers[i].msg_hdr.msg_iovlen = 1;
    }
  }
  std::array<std::byte, kReceiveBatch * kSlotBytes> bytes{};
  std::array<sockaddr_in, kReceiveBatch> sources{};
  std::array<iovec, kReceiveBatch> iovecs{};
  std::array<mmsghdr, kReceiveBatch> headers{};
};

Result<std::unique_ptr<UdpLine>, std::string> UdpLine::open(uv_loop_t& loop, LineIndex index,
                                                            const LineConfig& config,
                                                            std::size_t socket_buffer_bytes) {
  const std::string where = describeLine(config);
  auto* handle = new uv_udp_t{};
  if (const int rc = uv_udp_init_ex(&loop, handle, AF_INET); rc != 0) {
    delete handle;  // never initialised: nothing to close
    return Err(where + ": cannot create socket: " + uv_strerror(rc));
  }
  const sockaddr_in bind_addr = config.bind.toSockaddr();
  if (const int rc = uv_udp_bind(handle, reinterpret_cast<const sockaddr*>(&bind_addr), 0); rc != 0) {
    closeAndFree(handle);
    return Err(where + ": cannot bind " + config.bind.toString() + ": " + uv_strerror(rc));
  }
  sockaddr_in local_addr{};
  int local_len = sizeof(local_addr);
  if (const int rc = uv_udp_getsockname(handle, reinterpret_cast<sockaddr*>(&local_addr), &local_len);
      rc != 0) {
    closeAndFree(handle);
    return Err(where + ": cannot read bound address of " + config.bind.toString() + ": " + uv_strerror(rc));
  }
  const Endpoint local = Endpoint::fromSockaddr(local_addr);

  // Ask for big buffers to absorb bursts; Linux silently caps the request at
  // net.core.{r,w}mem_max, so read back what we got and say so.
  int recv_bytes = static_cast<int>(socket_buffer_bytes);
  int send_bytes = static_cast<int>(socket_buffer_bytes);
  const int recv_rc = uv_recv_buffer_size(reinterpret_cast<uv_handle_t*>(handle), &recv_bytes);
  const int send_rc = uv_send_buffer_size(reinterpret_cast<uv_handle_t*>(handle), &send_bytes);
  if (recv_rc != 0 || send_rc != 0) {
    closeAndFree(handle);
    return Err(where + ": cannot set socket buffers to " + std::to_string(socket_buffer_bytes) +
               " bytes: " + uv_strerror(recv_rc != 0 ? recv_rc : send_rc));
  }
  recv_bytes = 0;  // 0 reads the current value
  send_bytes = 0;
  uv_recv_buffer_size(reinterpret_cast<uv_handle_t*>(handle), &recv_bytes);
  uv_send_buffer_size(reinterpret_cast<uv_handle_t*>(handle), &send_bytes);

  spdlog::info("{} bound to {} (SO_RCVBUF {} bytes, SO_SNDBUF {} bytes, recvmmsg/sendmmsg batches of {}/{})", where,
               local.toString(), recv_bytes, send_bytes, kReceiveBatch, SendBatch::kCapacity);
  // Linux reports twice the accepted request (it counts bookkeeping overhead),
  // so a reported value below twice the request means the request was capped.
  const auto wanted = static_cast<long long>(socket_buffer_bytes);
  if (recv_bytes < 2 * wanted || send_bytes < 2 * wanted) {
    spdlog::warn(
        "{}: kernel capped socket buffers below socket_buffer_bytes={} "
        "(raise net.core.rmem_max / net.core.wmem_max)",
        where, socket_buffer_bytes);
  }
  return std::unique_ptr<UdpLine>(new UdpLine(index, config.name, handle, local));
}

UdpLine::UdpLine(LineIndex index, std::string name, uv_udp_t* handle, Endpoint local)
    : index_(index),
      name_(std::move(name)),
      handle_(handle),
      local_(local),
      receive_(std::make_unique<ReceiveBatch>()) {
  handle_->data = this;
  uv_os_fd_t fd = -1;
  // A bound udp handle has its socket; release: a line that never receives.
  if (uv_fileno(reinterpret_cast<const uv_handle_t*>(handle_), &fd) == 0) fd_ = fd;
}

UdpLine::~UdpLine() { close(); }

void UdpLine::startReceiving(Listener& listener) {
  assert(handle_ != nullptr && poll_ == nullptr);
  listener_ = &listener;
  // The udp handle only owns the socket: it never reads (no uv_udp_recv_start)
  // or queues sends, so this poll handle is the fd's only watcher.
  poll_ = new uv_poll_t{};
  if (const int rc = uv_poll_init(handle_->loop, poll_, fd_); rc != 0) {
    // Only fails on a bad fd: a broken invariant of open().
    spdlog::critical("line {}: cannot watch the socket: {}", name_, uv_strerror(rc));
    std::abort();
  }
  poll_->data = this;
  uv_poll_start(poll_, UV_READABLE, &UdpLine::onReadable);
}

bool UdpLine::send(const Endpoint& to, std::span<const std::byte> datagram) {
  if (handle_ == nullptr || datagram.size() > SendBatch::kMaxDatagramBytes) {
    ++counters_.send_errors;
    return false;
  }
  if (batch_.full()) flushBatch();
  return batch_.add(to, datagram);
}

std::size_t UdpLine::flush() {
  flushBatch();
  return std::exchange(refused_, 0);
}

void UdpLine::flushBatch() {
  if (batch_.empty()) return;
  // A closed line has no fd (-1): the batch is refused and counted.
  const SendBatch::FlushResult result = batch_.flush(handle_ == nullptr ? -1 : fd_);
  counters_.send_calls += result.calls;
  counters_.packets_sent += result.sent;
  counters_.bytes_sent += result.sent_bytes;
  if (result.failed == 0) return;
  counters_.send_errors += result.failed;
  refused_ += result.failed;
  const int rc = uv_translate_sys_error(result.first_error);
  if (const auto suppressed = error_log_.admit(uv_err_name(rc), nowUs())) {
    spdlog::warn("line {}: {} datagrams not sent: {} ({} more like it in the last {} s not logged)", name_,
                 result.failed, uv_strerror(rc), *suppressed, LogLimiter::kDefaultIntervalUs / kSecond);
  }
}

void UdpLine::close() {
  if (handle_ == nullptr) return;
  flushBatch();  // what the core sent before the stop still leaves
  if (poll_ != nullptr) {
    uv_poll_stop(poll_);
    closeAndFree(poll_);
    poll_ = nullptr;
  }
  closeAndFree(handle_);  // closes the socket
  handle_ = nullptr;
  listener_ = nullptr;
}

void UdpLine::onReadable(uv_poll_t* poll, int status, int /*events*/) {
  auto* self = static_cast<UdpLine*>(poll->data);
  if (self == nullptr || self->listener_ == nullptr) return;
  if (status < 0) {
    if (const auto suppressed = self->error_log_.admit(std::string("poll ") + uv_err_name(status), nowUs())) {
      spdlog::warn("line {}: socket error: {} ({} more like it in the last {} s not logged)", self->name_,
                   uv_strerror(status), *suppressed, LogLimiter::kDefaultIntervalUs / kSecond);
    }
    return;
  }
  self->receiveBatches();
}

void UdpLine::receiveBatches() {
  ReceiveBatch& batch = *receive_;
  for (int round = 0; round < kMaxBatchesPerWakeup && listener_ != nullptr; ++round) {
    for (mmsghdr& header : batch.headers) header.msg_hdr.msg_namelen = sizeof(sockaddr_in);
    const int received = ::recvmmsg(fd_, batch.headers.data(), kReceiveBatch, MSG_DONTWAIT, nullptr);
    if (received < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        const int rc = uv_translate_sys_error(errno);
        if (const auto suppressed = error_log_.admit(std::string("recv ") + uv_err_name(rc), nowUs())) {
          spdlog::warn("line {}: receive error: {} ({} more like it in the last {} s not logged)", name_,
                       uv_strerror(rc), *suppressed, LogLimiter::kDefaultIntervalUs / kSecond);
        }
      }
      return;
    }
    for (int i = 0; i < received && listener_ != nullptr; ++i) {
      const mmsghdr& header = batch.headers[static_cast<std::size_t>(i)];
      if (header.msg_hdr.msg_namelen != sizeof(sockaddr_in) || batch.sources[i].sin_family != AF_INET) continue;
      ++counters_.packets_received;
      counters_.bytes_received += header.msg_len;
      listener_->onDatagram(index_, Endpoint::fromSockaddr(batch.sources[i]),
                            std::span<const std::byte>(batch.bytes.data() + i * kSlotBytes, header.msg_len));
    }
    if (listener_ != nullptr) listener_->onReceiveBatchEnd();
    if (received < static_cast<int>(kReceiveBatch)) return;  // drained
  }
}

}  // namespace overline::relay
