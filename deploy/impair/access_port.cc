#include "deploy/impair/access_port.h"

#include <array>

namespace overline::impair {
namespace {

// Every port reads into this one buffer: all run on the proxy's one loop
// thread, and each datagram is handed on (copied into the delay queue)
// before the next read. 64 KiB holds any UDP datagram.
std::array<char, 64 * 1024> g_receive_buffer;

void closeAndFree(uv_udp_t* handle) {
  uv_close(reinterpret_cast<uv_handle_t*>(handle), [](uv_handle_t* h) { delete reinterpret_cast<uv_udp_t*>(h); });
}

}  // namespace

Result<std::unique_ptr<AccessPort>, std::string> AccessPort::open(uv_loop_t& loop, std::uint32_t address,
                                                                  Receiver receiver) {
  const Endpoint bind(address, 0);
  auto* handle = new uv_udp_t{};
  if (const int rc = uv_udp_init(&loop, handle); rc != 0) {
    delete handle;  // never initialised: nothing to close
    return Err("access port on " + bind.toString() + ": cannot create socket: " + uv_strerror(rc));
  }
  const sockaddr_in bind_addr = bind.toSockaddr();
  if (const int rc = uv_udp_bind(handle, reinterpret_cast<const sockaddr*>(&bind_addr), 0); rc != 0) {
    closeAndFree(handle);
    return Err("access port on " + bind.toString() + ": cannot bind: " + uv_strerror(rc));
  }
  sockaddr_in local_addr{};
  int local_len = sizeof(local_addr);
  if (const int rc = uv_udp_getsockname(handle, reinterpret_cast<sockaddr*>(&local_addr), &local_len); rc != 0) {
    closeAndFree(handle);
    return Err("access port on " + bind.toString() + ": cannot read its port: " + uv_strerror(rc));
  }
  std::unique_ptr<AccessPort> port(new AccessPort(handle, Endpoint::fromSockaddr(local_addr), std::move(receiver)));
  if (const int rc = uv_udp_recv_start(handle, &AccessPort::onAlloc, &AccessPort::onReceive); rc != 0) {
    return Err("access port on " + bind.toString() + ": cannot receive: " + uv_strerror(rc));  // ~AccessPort closes
  }
  return port;
}

AccessPort::AccessPort(uv_udp_t* handle, Endpoint local, Receiver receiver)
    : handle_(handle), local_(local), receiver_(std::move(receiver)) {
  handle_->data = this;
}

AccessPort::~AccessPort() { close(); }

bool AccessPort::send(const Endpoint& to, std::span<const std::byte> datagram) {
  if (handle_ == nullptr) return false;
  const sockaddr_in to_addr = to.toSockaddr();
  // try_send only reads the bytes; uv_buf_t is not const-correct.
  const uv_buf_t buf = uv_buf_init(const_cast<char*>(reinterpret_cast<const char*>(datagram.data())),
                                   static_cast<unsigned>(datagram.size()));
  return uv_udp_try_send(handle_, &buf, 1, reinterpret_cast<const sockaddr*>(&to_addr)) >= 0;
}

void AccessPort::close() {
  if (handle_ == nullptr) return;
  uv_udp_recv_stop(handle_);
  handle_->data = nullptr;
  closeAndFree(handle_);
  handle_ = nullptr;
}

void AccessPort::onAlloc(uv_handle_t* /*handle*/, std::size_t /*suggested_size*/, uv_buf_t* buf) {
  *buf = uv_buf_init(g_receive_buffer.data(), static_cast<unsigned>(g_receive_buffer.size()));
}

void AccessPort::onReceive(uv_udp_t* handle, ssize_t nread, const uv_buf_t* buf, const sockaddr* addr,
                           unsigned /*flags*/) {
  auto* self = static_cast<AccessPort*>(handle->data);
  // nread < 0: a receive error (an ICMP error from a dead relay, say): the
  // next datagram is read as usual. nread == 0 without an address: drained.
  if (self == nullptr || nread < 0 || addr == nullptr || addr->sa_family != AF_INET) return;
  self->receiver_(Endpoint::fromSockaddr(*reinterpret_cast<const sockaddr_in*>(addr)),
                  std::span<const std::byte>(reinterpret_cast<const std::byte*>(buf->base),
                                             static_cast<std::size_t>(nread)));
}

}  // namespace overline::impair
