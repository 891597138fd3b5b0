#include "tests/integration/sdk/fake_edge.h"

#include <algorithm>
#include <array>

#include "common/crypto/packet_auth.h"
#include "common/wire/byte_order.h"

#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>

namespace overline::sdk::testing {
namespace {

std::size_t countMatching(const std::vector<ReceivedPacket>& packets, wire::PacketType type,
                          std::optional<StreamId> stream) {
  std::size_t matching = 0;
  for (const auto& p : packets) {
    if (p.header.type == type && (!stream || p.header.stream_id == *stream)) ++matching;
  }
  return matching;
}

}  // namespace

FakeEdge::FakeEdge(Options options) : options_(options) {
  fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  wake_fd_ = ::eventfd(0, EFD_CLOEXEC);
  if (fd_ < 0 || wake_fd_ < 0) throw std::runtime_error("FakeEdge: socket/eventfd failed");
  sockaddr_in addr = Endpoint(0x7f000001, 0).toSockaddr();
  socklen_t len = sizeof(addr);
  if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    throw std::runtime_error("FakeEdge: bind failed");
  }
  endpoint_ = Endpoint::fromSockaddr(addr);
  thread_ = std::thread([this] { run(); });
}

FakeEdge::~FakeEdge() {
  const std::uint64_t one = 1;
  (void)::write(wake_fd_, &one, sizeof(one));
  thread_.join();
  ::close(fd_);
  ::close(wake_fd_);
}

void FakeEdge::run() {
  std::array<std::byte, wire::kMaxPacketBytes + 1> buffer;
  pollfd fds[2] = {{fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
  for (;;) {
    if (::poll(fds, 2, -1) < 0) continue;  // EINTR
    if ((fds[1].revents & POLLIN) != 0) return;
    sockaddr_in from{};
    socklen_t from_len = sizeof(from);
    const ssize_t n = ::recvfrom(fd_, buffer.data(), buffer.size(), MSG_DONTWAIT,
                                 reinterpret_cast<sockaddr*>(&from), &from_len);
    if (n >= 0)
      onDatagram(Endpoint::fromSockaddr(from), std::span(buffer.data(), static_cast<std::size_t>(n)));
  }
}

void FakeEdge::onDatagram(const Endpoint& from, std::span<const std::byte> datagram) {
  if (down_) return;
  const auto parsed = wire::parsePacket(datagram);
  if (!parsed) return;  // tests only look at what the SDK sends, which is always valid
  const wire::Header& header = parsed->header;
  if (!header.tagged()) {
    // Only a join HELLO may come untagged; it is answered as a relay does.
    if (header.type == wire::PacketType::kHello && options_.answer_hello) answerJoin(from, *parsed);
  } else {
    bool verified = false;
    {
      std::lock_guard lock(sessions_mutex_);
      const auto session = sessions_.find(from);
      verified = session != sessions_.end() && crypto::verifyPacket(session->second.key, *parsed);
    }
    if (!verified) {
      ++bad_tags_;
      return;
    }
    switch (header.type) {
      case wire::PacketType::kHello:
        if (options_.answer_hello) {
          wire::Header reply;
          reply.type = wire::PacketType::kHello;
          reply.sender_node_id = options_.node_id;
          reply.sequence = header.sequence;
          sendTagged(from, reply);
        }
        break;
      case wire::PacketType::kSubscribe:
        subscribers_[header.stream_id].insert(from);
        break;
      case wire::PacketType::kUnsubscribe:
        subscribers_[header.stream_id].erase(from);
        break;
      case wire::PacketType::kData: {
        wire::Header forwarded = header;
        forwarded.sender_node_id = options_.node_id;
        forwarded.hop_limit = static_cast<std::uint8_t>(header.hop_limit - 1);
        for (const Endpoint& subscriber : subscribers_[header.stream_id]) {
          sendTagged(subscriber, forwarded, parsed->payload);
        }
        break;
      }
      default:
        break;
    }
  }
  {
    std::lock_guard lock(mutex_);
    received_.push_back({from, header, {parsed->payload.begin(), parsed->payload.end()}});
  }
  changed_.notify_all();
}

void FakeEdge::answerJoin(const Endpoint& from, const wire::PacketView& hello) {
  const auto fields = relay::splitHello(hello.payload);
  if (!fields) return;
  wire::Header answer;
  answer.sender_node_id = options_.node_id;
  answer.sequence = hello.header.sequence;
  const TimeUs now = std::chrono::duration_cast<std::chrono::microseconds>(
                         std::chrono::steady_clock::now().time_since_epoch()).count();
  if (!fields->hasCookie() || !gate_.cookieValid(from, fields->nonce, fields->cookie, now)) {
    answer.type = wire::PacketType::kChallenge;
    const relay::Cookie cookie = gate_.cookie(from, fields->nonce, now);
    sendTo(from, answer, cookie);
    return;
  }
  const crypto::Key128 key = gate_.sessionKey(from, fields->nonce, fields->cookie);
  {
    std::lock_guard lock(sessions_mutex_);
    sessions_.insert_or_assign(from, Session{crypto::Gmac(key), 1});
  }
  std::array<std::byte, wire::kWelcomePayloadBytes> welcome{};
  std::transform(key.begin(), key.end(), welcome.begin(), [](std::uint8_t b) { return std::byte{b}; });
  wire::writeBigEndian<std::uint32_t>(welcome, wire::kSessionKeyBytes, from.address());
  wire::writeBigEndian<std::uint16_t>(welcome, wire::kSessionKeyBytes + 4, from.port());
  answer.type = wire::PacketType::kWelcome;
  sendTo(from, answer, welcome);
}

void FakeEdge::sendTagged(const Endpoint& to, const wire::Header& header, std::span<const std::byte> payload) {
  wire::PacketBuffer buffer;
  std::size_t size = wire::encodePacket(header, payload, buffer);
  {
    std::lock_guard lock(sessions_mutex_);
    const auto session = sessions_.find(to);
    if (session == sessions_.end()) return;  // not joined: a relay sends it nothing
    size = crypto::sealPacket(session->second.key, 1, session->second.next_packet_number++, buffer, size);
  }
  sendTo(to, std::span<const std::byte>(buffer.data(), size));
}

bool FakeEdge::waitFor(const std::function<bool(const std::vector<ReceivedPacket>&)>& done,
                       std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return done(received_); });
}

bool FakeEdge::waitForCount(wire::PacketType type, std::size_t n, std::chrono::milliseconds timeout,
                            std::optional<StreamId> stream) {
  return waitFor(
      [&](const std::vector<ReceivedPacket>& packets) { return countMatching(packets, type, stream) >= n; },
      timeout);
}

std::size_t FakeEdge::count(wire::PacketType type, std::optional<StreamId> stream) {
  std::lock_guard lock(mutex_);
  return countMatching(received_, type, stream);
}

void FakeEdge::sendTo(const Endpoint& to, std::span<const std::byte> datagram) {
  const sockaddr_in addr = to.toSockaddr();
  (void)::sendto(fd_, datagram.data(), datagram.size(), 0, reinterpret_cast<const sockaddr*>(&addr),
                 sizeof(addr));
}

void FakeEdge::sendTo(const Endpoint& to, const wire::Header& header, std::span<const std::byte> payload) {
  wire::PacketBuffer buffer;
  const std::size_t bytes = wire::encodePacket(header, payload, buffer);
  sendTo(to, std::span<const std::byte>(buffer.data(), bytes));
}

}  // namespace overline::sdk::testing
