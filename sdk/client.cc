#include "sdk/client.h"

#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cassert>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <system_error>

namespace overline::sdk {
namespace {

// recvfrom() calls per poll() wake-up, so timers still run under a flood.
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

// The core's NonceSource: the kernel's CSPRNG. Up to 256 bytes, getrandom()
// returns them all at once; it fails only before the entropy pool is
// ready (interrupted) or on kernels without it.
std::optional<HelloNonce> randomNonce() {
  HelloNonce nonce{};
  if (::getrandom(nonce.data(), nonce.size(), 0) != static_cast<ssize_t>(nonce.size())) return std::nullopt;
  return nonce;
}

SessionConfig sessionConfigOf(std::span<const EdgeCandidate> candidates, const ClientOptions& options) {
  SessionConfig config;
  config.candidates.assign(candidates.begin(), candidates.end());
  config.homes = options.homes;
  config.timing = EdgeSessionTiming{.hello_retry_us = options.hello_retry_us,
                                    .join_timeout_us = options.join_timeout_us,
                                    .keepalive_interval_us = options.keepalive_interval_us,
                                    .dead_after_us = options.dead_after_us};
  config.refresh_interval_us = options.refresh_interval_us;
  config.candidate_backoff_us = options.candidate_backoff_us;
  config.hop_limit = options.hop_limit;
  config.expected_public_ip = options.expected_public_ip;
  return config;
}

std::string noWelcomeError(std::span<const EdgeCandidate> candidates, DurationUs timeout_us) {
  std::string edges;
  for (const EdgeCandidate& candidate : candidates) {
    edges += (edges.empty() ? "" : ", ") + candidate.endpoint.toString();
  }
  return std::string("no WELCOME from ") + (candidates.size() == 1 ? "edge " : "any of edges ") + edges +
         " within " + std::to_string(timeout_us / kMillisecond) +
         " ms (wrong address, edge down, or join token refused)";
}

}  // namespace

Result<std::unique_ptr<Client>, std::string> Client::connect(const Endpoint& edge, const ClientOptions& options) {
  const EdgeCandidate candidate{edge, options.join_token};
  return connect(std::span(&candidate, 1), options);
}

Result<std::unique_ptr<Client>, std::string> Client::connect(std::span<const EdgeCandidate> candidates,
                                                             const ClientOptions& options) {
  UniqueFd socket_fd(::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!socket_fd.valid()) return Err{errnoText("socket")};
  const int rcvbuf = options.receive_buffer_bytes;
  // Best effort: a smaller buffer still works, it only drops earlier under bursts.
  (void)::setsockopt(socket_fd.get(), SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
  // Any local address, an ephemeral port: one socket for every edge.
  const sockaddr_in any = Endpoint(INADDR_ANY, 0).toSockaddr();
  if (::bind(socket_fd.get(), reinterpret_cast<const sockaddr*>(&any), sizeof(any)) != 0) {
    return Err{errnoText("bind")};
  }
  UniqueFd wake_fd(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!wake_fd.valid()) return Err{errnoText("eventfd")};

  std::unique_ptr<Client> client(new Client(std::move(socket_fd), std::move(wake_fd), options));
  auto core = SessionCore::create(sessionConfigOf(candidates, options), client->outputs_, randomNonce, monotonicUs());
  if (!core) {
    client->closed_ = true;  // no thread to stop, nothing to unsubscribe
    return Err{core.error()};
  }
  client->core_ = std::move(core.value());
  try {
    client->thread_ = std::thread([c = client.get()] { c->run(); });
  } catch (const std::system_error& e) {
    client->closed_ = true;
    return Err{std::string("cannot start the SDK thread: ") + e.what()};
  }

  // The SDK thread joins; kConnected wakes this wait.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::microseconds(options.connect_timeout_us);
  bool joined = false;
  {
    std::unique_lock lock(client->core_mutex_);
    joined = client->connected_.wait_until(lock, deadline,
                                           [&] { return client->core_->edgeNode() != kNoNode; });
  }
  if (!joined) return Err{noWelcomeError(candidates, options.connect_timeout_us)};  // ~Client stops the thread
  return client;
}

Client::Client(UniqueFd socket, UniqueFd wake, const ClientOptions& options)
    : socket_(std::move(socket)), wake_(std::move(wake)), on_event_(options.on_event), outputs_(socket_.get()) {}

Client::~Client() { close(); }

void Client::close() {
  if (closed_.exchange(true)) return;
  assert(std::this_thread::get_id() != thread_.get_id() && "close() called from a callback");
  const std::uint64_t one = 1;
  (void)::write(wake_.get(), &one, sizeof(one));
  if (thread_.joinable()) thread_.join();

  std::lock_guard lock(core_mutex_);
  for (const auto& [stream, subscription] : subscriptions_) core_->unsubscribe(stream);
  subscriptions_.clear();
}

NodeId Client::edgeNode() const {
  std::lock_guard lock(core_mutex_);
  return core_->edgeNode();
}

Endpoint Client::edge() const {
  std::lock_guard lock(core_mutex_);
  return core_->edgeEndpoint();
}

std::vector<EdgeStatus> Client::edges() const {
  std::lock_guard lock(core_mutex_);
  return core_->edges();
}

Endpoint Client::reflexiveAddress() const {
  std::lock_guard lock(core_mutex_);
  return core_->reflexiveAddress();
}

ClientCounters Client::counters() const {
  ClientCounters out;
  {
    std::lock_guard lock(core_mutex_);
    static_cast<SessionCounters&>(out) = core_->counters();
  }
  out.receive_errors = receive_errors_.load(std::memory_order_relaxed);
  return out;
}

bool Client::setJoinToken(std::string token) {
  std::lock_guard lock(core_mutex_);
  return core_->setJoinToken(token);
}

Result<StreamId, std::string> Client::publish(std::uint32_t local_id, const PublishOptions& options) {
  std::lock_guard lock(core_mutex_);
  return core_->publish(local_id, options);
}

bool Client::send(StreamId stream, std::span<const std::byte> payload) {
  if (closed_.load(std::memory_order_relaxed)) return false;
  const std::uint64_t timestamp_us = wallClockUs();
  std::lock_guard lock(core_mutex_);
  return core_->send(stream, payload, timestamp_us);
}

std::optional<std::string> Client::subscribe(StreamId stream, ReceiveCallback callback,
                                             const SubscribeOptions& options) {
  assert(callback);
  const SubscriptionConfig config{.playout = options.playout,
                                  .default_latency_budget_us = options.default_latency_budget_us,
                                  .max_held_packets = options.max_held_packets,
                                  .arrivals = static_cast<bool>(options.on_arrival)};
  bool replaced = false;
  {
    std::lock_guard lock(core_mutex_);
    if (closed_.load(std::memory_order_relaxed)) return std::nullopt;
    const auto id = core_->subscribe(stream, config);
    if (!id) return id.error();
    auto subscription = std::make_shared<const Subscription>(Subscription{*id, std::move(callback), options.on_arrival});
    auto [it, inserted] = subscriptions_.try_emplace(stream, subscription);
    if (!inserted) {
      it->second = std::move(subscription);
      replaced = true;
    }
  }
  if (replaced) waitForRunningCallback();
  return std::nullopt;
}

void Client::unsubscribe(StreamId stream) {
  {
    std::lock_guard lock(core_mutex_);
    if (subscriptions_.erase(stream) == 0) return;
    core_->unsubscribe(stream);
  }
  waitForRunningCallback();
}

void Client::waitForRunningCallback() {
  if (std::this_thread::get_id() == thread_.get_id()) return;  // the caller is the callback
  std::lock_guard wait(dispatch_mutex_);
}

void Client::run() {
  pollfd fds[2] = {{socket_.get(), POLLIN, 0}, {wake_.get(), POLLIN, 0}};
  while (!closed_.load(std::memory_order_relaxed)) {
    {
      std::lock_guard lock(core_mutex_);
      const TimeUs now = monotonicUs();
      if (now >= core_->nextDeadline()) core_->onTick(now);
      takeOutputs();
    }
    dispatchOutputs();
    TimeUs wake_at = 0;
    {
      // After the callbacks: they may have changed what is due.
      std::lock_guard lock(core_mutex_);
      wake_at = core_->nextDeadline();
    }
    const int ready = ::poll(fds, 2, pollTimeoutMs(monotonicUs(), wake_at));
    if (ready < 0 && errno != EINTR) receive_errors_.fetch_add(1, std::memory_order_relaxed);
    if (ready > 0 && (fds[0].revents & POLLIN) != 0) readDatagrams();
    // A wake-up on fds[1] means close(); the loop condition sees closed_.
  }
}

void Client::readDatagrams() {
  std::array<std::byte, wire::kMaxPacketBytes + 1> buffer;  // +1: oversize shows as malformed
  for (int i = 0; i < kMaxReadsPerTurn; ++i) {
    sockaddr_in from{};
    socklen_t from_len = sizeof(from);
    const ssize_t n = ::recvfrom(socket_.get(), buffer.data(), buffer.size(), MSG_DONTWAIT,
                                 reinterpret_cast<sockaddr*>(&from), &from_len);
    if (n < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        receive_errors_.fetch_add(1, std::memory_order_relaxed);
      }
      return;
    }
    {
      std::lock_guard lock(core_mutex_);
      core_->onDatagram(Endpoint::fromSockaddr(from), std::span(buffer.data(), static_cast<std::size_t>(n)),
                        monotonicUs(), wallClockUs());
      takeOutputs();
    }
    dispatchOutputs();
  }
}

void Client::takeOutputs() { outputs_.take(dispatching_); }

void Client::dispatchOutputs() {
  if (dispatching_.empty()) return;
  bool events = false;
  {
    std::lock_guard dispatch(dispatch_mutex_);
    for (const ClientOutput& output : dispatching_.items()) {
      if (output.kind == ClientOutput::Kind::kEvent) {
        events = true;
        if (on_event_) on_event_(output.event);
        continue;
      }
      std::shared_ptr<const Subscription> subscription;
      {
        std::lock_guard lock(core_mutex_);
        const auto it = subscriptions_.find(output.stream);
        if (it != subscriptions_.end()) subscription = it->second;
      }
      // Unsubscribed or replaced since the core released it (perhaps by an
      // earlier callback of this batch): it goes nowhere.
      if (!subscription || subscription->id != output.subscription) continue;
      const ReceiveCallback& callback =
          output.kind == ClientOutput::Kind::kArrival ? subscription->on_arrival : subscription->callback;
      callback(output.stream, output.header, output.payload, output.arrival_us);
    }
  }
  dispatching_.clear();
  if (events) connected_.notify_all();
}

}  // namespace overline::sdk
