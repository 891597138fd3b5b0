#include "relay/io/udp_line.h"

#include <netinet/in.h>
#include <spdlog/spdlog.h>

#include <cassert>
#include <cstdlib>
#include <utility>

#include "relay/io/uv_handle.h"

namespace overline::relay {
namespace {

// libuv reads each datagram into a 64 KiB slot and batches up to 20 slots
// per recvmmsg call (UV__UDP_DGRAM_MAXSIZE and the mmsghdr array in
// src/unix/udp.c); a buffer of that size gets full batches.
constexpr std::size_t kDatagramSlotBytes = 64 * 1024;
constexpr std::size_t kSlotsPerBatch = 20;

TimeUs nowUs() { return static_cast<TimeUs>(uv_hrtime() / 1000); }
constexpr std::size_t kReceiveBufferBytes = kDatagramSlotBytes * kSlotsPerBatch;

std::string describeLine(const LineConfig& config) { return "line " + config.name; }

}  // namespace

Result<std::unique_ptr<UdpLine>, std::string> UdpLine::open(uv_loop_t& loop, LineIndex index,
                                                            const LineConfig& config,
                                                            std::size_t socket_buffer_bytes) {
  const std::string where = describeLine(config);
  auto* handle = new uv_udp_t{};
  if (const int rc = uv_udp_init_ex(&loop, handle, AF_INET | UV_UDP_RECVMMSG); rc != 0) {
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

  spdlog::info("{} bound to {} (SO_RCVBUF {} bytes, SO_SNDBUF {} bytes, recvmmsg {})", where,
               local.toString(), recv_bytes, send_bytes, uv_udp_using_recvmmsg(handle) ? "on" : "off");
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
      receive_buffer_(std::make_unique<std::byte[]>(kReceiveBufferBytes)) {
  handle_->data = this;
}

UdpLine::~UdpLine() { close(); }

void UdpLine::startReceiving(Listener& listener) {
  assert(handle_ != nullptr);
  listener_ = &listener;
  if (const int rc = uv_udp_recv_start(handle_, &UdpLine::onAlloc, &UdpLine::onReceive); rc != 0) {
    // Only fails on a closed or misused handle.
    spdlog::critical("line {}: cannot start receiving: {}", name_, uv_strerror(rc));
    std::abort();
  }
}

bool UdpLine::send(const Endpoint& to, std::span<const std::byte> datagram) {
  if (handle_ == nullptr || datagram.size() > SendBatch::kMaxDatagramBytes) {
    ++counters_.send_errors;
    return false;
  }
  if (batch_.full()) flushBatch();
  return batch_.add(to, datagram);
}

UdpLine::Refused UdpLine::flush() {
  flushBatch();
  return std::exchange(refused_, Refused{});
}

void UdpLine::flushBatch() {
  if (batch_.empty()) return;
  uv_os_fd_t fd = -1;
  // Only a closed handle has no fd, and close() empties nothing: count the batch refused.
  if (handle_ == nullptr || uv_fileno(reinterpret_cast<const uv_handle_t*>(handle_), &fd) != 0) {
    fd = -1;
  }
  const SendBatch::FlushResult result = batch_.flush(fd);
  counters_.send_calls += result.calls;
  counters_.packets_sent += result.sent;
  counters_.bytes_sent += result.sent_bytes;
  if (result.failed == 0) return;
  counters_.send_errors += result.failed;
  refused_.packets += result.failed;
  refused_.bytes += result.failed_bytes;
  const int rc = uv_translate_sys_error(result.first_error);
  if (const auto suppressed = error_log_.admit(uv_err_name(rc), nowUs())) {
    spdlog::warn("line {}: {} datagrams not sent: {} ({} more like it in the last {} s not logged)", name_,
                 result.failed, uv_strerror(rc), *suppressed, LogLimiter::kDefaultIntervalUs / kSecond);
  }
}

void UdpLine::close() {
  if (handle_ == nullptr) return;
  flushBatch();  // what the core sent before the stop still leaves
  uv_udp_recv_stop(handle_);
  closeAndFree(handle_);
  handle_ = nullptr;
  listener_ = nullptr;
}

void UdpLine::onAlloc(uv_handle_t* handle, std::size_t /*suggested_size*/, uv_buf_t* buf) {
  auto* self = static_cast<UdpLine*>(handle->data);
  if (self == nullptr) {
    *buf = uv_buf_init(nullptr, 0);  // libuv reports UV_ENOBUFS and reads nothing
    return;
  }
  *buf = uv_buf_init(reinterpret_cast<char*>(self->receive_buffer_.get()),
                     static_cast<unsigned>(kReceiveBufferBytes));
}

void UdpLine::onReceive(uv_udp_t* handle, ssize_t nread, const uv_buf_t* buf, const sockaddr* addr,
                        unsigned /*flags*/) {
  auto* self = static_cast<UdpLine*>(handle->data);
  if (self == nullptr || self->listener_ == nullptr) return;
  if (nread < 0) {
    const int rc = static_cast<int>(nread);
    if (const auto suppressed = self->error_log_.admit(std::string("recv ") + uv_err_name(rc), nowUs())) {
      spdlog::warn("line {}: receive error: {} ({} more like it in the last {} s not logged)", self->name_,
                   uv_strerror(rc), *suppressed, LogLimiter::kDefaultIntervalUs / kSecond);
    }
    return;
  }
  // nread == 0 with no address: the socket is drained, or (UV_UDP_MMSG_FREE)
  // a recvmmsg batch ended. The buffer is ours and reused, so nothing to free.
  if (addr == nullptr) {
    self->listener_->onReceiveBatchEnd();
    return;
  }
  if (addr->sa_family != AF_INET) return;
  ++self->counters_.packets_received;
  self->counters_.bytes_received += static_cast<std::uint64_t>(nread);
  const Endpoint from = Endpoint::fromSockaddr(*reinterpret_cast<const sockaddr_in*>(addr));
  self->listener_->onDatagram(self->index_, from,
                              std::span<const std::byte>(reinterpret_cast<const std::byte*>(buf->base),
                                                         static_cast<std::size_t>(nread)));
}

}  // namespace overline::relay
