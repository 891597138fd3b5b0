#include "sdk/client.h"

#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cassert>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <system_error>

#include "common/crypto/packet_auth.h"
#include "sdk/hello_packet.h"

namespace overline::sdk {
namespace {

// recv() calls per poll() wake-up, so timers still run under a flood.
constexpr int kMaxReadsPerTurn = 64;

TimeUs monotonicUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::uint64_t wallClockUs() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
}

// poll() timeout that does not wake before `deadline`.
int pollTimeoutMs(TimeUs now, TimeUs deadline) {
  if (deadline <= now) return 0;
  return static_cast<int>((deadline - now + kMillisecond - 1) / kMillisecond);
}

std::string errnoText(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

template <typename Counter>
void bump(Counter& counter) {
  counter.fetch_add(1, std::memory_order_relaxed);
}

std::size_t encodeControl(wire::PacketType type, StreamId stream, wire::PacketBuffer& buffer) {
  wire::Header header;
  header.type = type;
  header.stream_id = stream;
  return wire::encodePacket(header, {}, buffer);
}

// A fresh random nonce for a join (it makes the session key unique).
Result<HelloNonce, std::string> randomNonce() {
  HelloNonce nonce{};
  if (::getrandom(nonce.data(), nonce.size(), 0) != static_cast<ssize_t>(nonce.size())) {
    return Err{errnoText("getrandom")};
  }
  return nonce;
}

// Runs the join (HELLO, CHALLENGE, HELLO with the cookie, WELCOME),
// sending the current HELLO every retry interval, until joined or timed out.
Result<JoinHandshake, std::string> handshake(int fd, const Endpoint& edge, const ClientOptions& options) {
  auto nonce = randomNonce();
  if (!nonce) return Err{nonce.error()};
  JoinHandshake join(*nonce, options.join_token);
  wire::PacketBuffer hello;
  const TimeUs deadline = monotonicUs() + options.connect_timeout_us;
  TimeUs next_hello = monotonicUs();
  std::array<std::byte, wire::kMaxPacketBytes + 1> buffer;
  for (;;) {
    TimeUs now = monotonicUs();
    if (now >= deadline) {
      return Err{"no WELCOME from edge " + edge.toString() + " within " +
                 std::to_string(options.connect_timeout_us / kMillisecond) + " ms (wrong address, edge down, " +
                 "or join token refused)"};
    }
    if (now >= next_hello) {
      // A failed send (e.g. ECONNREFUSED after an ICMP port unreachable) is
      // retried like a lost HELLO: the edge may be starting.
      (void)::send(fd, hello.data(), join.hello(hello, 0), MSG_NOSIGNAL);
      next_hello = now + options.hello_retry_us;
    }
    pollfd pfd{fd, POLLIN, 0};
    if (::poll(&pfd, 1, pollTimeoutMs(now, std::min(next_hello, deadline))) < 0 && errno != EINTR) {
      return Err{errnoText("poll")};
    }
    for (;;) {
      const ssize_t n = ::recv(fd, buffer.data(), buffer.size(), MSG_DONTWAIT);
      if (n < 0) break;  // EAGAIN, or ECONNREFUSED while the edge is not up
      const auto parsed = wire::parsePacket(std::span(buffer.data(), static_cast<std::size_t>(n)));
      if (!parsed) continue;
      switch (join.onAnswer(*parsed)) {
        case JoinHandshake::Step::kIgnored: break;
        case JoinHandshake::Step::kChallenged: next_hello = monotonicUs(); break;  // echo the cookie now
        case JoinHandshake::Step::kJoined: return join;
      }
    }
  }
}

}  // namespace

Result<std::unique_ptr<Client>, std::string> Client::connect(std::span<const EdgeCandidate> candidates,
                                                             const ClientOptions& options) {
  if (candidates.empty()) return Err{std::string("no edge candidates")};
  std::string errors;
  for (const EdgeCandidate& candidate : candidates) {
    ClientOptions with_token = options;
    with_token.join_token = candidate.join_token;
    auto connected = connect(candidate.endpoint, with_token);
    if (connected) return connected;
    errors += (errors.empty() ? "" : "; ") + connected.error();
  }
  return Err{std::move(errors)};
}

Result<std::unique_ptr<Client>, std::string> Client::connect(const Endpoint& edge,
                                                             const ClientOptions& options) {
  if (edge.address() == 0 || edge.port() == 0) {
    return Err{"invalid edge endpoint " + edge.toString()};
  }
  if (options.join_token.size() > wire::kMaxJoinTokenBytes) {
    return Err{"join token longer than " + std::to_string(wire::kMaxJoinTokenBytes) + " bytes"};
  }
  UniqueFd socket_fd(::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!socket_fd.valid()) return Err{errnoText("socket")};
  const int rcvbuf = options.receive_buffer_bytes;
  // Best effort: a smaller buffer still works, it only drops earlier under bursts.
  (void)::setsockopt(socket_fd.get(), SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
  const sockaddr_in edge_addr = edge.toSockaddr();
  if (::connect(socket_fd.get(), reinterpret_cast<const sockaddr*>(&edge_addr), sizeof(edge_addr)) != 0) {
    return Err{errnoText("connect")};
  }
  sockaddr_in local_addr{};
  socklen_t local_len = sizeof(local_addr);
  if (::getsockname(socket_fd.get(), reinterpret_cast<sockaddr*>(&local_addr), &local_len) != 0) {
    return Err{errnoText("getsockname")};
  }
  UniqueFd wake_fd(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!wake_fd.valid()) return Err{errnoText("eventfd")};

  auto joined = handshake(socket_fd.get(), edge, options);
  if (!joined) return Err{joined.error()};

  std::unique_ptr<Client> client(new Client(std::move(socket_fd), std::move(wake_fd), edge,
                                            Endpoint::fromSockaddr(local_addr), joined.value(), options));
  try {
    client->thread_ = std::thread([c = client.get()] { c->run(); });
  } catch (const std::system_error& e) {
    client->closed_ = true;  // nothing to stop or unsubscribe yet
    return Err{std::string("cannot start the SDK thread: ") + e.what()};
  }
  return client;
}

Client::Client(UniqueFd socket, UniqueFd wake, const Endpoint& edge, const Endpoint& local,
               const JoinHandshake& joined, const ClientOptions& options)
    : socket_(std::move(socket)),
      wake_(std::move(wake)),
      edge_(edge),
      local_(local),
      edge_node_(joined.edgeNode()),
      options_(options),
      session_(Session{SessionTagger(joined.sessionKey()), joined.nonce()}),
      reflexive_(joined.reflexiveAddress()),
      join_token_(options.join_token),
      receive_key_(std::in_place, joined.sessionKey()) {}

bool Client::setJoinToken(std::string token) {
  if (token.size() > wire::kMaxJoinTokenBytes) return false;
  std::lock_guard lock(send_mutex_);
  join_token_ = std::move(token);
  return true;
}

Endpoint Client::reflexiveAddress() const {
  std::lock_guard lock(send_mutex_);
  return reflexive_;
}

Client::~Client() { close(); }

void Client::close() {
  if (closed_.exchange(true)) return;
  assert(std::this_thread::get_id() != thread_.get_id() && "close() called from a receive callback");
  const std::uint64_t one = 1;
  (void)::write(wake_.get(), &one, sizeof(one));
  if (thread_.joinable()) thread_.join();

  std::map<StreamId, std::shared_ptr<const Subscription>> subscriptions;
  {
    std::lock_guard lock(subscriptions_mutex_);
    subscriptions.swap(subscriptions_);
  }
  for (const auto& [stream, subscription] : subscriptions) {
    sendControl(wire::PacketType::kUnsubscribe, stream);
  }
}

ClientCounters Client::counters() const {
  const auto load = [](const std::atomic<std::uint64_t>& c) { return c.load(std::memory_order_relaxed); };
  ClientCounters out;
  out.packets_sent = load(counters_.packets_sent);
  out.send_failed = load(counters_.send_failed);
  out.packets_received = load(counters_.packets_received);
  out.hello_replies = load(counters_.hello_replies);
  out.rejoins = load(counters_.rejoins);
  out.data_delivered = load(counters_.data_delivered);
  out.malformed = load(counters_.malformed);
  out.unauthenticated = load(counters_.unauthenticated);
  out.unexpected_type = load(counters_.unexpected_type);
  out.unknown_stream = load(counters_.unknown_stream);
  out.receive_errors = load(counters_.receive_errors);
  out.playout_lost = load(counters_.playout_lost);
  out.playout_late = load(counters_.playout_late);
  out.playout_duplicates = load(counters_.playout_duplicates);
  out.playout_reordered = load(counters_.playout_reordered);
  out.playout_overflows = load(counters_.playout_overflows);
  out.playout_resyncs = load(counters_.playout_resyncs);
  out.playout_held = load(counters_.playout_held);
  return out;
}

Result<StreamId, std::string> Client::publish(std::uint32_t local_id, const PublishOptions& options) {
  const auto budget = encodeLatencyBudget(options.latency_budget_us);
  if (!budget) return Err{budget.error()};
  const StreamId stream = makeStreamId(edge_node_, local_id);
  std::lock_guard lock(publish_mutex_);
  Published& published = published_[stream];
  published.flags = options.redundant ? wire::kFlagRedundant : 0;
  published.latency_budget = *budget;
  return stream;
}

bool Client::send(StreamId stream, std::span<const std::byte> payload) {
  if (closed_.load(std::memory_order_relaxed) || payload.size() > wire::kMaxPayloadBytes) return false;
  wire::Header header;
  header.type = wire::PacketType::kData;
  header.hop_limit = options_.hop_limit;
  header.stream_id = stream;
  {
    std::lock_guard lock(publish_mutex_);
    const auto it = published_.find(stream);
    if (it == published_.end()) return false;
    header.sequence = it->second.next_sequence++;
    header.flags = it->second.flags;
    header.latency_budget = it->second.latency_budget;
  }
  header.timestamp_us = wallClockUs();
  wire::PacketBuffer buffer;
  const std::size_t bytes = wire::encodePacket(header, payload, buffer);
  return sendDatagram(buffer, bytes);
}

std::optional<std::string> Client::subscribe(StreamId stream, ReceiveCallback callback,
                                             const SubscribeOptions& options) {
  assert(callback);
  if (const auto budget = encodeLatencyBudget(options.default_latency_budget_us); !budget) {
    return "default " + budget.error();
  }
  if (closed_.load(std::memory_order_relaxed)) return std::nullopt;
  auto subscription = std::make_shared<const Subscription>(
      Subscription{next_subscription_id_.fetch_add(1), std::move(callback), options});
  bool replaced = false;
  {
    std::lock_guard lock(subscriptions_mutex_);
    auto [it, inserted] = subscriptions_.try_emplace(stream, subscription);
    if (!inserted) {
      it->second = std::move(subscription);
      replaced = true;
    }
  }
  sendControl(wire::PacketType::kSubscribe, stream);
  if (replaced) waitForRunningCallback();
  return std::nullopt;
}

void Client::unsubscribe(StreamId stream) {
  bool erased = false;
  {
    std::lock_guard lock(subscriptions_mutex_);
    erased = subscriptions_.erase(stream) > 0;
  }
  if (!erased) return;
  sendControl(wire::PacketType::kUnsubscribe, stream);
  waitForRunningCallback();
}

void Client::waitForRunningCallback() {
  if (std::this_thread::get_id() == thread_.get_id()) return;  // the caller is the callback
  std::lock_guard wait(dispatch_mutex_);
}

void Client::run() {
  TimeUs next_keepalive = monotonicUs() + options_.keepalive_interval_us;
  TimeUs next_refresh = monotonicUs() + options_.refresh_interval_us;
  last_answer_us_ = monotonicUs();
  pollfd fds[2] = {{socket_.get(), POLLIN, 0}, {wake_.get(), POLLIN, 0}};
  while (!closed_.load(std::memory_order_relaxed)) {
    const TimeUs now = monotonicUs();
    if (now >= next_keepalive) {
      // Three keepalives unanswered: the edge has forgotten this session
      // (it restarted) or is gone; join again (a new session key). Tagged
      // keepalives go on meanwhile, in case only answers were lost.
      if (!rejoin_ && now - last_answer_us_ > 3 * options_.keepalive_interval_us) startRejoin();
      if (rejoin_) sendRejoinHello();
      sendHello();
      next_keepalive = now + options_.keepalive_interval_us;
    }
    if (now >= next_refresh) {
      refreshSubscriptions();
      next_refresh = now + options_.refresh_interval_us;
    }
    TimeUs wake_at = std::min(next_keepalive, next_refresh);
    if (const auto playout_deadline = runPlayoutTimers(now)) wake_at = std::min(wake_at, *playout_deadline);
    const int ready = ::poll(fds, 2, pollTimeoutMs(now, wake_at));
    if (ready < 0 && errno != EINTR) bump(counters_.receive_errors);
    if (ready > 0 && (fds[0].revents & POLLIN) != 0) readDatagrams();
    // A wake-up on fds[1] means close(); the loop condition sees closed_.
  }
}

void Client::readDatagrams() {
  std::array<std::byte, wire::kMaxPacketBytes + 1> buffer;  // +1: oversize shows as malformed
  for (int i = 0; i < kMaxReadsPerTurn; ++i) {
    const ssize_t n = ::recv(socket_.get(), buffer.data(), buffer.size(), MSG_DONTWAIT);
    if (n < 0) {
      // ECONNREFUSED reports an ICMP port unreachable from the edge: the
      // keepalive keeps trying, so it is not an error of this socket.
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNREFUSED) {
        bump(counters_.receive_errors);
      }
      return;
    }
    onDatagram(std::span(buffer.data(), static_cast<std::size_t>(n)), wallClockUs(), monotonicUs());
  }
}

void Client::onDatagram(std::span<const std::byte> datagram, std::uint64_t arrival_us, TimeUs now) {
  bump(counters_.packets_received);
  const auto parsed = wire::parsePacket(datagram);
  if (!parsed) {
    bump(counters_.malformed);
    return;
  }
  const wire::PacketType type = parsed->header.type;
  if (type == wire::PacketType::kChallenge || type == wire::PacketType::kWelcome) {
    onJoinAnswer(*parsed, now);  // the only packets that precede a session
    return;
  }
  // Everything else comes from the edge tagged with the session key: a
  // packet with the edge's source address but no valid tag is forged.
  const std::uint64_t packet_number = parsed->header.packet_number;
  if (!parsed->header.tagged() || !receive_window_.fresh(packet_number) ||
      !crypto::verifyPacket(*receive_key_, *parsed)) {
    bump(counters_.unauthenticated);
    return;
  }
  receive_window_.accept(packet_number);
  switch (type) {
    case wire::PacketType::kHello:
      bump(counters_.hello_replies);
      last_answer_us_ = now;
      return;
    case wire::PacketType::kData:
      deliver(*parsed, arrival_us, now);
      return;
    default:
      bump(counters_.unexpected_type);
      return;
  }
}

// Hands what a PlayoutBuffer releases to the subscription's callback, as
// long as that subscription is still the stream's current one (a callback
// may unsubscribe or resubscribe while a batch is being released).
class Client::PlayoutDispatch final : public PlayoutBuffer::Listener {
 public:
  PlayoutDispatch(Client& client, StreamId stream, std::shared_ptr<const Subscription> subscription)
      : client_(client), stream_(stream), subscription_(std::move(subscription)) {}

