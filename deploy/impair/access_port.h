#pragma once
// One access client's port on the proxy (access_clients.h): a UDP socket
// bound to the client's IP with a port the kernel picks, from which the
// client's datagrams leave for relay lines and at which the relays'
// answers arrive. Lean on purpose, since a proxy may hold hundreds: it
// reads one datagram at a time into a buffer all ports share (one loop
// thread, and a datagram is consumed within its callback) and keeps the
// kernel's default socket buffers (one client's stream), where a relay line
// (relay::UdpLine) holds a 1.3 MB recvmmsg buffer and 4 MiB socket buffers.
// Loop thread only.

#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include "common/endpoint.h"
#include "common/result.h"

namespace overline::impair {

class AccessPort {
 public:
  // Called for every datagram received; `datagram` is valid during the call.
  using Receiver = std::function<void(const Endpoint& from, std::span<const std::byte> datagram)>;

  // Binds to `address`:0 and starts receiving into `receiver`. The error is
  // one line naming the address. `loop` must outlive the port.
  static Result<std::unique_ptr<AccessPort>, std::string> open(uv_loop_t& loop, std::uint32_t address,
                                                               Receiver receiver);
  ~AccessPort();  // close()
  AccessPort(const AccessPort&) = delete;
  AccessPort& operator=(const AccessPort&) = delete;

  // Sends one datagram now; false when the kernel did not take it or the
  // port is closed.
  bool send(const Endpoint& to, std::span<const std::byte> datagram);
  // Stops receiving and closes the socket. Idempotent.
  void close();
  // The address bound, with the kernel's port.
  const Endpoint& localEndpoint() const { return local_; }

 private:
  AccessPort(uv_udp_t* handle, Endpoint local, Receiver receiver);
  static void onAlloc(uv_handle_t* handle, std::size_t suggested_size, uv_buf_t* buf);
  static void onReceive(uv_udp_t* handle, ssize_t nread, const uv_buf_t* buf, const sockaddr* addr, unsigned flags);

  uv_udp_t* handle_;  // owned; freed by close()'s close callback
  Endpoint local_;
  Receiver receiver_;
};

}  // namespace overline::impair
