// A relay line's batched I/O on real loopback sockets. SendBatch
// (relay/io/send_batch.h): one sendmmsg per flush delivers every datagram,
// in order; a datagram the kernel refuses is dropped and counted, and the
// ones after it still leave. UdpLine (relay/io/udp_line.h): a datagram
// longer than any wire packet, even one that starts with a valid packet,
// reaches the listener cut to kMaxPacketBytes + 1 bytes, which no parse accepts.

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstring>
#include <vector>

#include "common/endpoint.h"
#include "common/wire/packet.h"
#include "relay/io/send_batch.h"
#include "relay/io/udp_line.h"
#include "relay/io/uv_loop.h"

namespace overline::relay {
namespace {

// A UDP socket on 127.0.0.1 with a kernel-chosen port, closed on scope exit.
struct LoopbackSocket {
  LoopbackSocket() {
    fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    REQUIRE(fd >= 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0);
    socklen_t length = sizeof(address);
    REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0);
    endpoint = Endpoint::fromSockaddr(address);
  }
  ~LoopbackSocket() { ::close(fd); }
  LoopbackSocket(const LoopbackSocket&) = delete;
  LoopbackSocket& operator=(const LoopbackSocket&) = delete;

  // The next datagram, waiting up to 2 s; empty on timeout.
  std::vector<std::byte> receive() {
    pollfd waiting{fd, POLLIN, 0};
    if (::poll(&waiting, 1, 2000) != 1) return {};
    std::vector<std::byte> datagram(2048);
    const ssize_t n = ::recv(fd, datagram.data(), datagram.size(), 0);
    if (n < 0) return {};
    datagram.resize(static_cast<std::size_t>(n));
    return datagram;
  }

  int fd = -1;
  Endpoint endpoint;
};

std::vector<std::byte> datagramOf(std::size_t size, std::uint8_t fill) {
  return std::vector<std::byte>(size, std::byte{fill});
}

TEST_CASE("SendBatch sends a full batch in order with few sendmmsg calls", "[send_batch]") {
  LoopbackSocket sender;
  LoopbackSocket receiver;
  SendBatch batch;
  for (std::size_t i = 0; i < SendBatch::kCapacity; ++i) {
    REQUIRE(batch.add(receiver.endpoint, datagramOf(100 + i, static_cast<std::uint8_t>(i))));
  }
  CHECK(batch.full());
  const SendBatch::FlushResult result = batch.flush(sender.fd);
  CHECK(result.sent == SendBatch::kCapacity);
  CHECK(result.failed == 0);
  CHECK(result.calls <= 2);
  CHECK(batch.empty());
  for (std::size_t i = 0; i < SendBatch::kCapacity; ++i) {
    const std::vector<std::byte> got = receiver.receive();
    REQUIRE(got == datagramOf(100 + i, static_cast<std::uint8_t>(i)));
  }
}

TEST_CASE("SendBatch drops only the datagram the kernel refuses", "[send_batch]") {
  LoopbackSocket sender;
  LoopbackSocket receiver;
  SendBatch batch;
  REQUIRE(batch.add(receiver.endpoint, datagramOf(10, 1)));
  REQUIRE(batch.add(Endpoint(receiver.endpoint.address(), 0), datagramOf(20, 2)));  // port 0: EINVAL
  REQUIRE(batch.add(receiver.endpoint, datagramOf(30, 3)));
  const SendBatch::FlushResult result = batch.flush(sender.fd);
  CHECK(result.sent == 2);
  CHECK(result.sent_bytes == 40);
  CHECK(result.failed == 1);
  CHECK(result.failed_bytes == 20);
  CHECK(result.first_error != 0);
  CHECK(receiver.receive() == datagramOf(10, 1));
  CHECK(receiver.receive() == datagramOf(30, 3));
}

TEST_CASE("SendBatch refuses what no packet of the wire format can be, and a closed socket drops all", "[send_batch]") {
  LoopbackSocket receiver;
  SendBatch batch;
  CHECK_FALSE(batch.add(receiver.endpoint, datagramOf(SendBatch::kMaxDatagramBytes + 1, 0)));
  CHECK(batch.empty());
  REQUIRE(batch.add(receiver.endpoint, datagramOf(10, 1)));
  REQUIRE(batch.add(receiver.endpoint, datagramOf(10, 2)));
  const SendBatch::FlushResult result = batch.flush(-1);
  CHECK(result.sent == 0);
  CHECK(result.failed == 2);
  CHECK(batch.empty());
}

// Records what a UdpLine delivers.
struct RecordingListener : UdpLine::Listener {
  void onDatagram(LineIndex, const Endpoint&, std::span<const std::byte> datagram) override {
    datagrams.emplace_back(datagram.begin(), datagram.end());
  }
  void onReceiveBatchEnd() override { ++batch_ends; }
  std::vector<std::vector<std::byte>> datagrams;
  int batch_ends = 0;
};

TEST_CASE("UdpLine cuts an over-long datagram so that its valid-looking prefix is refused", "[udp_line]") {
  auto loop = UvLoop::create();
  REQUIRE(loop);
  auto line = UdpLine::open(loop.value()->get(), 0, LineConfig{"test", Endpoint(0x7f000001, 0)}, 1 << 20);
  REQUIRE(line);
  RecordingListener listener;
  line.value()->startReceiving(listener);

  // A valid header-only SUBSCRIBE followed by 4,000 bytes of padding.
  wire::Header header;
  header.type = wire::PacketType::kSubscribe;
  header.stream_id = 7;
  std::vector<std::byte> oversized(wire::kHeaderBytes + 4000, std::byte{0});
  wire::encodePacket(header, {}, oversized);
  REQUIRE(wire::parsePacket(std::span(oversized).first(wire::kHeaderBytes)));
  LoopbackSocket sender;
  const sockaddr_in to = line.value()->localEndpoint().toSockaddr();
  REQUIRE(::sendto(sender.fd, oversized.data(), oversized.size(), 0, reinterpret_cast<const sockaddr*>(&to),
                   sizeof to) == static_cast<ssize_t>(oversized.size()));

  // Bounded: one loop turn at a time, 2 s at most.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (listener.datagrams.empty() && std::chrono::steady_clock::now() < deadline) {
    uv_run(&loop.value()->get(), UV_RUN_NOWAIT);
  }
  REQUIRE(listener.datagrams.size() == 1);
  CHECK(listener.datagrams[0].size() == wire::kMaxPacketBytes + 1);
  CHECK(listener.batch_ends >= 1);
  CHECK_FALSE(wire::parsePacket(listener.datagrams[0]));
  CHECK(line.value()->counters().packets_received == 1);
  line.value()->close();
}

}  // namespace
}  // namespace overline::relay