  void onRelease(const PlayoutPacket& packet) override {
    if (!client_.isCurrent(stream_, subscription_->id)) return;
    bump(client_.counters_.data_delivered);
    subscription_->callback(stream_, packet.header, packet.payload, packet.arrival_us);
  }

 private:
  Client& client_;
  const StreamId stream_;
  // Keeps the callback alive if it unsubscribes itself.
  const std::shared_ptr<const Subscription> subscription_;
};

void Client::deliver(const wire::PacketView& packet, std::uint64_t arrival_us, TimeUs now) {
  const StreamId stream = packet.header.stream_id;
  std::lock_guard dispatch(dispatch_mutex_);
  std::shared_ptr<const Subscription> subscription;
  {
    std::lock_guard lock(subscriptions_mutex_);
    const auto it = subscriptions_.find(stream);
    if (it != subscriptions_.end()) subscription = it->second;
  }
  if (!subscription) {
    bump(counters_.unknown_stream);
    return;
  }
  if (subscription->options.on_arrival) {
    subscription->options.on_arrival(stream, packet.header, packet.payload, arrival_us);
  }
  if (!subscription->options.playout) {
    if (!isCurrent(stream, subscription->id)) return;  // on_arrival unsubscribed
    bump(counters_.data_delivered);  // before the call, so a callback observing itself sees it counted
    subscription->callback(stream, packet.header, packet.payload, arrival_us);
    return;
  }
  auto it = playouts_.find(stream);
  if (it == playouts_.end() || it->second.subscription_id != subscription->id) {
    if (it != playouts_.end()) {
      // A new subscription: the old one's held packets go with it.
      counters_.playout_held.fetch_sub(it->second.reported_held, std::memory_order_relaxed);
      playouts_.erase(it);
    }
    const PlayoutConfig config{.default_budget_us = subscription->options.default_latency_budget_us,
                               .max_held_packets = subscription->options.max_held_packets};
    it = playouts_.emplace(stream, StreamPlayout{subscription->id, PlayoutBuffer(config), {}, 0}).first;
  }
  PlayoutDispatch dispatch_to(*this, stream, std::move(subscription));
  it->second.buffer.onPacket(packet.header, packet.payload, arrival_us, now, dispatch_to);
  reportPlayout(it->second);
}

std::optional<TimeUs> Client::runPlayoutTimers(TimeUs now) {
  std::optional<TimeUs> earliest;
  for (auto& [stream, playout] : playouts_) {
    auto deadline = playout.buffer.nextDeadline();
    if (deadline && *deadline <= now) {
      std::lock_guard dispatch(dispatch_mutex_);
      std::shared_ptr<const Subscription> subscription;
      {
        std::lock_guard lock(subscriptions_mutex_);
        const auto it = subscriptions_.find(stream);
        if (it != subscriptions_.end()) subscription = it->second;
      }
      // Ended subscriptions are dropped by refreshSubscriptions(); until
      // then their releases go nowhere (PlayoutDispatch checks).
      if (subscription && subscription->id == playout.subscription_id) {
        PlayoutDispatch dispatch_to(*this, stream, std::move(subscription));
        playout.buffer.onTimer(now, dispatch_to);
        reportPlayout(playout);
        deadline = playout.buffer.nextDeadline();
      } else {
        deadline.reset();
      }
    }
    if (deadline && (!earliest || *deadline < *earliest)) earliest = deadline;
  }
  return earliest;
}

bool Client::isCurrent(StreamId stream, std::uint64_t subscription_id) {
  std::lock_guard lock(subscriptions_mutex_);
  const auto it = subscriptions_.find(stream);
  return it != subscriptions_.end() && it->second->id == subscription_id;
}

void Client::reportPlayout(StreamPlayout& playout) {
  const PlayoutCounters& now = playout.buffer.counters();
  PlayoutCounters& was = playout.reported;
  const auto add = [](std::atomic<std::uint64_t>& counter, std::uint64_t now_value, std::uint64_t& was_value) {
    if (now_value != was_value) counter.fetch_add(now_value - was_value, std::memory_order_relaxed);
    was_value = now_value;
  };
  add(counters_.playout_lost, now.lost, was.lost);
  add(counters_.playout_late, now.late, was.late);
  add(counters_.playout_duplicates, now.duplicates, was.duplicates);
  add(counters_.playout_reordered, now.reordered, was.reordered);
  add(counters_.playout_overflows, now.overflows, was.overflows);
  add(counters_.playout_resyncs, now.resyncs, was.resyncs);
  const std::size_t held = playout.buffer.heldCount();
  if (held >= playout.reported_held) {
    counters_.playout_held.fetch_add(held - playout.reported_held, std::memory_order_relaxed);
  } else {
    counters_.playout_held.fetch_sub(playout.reported_held - held, std::memory_order_relaxed);
  }
  playout.reported_held = held;
}

void Client::refreshSubscriptions() {
  refresh_scratch_.clear();
  {
    std::lock_guard lock(subscriptions_mutex_);
    for (const auto& [stream, subscription] : subscriptions_) {
      refresh_scratch_.emplace_back(stream, subscription->id);
    }
  }
  for (const auto& [stream, id] : refresh_scratch_) sendControl(wire::PacketType::kSubscribe, stream);
  // Playout state of ended or replaced subscriptions (both lists are sorted by stream).
  auto current = refresh_scratch_.begin();
  for (auto it = playouts_.begin(); it != playouts_.end();) {
    while (current != refresh_scratch_.end() && current->first < it->first) ++current;
    const bool live = current != refresh_scratch_.end() && current->first == it->first &&
                      current->second == it->second.subscription_id;
    if (live) {
      ++it;
      continue;
    }
    counters_.playout_held.fetch_sub(it->second.reported_held, std::memory_order_relaxed);
    it = playouts_.erase(it);
  }
}

void Client::sendControl(wire::PacketType type, StreamId stream) {
  wire::PacketBuffer buffer;
  const std::size_t bytes = encodeControl(type, stream, buffer);
  sendDatagram(buffer, bytes);
}

void Client::sendHello() {
  wire::PacketBuffer buffer;
  HelloNonce nonce;
  std::string token;
  {
    std::lock_guard lock(send_mutex_);
    nonce = session_.nonce;
    token = join_token_;
  }
  // Tagged, with the token, so the edge can extend the session with a fresh one.
  const std::size_t bytes = encodeHello(nonce, HelloCookie{}, token, buffer);
  sendDatagram(buffer, bytes);
}

void Client::startRejoin() {
  auto nonce = randomNonce();
  if (!nonce) {
    bump(counters_.send_failed);
    return;
  }
  std::lock_guard lock(send_mutex_);
  rejoin_.emplace(*nonce, join_token_);
}

void Client::sendRejoinHello() {
  wire::PacketBuffer buffer;
  const std::size_t bytes = rejoin_->hello(buffer, 0);
  // Untagged: this is a new join.
  if (::send(socket_.get(), buffer.data(), bytes, MSG_NOSIGNAL) == static_cast<ssize_t>(bytes)) {
    bump(counters_.packets_sent);
  } else {
    bump(counters_.send_failed);
  }
}

void Client::onJoinAnswer(const wire::PacketView& packet, TimeUs now) {
  if (!rejoin_) {
    bump(counters_.unexpected_type);  // a stray or forged join answer
    return;
  }
  switch (rejoin_->onAnswer(packet)) {
    case JoinHandshake::Step::kIgnored: bump(counters_.unexpected_type); return;
    case JoinHandshake::Step::kChallenged: sendRejoinHello(); return;
    case JoinHandshake::Step::kJoined: break;
  }
  {
    std::lock_guard lock(send_mutex_);
    session_ = Session{SessionTagger(rejoin_->sessionKey()), rejoin_->nonce()};
    reflexive_ = rejoin_->reflexiveAddress();
  }
  receive_key_.emplace(rejoin_->sessionKey());
  receive_window_ = crypto::ReplayWindow{};
  rejoin_.reset();
  last_answer_us_ = now;
  bump(counters_.rejoins);
  // The new session has no subscriptions yet.
  refreshSubscriptions();
}

bool Client::sendDatagram(wire::PacketBuffer& buffer, std::size_t size) {
  std::size_t sealed = 0;
  {
    // One session key context and one packet number sequence for every thread.
    std::lock_guard lock(send_mutex_);
    sealed = session_.tagger.tag(buffer, size);
  }
  const std::span<const std::byte> datagram(buffer.data(), sealed);
  const ssize_t n = ::send(socket_.get(), datagram.data(), datagram.size(), MSG_NOSIGNAL);
  if (n == static_cast<ssize_t>(datagram.size())) {
    bump(counters_.packets_sent);
    return true;
  }
  bump(counters_.send_failed);
  return false;
}

}  // namespace overline::sdk
