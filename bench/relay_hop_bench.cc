// overline-bench-relay-hop: packets per second and added latency through ONE
// real overline-relay hop on loopback, printed next to the same figures for a
// bare UDP echo (blocking recv -> send in a thread) measured in the same run.
//
// The bench speaks the v1 wire protocol directly (common/wire, no SDK):
//   receiver: HELLO -> wait for HELLO -> SUBSCRIBE(makeStreamId(relay, 1))
//   sender:   HELLO -> DATA(sequence i, timestamp_us = steady clock, payload)
// and the receiver records arrival - timestamp_us for every DATA it gets.
// Per target there are two phases: latency (a paced, modest rate) and
// throughput (as fast as the sender can go). Every loop is bounded in count
// and in time; the relay is stopped and temp files removed on every exit path
// except a signal.

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "common/endpoint.h"
#include "common/types.h"
#include "common/wire/packet.h"

extern char** environ;

namespace overline::bench {
namespace {

namespace fs = std::filesystem;
using SteadyClock = std::chrono::steady_clock;

constexpr DurationUs kReadyTimeoutUs = 10 * kSecond;
constexpr DurationUs kJoinTimeoutUs = 5 * kSecond;
constexpr DurationUs kHelloResendUs = 200 * kMillisecond;
// Client soft state (HELLO, SUBSCRIBE) is refreshed this often, far below any
// sensible expiry, so a long run never loses its subscription.
constexpr DurationUs kRefreshIntervalUs = 1 * kSecond;
// After the last send, wait at most this long for stragglers.
constexpr DurationUs kDrainUs = 500 * kMillisecond;
// Bound on the sending part of one phase, whatever the packet count.
constexpr DurationUs kMaxSendUs = 20 * kSecond;
constexpr DurationUs kStopTimeoutUs = 5 * kSecond;
constexpr int kSocketBufferBytes = 8 << 20;
constexpr std::uint32_t kLocalStreamId = 1;

TimeUs nowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(SteadyClock::now().time_since_epoch()).count();
}

[[noreturn]] void throwErrno(const std::string& what) {
  throw std::runtime_error(what + ": " + std::strerror(errno));
}

struct Options {
  std::string relay_path;
  std::size_t throughput_packets = 200'000;
  std::size_t latency_packets = 20'000;
  std::size_t latency_rate_pps = 10'000;
  std::size_t payload_bytes = 1000;
  int repeat = 1;
};

// A blocking UDP socket bound to 127.0.0.1:0. Owns the descriptor.
class UdpSocket {
 public:
  UdpSocket() {
    fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) throwErrno("socket");
    // Best effort: the kernel caps these at net.core.{r,w}mem_max.
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &kSocketBufferBytes, sizeof(kSocketBufferBytes));
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDBUF, &kSocketBufferBytes, sizeof(kSocketBufferBytes));
    const sockaddr_in addr = Endpoint(INADDR_LOOPBACK, 0).toSockaddr();
    if (::bind(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) throwErrno("bind");
    sockaddr_in bound{};
    socklen_t len = sizeof(bound);
    if (::getsockname(fd_, reinterpret_cast<sockaddr*>(&bound), &len) != 0) throwErrno("getsockname");
    local_ = Endpoint::fromSockaddr(bound);
  }
  ~UdpSocket() { ::close(fd_); }
  UdpSocket(const UdpSocket&) = delete;
  UdpSocket& operator=(const UdpSocket&) = delete;

  const Endpoint& local() const { return local_; }

  // Safe to call from any thread, also while another thread is in receive().
  bool sendTo(std::span<const std::byte> datagram, const Endpoint& to) const {
    const sockaddr_in addr = to.toSockaddr();
    return ::sendto(fd_, datagram.data(), datagram.size(), 0, reinterpret_cast<const sockaddr*>(&addr),
                    sizeof(addr)) == static_cast<ssize_t>(datagram.size());
  }

  // Every receive() returns after at most `timeout_us` without a datagram.
  void setReceiveTimeout(DurationUs timeout_us) const {
    timeval tv{};
    tv.tv_sec = timeout_us / kSecond;
    tv.tv_usec = timeout_us % kSecond;
    if (::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0) throwErrno("SO_RCVTIMEO");
  }

  // One datagram into `buffer`; nullopt on timeout or error (on a bound UDP
  // socket errors are transient, and this runs on threads that must not
  // throw). Longer datagrams are truncated to the buffer and fail to parse.
  std::optional<std::span<const std::byte>> receive(std::span<std::byte> buffer) const {
    const ssize_t n = ::recv(fd_, buffer.data(), buffer.size(), 0);
    if (n < 0) return std::nullopt;
    return buffer.first(static_cast<std::size_t>(n));
  }

  // Same as receive() with `from` filled in.
  std::optional<std::span<const std::byte>> receiveFrom(std::span<std::byte> buffer, Endpoint& from) const {
    sockaddr_in addr{};
    socklen_t len = sizeof(addr);
    const ssize_t n =
        ::recvfrom(fd_, buffer.data(), buffer.size(), 0, reinterpret_cast<sockaddr*>(&addr), &len);
    if (n < 0) return std::nullopt;
    from = Endpoint::fromSockaddr(addr);
    return buffer.first(static_cast<std::size_t>(n));
  }

 private:
  int fd_ = -1;
  Endpoint local_;
};

// A fresh directory under the system temp dir, removed with its contents.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "overline-bench-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throwErrno("mkdtemp");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

struct RelayReady {
  NodeId node_id = kNoNode;
  std::vector<Endpoint> lines;  // bound line addresses, in config order
};

std::string readFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// One overline-relay child process. The destructor stops it: SIGTERM, then
// SIGKILL if it has not exited within kStopTimeoutUs.
class RelayProcess {
 public:
  // Writes the one-relay config into `dir` and starts `relay_path` on it,
  // with stdout and stderr going to dir/relay.log.
  RelayProcess(const std::string& relay_path, const fs::path& dir)
      : config_(dir / "relay.yaml"), ready_(dir / "ready.json"), log_(dir / "relay.log") {
    std::ofstream(config_) << "node_id: 1\n"
                              "region: bench\n"
                              "lines:\n"
                              "  - {name: a, bind: \"127.0.0.1:0\"}\n"
                              "  - {name: b, bind: \"127.0.0.1:0\"}\n"
                              "metrics: {listen: \"off\"}\n";
    const std::string config = config_.string();
    const std::string ready = ready_.string();
    const std::string log = log_.string();
    std::vector<char*> argv = {const_cast<char*>(relay_path.c_str()), const_cast<char*>("--config"),
                               const_cast<char*>(config.c_str()),     const_cast<char*>("--ready-file"),
                               const_cast<char*>(ready.c_str()),      nullptr};
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0644);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
    const int rc = ::posix_spawn(&pid_, relay_path.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
      pid_ = -1;
      throw std::runtime_error("cannot start " + relay_path + ": " + std::strerror(rc));
    }
  }

  ~RelayProcess() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    int status = 0;
    const TimeUs deadline = nowUs() + kStopTimeoutUs;
    while (::waitpid(pid_, &status, WNOHANG) == 0) {
      if (nowUs() > deadline) {
        std::fprintf(stderr, "warning: relay %d ignored SIGTERM, killing it\n", pid_);
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0) &&
        !(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM)) {
      std::fprintf(stderr, "warning: relay exited with status 0x%x; log:\n%s\n", status,
                   readFile(log_).c_str());
    }
  }
  RelayProcess(const RelayProcess&) = delete;
  RelayProcess& operator=(const RelayProcess&) = delete;

  // Polls the ready file until it holds complete JSON with at least one line.
  // Throws if the relay exits first or kReadyTimeoutUs passes.
  RelayReady waitReady() {
    const TimeUs deadline = nowUs() + kReadyTimeoutUs;
    while (nowUs() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        throw std::runtime_error("relay exited before it was ready (status " + std::to_string(status) +
                                 "); log:\n" + readFile(log_));
      }
      if (auto ready = parseReadyFile()) return *ready;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    throw std::runtime_error("relay not ready within " + std::to_string(kReadyTimeoutUs / kSecond) +
                             " s; log:\n" + readFile(log_));
  }

 private:
  // nullopt while the file is absent or partly written.
  std::optional<RelayReady> parseReadyFile() const {
    std::error_code ec;
    if (!fs::exists(ready_, ec)) return std::nullopt;
    const auto json = nlohmann::json::parse(readFile(ready_), nullptr, /*allow_exceptions=*/false);
    if (json.is_discarded() || !json.is_object()) return std::nullopt;
    const auto node_id = json.find("node_id");
    const auto lines = json.find("lines");
    if (node_id == json.end() || !node_id->is_number_unsigned() || lines == json.end() ||
        !lines->is_array() || lines->empty()) {
      return std::nullopt;
    }
    RelayReady ready;
    ready.node_id = node_id->get<NodeId>();
    for (const auto& line : *lines) {
      const auto address = line.find("address");
      if (address == line.end() || !address->is_string()) return std::nullopt;
      const auto endpoint = Endpoint::parse(address->get<std::string>());
      if (!endpoint) throw std::runtime_error("bad line address in ready file: " + address->dump());
      ready.lines.push_back(*endpoint);
    }
    return ready;
  }

  fs::path config_;
  fs::path ready_;
  fs::path log_;
  pid_t pid_ = -1;
};

// The reference: a plain blocking socket in a thread that sends every
// datagram it receives, unchanged, to `destination`.
class UdpEcho {
 public:
  explicit UdpEcho(const Endpoint& destination) : destination_(destination) {
    socket_.setReceiveTimeout(20 * kMillisecond);  // how fast stop is noticed
    thread_ = std::thread([this] { run(); });
  }
  ~UdpEcho() {
    stop_ = true;
    thread_.join();
  }
  UdpEcho(const UdpEcho&) = delete;
  UdpEcho& operator=(const UdpEcho&) = delete;

  const Endpoint& address() const { return socket_.local(); }

 private:
  void run() {
    wire::PacketBuffer buffer;
    while (!stop_) {
      if (const auto datagram = socket_.receive(buffer)) socket_.sendTo(*datagram, destination_);
    }
  }

  UdpSocket socket_;
  Endpoint destination_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// The two client sockets of one target and what they talk to.
struct Session {
  Endpoint ingress;        // where HELLO, SUBSCRIBE and DATA go
  bool joins = false;      // true for the relay: HELLO and SUBSCRIBE needed
  StreamId stream_id = 0;  // the stream DATA is published on
  const UdpSocket& sender;
  const UdpSocket& receiver;
};

std::span<const std::byte> encode(wire::PacketType type, StreamId stream_id, std::uint32_t sequence,
                                  std::span<const std::byte> payload, wire::PacketBuffer& out) {
  wire::Header header;
  header.type = type;
  header.stream_id = stream_id;
  header.sequence = sequence;
  header.timestamp_us = static_cast<std::uint64_t>(nowUs());
  return std::span<const std::byte>(out.data(), wire::encodePacket(header, payload, out));
}

// Sends the header-only packets that keep the clients joined and subscribed.
void refreshSoftState(const Session& session) {
  wire::PacketBuffer out;
  session.sender.sendTo(encode(wire::PacketType::kHello, 0, 0, {}, out), session.ingress);
  session.receiver.sendTo(encode(wire::PacketType::kHello, 0, 0, {}, out), session.ingress);
  session.receiver.sendTo(encode(wire::PacketType::kSubscribe, session.stream_id, 0, {}, out),
                          session.ingress);
}

// Sends HELLO from `socket` until a HELLO comes back from `ingress`.
void join(const UdpSocket& socket, const Endpoint& ingress, const char* who) {
  socket.setReceiveTimeout(20 * kMillisecond);
  wire::PacketBuffer out;
  wire::PacketBuffer in;
  const TimeUs deadline = nowUs() + kJoinTimeoutUs;
  TimeUs next_hello_us = 0;
  while (nowUs() < deadline) {
    if (nowUs() >= next_hello_us) {
      socket.sendTo(encode(wire::PacketType::kHello, 0, 0, {}, out), ingress);
      next_hello_us = nowUs() + kHelloResendUs;
    }
    Endpoint from;
    const auto datagram = socket.receiveFrom(in, from);
    if (!datagram || from != ingress) continue;
    const auto packet = wire::parsePacket(*datagram);
    if (packet.ok() && packet->header.type == wire::PacketType::kHello) return;
  }
  throw std::runtime_error(std::string("no HELLO answer to the ") + who + " from " + ingress.toString());
}

// Records DATA of one phase: sequences [first, first + count) of the stream.
// Its thread owns the receiver socket's reads from construction until stop()
// returns, and refreshes the session's soft state meanwhile.
class PhaseReceiver {
 public:
  PhaseReceiver(const Session& session, std::uint32_t first_sequence, std::size_t count)
      : session_(session), first_sequence_(first_sequence), seen_(count, false) {
    latencies_us_.reserve(count);
    session_.receiver.setReceiveTimeout(20 * kMillisecond);  // how fast stop is noticed
    thread_ = std::thread([this] { run(); });
  }
  ~PhaseReceiver() { stop(); }
  PhaseReceiver(const PhaseReceiver&) = delete;
  PhaseReceiver& operator=(const PhaseReceiver&) = delete;

  std::size_t received() const { return received_.load(std::memory_order_relaxed); }

  void stop() {
    if (!thread_.joinable()) return;
    stop_ = true;
    thread_.join();
  }

  // Valid after stop().
  const std::vector<DurationUs>& latenciesUs() const { return latencies_us_; }
  TimeUs lastArrivalUs() const { return last_arrival_us_; }
  std::size_t duplicates() const { return duplicates_; }

 private:
  void run() {
    wire::PacketBuffer buffer;
    TimeUs next_refresh_us = nowUs() + kRefreshIntervalUs;
    while (!stop_) {
      const auto datagram = session_.receiver.receive(buffer);
      const TimeUs arrival_us = nowUs();
      if (session_.joins && arrival_us >= next_refresh_us) {
        refreshSoftState(session_);
        next_refresh_us = arrival_us + kRefreshIntervalUs;
      }
      if (!datagram) continue;
      const auto packet = wire::parsePacket(*datagram);
      if (!packet.ok() || packet->header.type != wire::PacketType::kData ||
          packet->header.stream_id != session_.stream_id) {
        continue;
      }
      const std::uint32_t index = packet->header.sequence - first_sequence_;
      if (index >= seen_.size()) continue;  // warm-up or an earlier phase
      if (seen_[index]) {
        ++duplicates_;
        continue;
      }
      seen_[index] = true;
      latencies_us_.push_back(arrival_us - static_cast<TimeUs>(packet->header.timestamp_us));
      last_arrival_us_ = arrival_us;
      received_.fetch_add(1, std::memory_order_relaxed);
    }
  }

  const Session& session_;
  const std::uint32_t first_sequence_;
  std::vector<bool> seen_;
  std::vector<DurationUs> latencies_us_;
  TimeUs last_arrival_us_ = 0;
  std::size_t duplicates_ = 0;
  std::atomic<std::size_t> received_{0};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

struct PhaseResult {
  std::size_t sent = 0;
  std::size_t received = 0;
  std::size_t duplicates = 0;
  double offered_pps = 0;    // sent / sending time
  double delivered_pps = 0;  // received / (last arrival - first send)
  DurationUs p50_us = 0;
  DurationUs p99_us = 0;

  double lossPercent() const {
    return sent == 0 ? 0.0 : 100.0 * static_cast<double>(sent - received) / static_cast<double>(sent);
  }
};

// Nearest-rank percentile, `fraction` in (0, 1]; 0 for no samples.
DurationUs percentile(std::vector<DurationUs> samples, double fraction) {
  if (samples.empty()) return 0;
  const auto rank = static_cast<std::size_t>(std::ceil(fraction * static_cast<double>(samples.size())));
  const auto nth = samples.begin() + static_cast<std::ptrdiff_t>(std::max<std::size_t>(rank, 1) - 1);
  std::nth_element(samples.begin(), nth, samples.end());
  return *nth;
}

// Drives one target: join, warm up, then the latency and throughput phases.
class Measurement {
 public:
  Measurement(const Session& session, std::size_t payload_bytes)
      : session_(session), payload_(payload_bytes, std::byte{0x5A}) {}

  // Sends DATA until the first one comes back, so the phases start with the
  // subscription in place and every thread and socket warm.
  void warmUp() {
    if (session_.joins) {
      join(session_.sender, session_.ingress, "sender");
      join(session_.receiver, session_.ingress, "receiver");
      refreshSoftState(session_);
    }
    session_.receiver.setReceiveTimeout(10 * kMillisecond);
    wire::PacketBuffer out;
    wire::PacketBuffer in;
    const TimeUs deadline = nowUs() + kJoinTimeoutUs;
    bool delivered = false;
    while (!delivered && nowUs() < deadline) {
      session_.sender.sendTo(
          encode(wire::PacketType::kData, session_.stream_id, next_sequence_++, payload_, out),
          session_.ingress);
      for (auto datagram = session_.receiver.receive(in); datagram && !delivered && nowUs() < deadline;
           datagram = session_.receiver.receive(in)) {
        const auto packet = wire::parsePacket(*datagram);
        delivered = packet.ok() && packet->header.type == wire::PacketType::kData;
      }
    }
    if (!delivered) {
      throw std::runtime_error("no DATA delivered through " + session_.ingress.toString() + " within " +
                               std::to_string(kJoinTimeoutUs / kSecond) + " s");
    }
  }

  // `rate_pps` 0 sends back to back.
  PhaseResult runPhase(std::size_t count, std::size_t rate_pps) {
    const std::uint32_t first_sequence = next_sequence_;
    next_sequence_ += static_cast<std::uint32_t>(count);
    PhaseReceiver receiver(session_, first_sequence, count);

    wire::PacketBuffer out;
    PhaseResult result;
    const TimeUs start_us = nowUs();
    const TimeUs send_deadline_us = start_us + kMaxSendUs;
    const double interval_us = rate_pps == 0 ? 0.0 : 1e6 / static_cast<double>(rate_pps);
    TimeUs now_us = start_us;
    for (std::size_t i = 0; i < count && now_us < send_deadline_us; ++i) {
      // Absolute schedule: a late packet goes out at once, the rate holds on average.
      const auto due_us = start_us + static_cast<TimeUs>(static_cast<double>(i) * interval_us);
      if (due_us > now_us) std::this_thread::sleep_for(std::chrono::microseconds(due_us - now_us));
      const auto datagram = encode(wire::PacketType::kData, session_.stream_id,
                                   first_sequence + static_cast<std::uint32_t>(i), payload_, out);
      if (session_.sender.sendTo(datagram, session_.ingress)) ++result.sent;
      now_us = nowUs();
    }
    const TimeUs last_send_us = nowUs();
    const TimeUs drain_deadline_us = last_send_us + kDrainUs;
    while (receiver.received() < result.sent && nowUs() < drain_deadline_us) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    receiver.stop();

    result.received = receiver.received();
    result.duplicates = receiver.duplicates();
    result.offered_pps = static_cast<double>(result.sent) * 1e6 /
                         static_cast<double>(std::max<TimeUs>(last_send_us - start_us, 1));
    if (result.received > 0) {
      result.delivered_pps = static_cast<double>(result.received) * 1e6 /
                             static_cast<double>(std::max<TimeUs>(receiver.lastArrivalUs() - start_us, 1));
    }
    result.p50_us = percentile(receiver.latenciesUs(), 0.50);
    result.p99_us = percentile(receiver.latenciesUs(), 0.99);
    return result;
  }

 private:
  const Session& session_;
  const std::vector<std::byte> payload_;
  std::uint32_t next_sequence_ = 0;
};

struct TargetResult {
  PhaseResult latency;
  PhaseResult throughput;
};

TargetResult measure(const Session& session, const Options& options) {
  Measurement measurement(session, options.payload_bytes);
  measurement.warmUp();
  TargetResult result;
  result.latency = measurement.runPhase(options.latency_packets, options.latency_rate_pps);
  result.throughput = measurement.runPhase(options.throughput_packets, 0);
  return result;
}

TargetResult measureEcho(const Options& options) {
  const UdpSocket sender;
  const UdpSocket receiver;
  const UdpEcho echo(receiver.local());
  const Session session{echo.address(), false, makeStreamId(1, kLocalStreamId), sender, receiver};
  return measure(session, options);
}

TargetResult measureRelay(const Options& options) {
  const TempDir dir;
  RelayProcess relay(options.relay_path, dir.path());
  const RelayReady ready = relay.waitReady();
  const UdpSocket sender;
  const UdpSocket receiver;
  const Session session{ready.lines.front(), true, makeStreamId(ready.node_id, kLocalStreamId), sender,
                        receiver};
  return measure(session, options);
}

double ratio(double ours, double reference) { return reference == 0 ? 0.0 : ours / reference; }

void printRow(const char* name, const TargetResult& r) {
  std::printf("%-10s %9lld %9lld %9.2f %13.0f %13.0f %9.2f\n", name, static_cast<long long>(r.latency.p50_us),
              static_cast<long long>(r.latency.p99_us), r.latency.lossPercent(), r.throughput.offered_pps,
              r.throughput.delivered_pps, r.throughput.lossPercent());
  const std::size_t duplicates = r.latency.duplicates + r.throughput.duplicates;
  if (duplicates > 0) std::printf("  (%s delivered %zu duplicate packets)\n", name, duplicates);
}

void printRun(int run, const Options& options, const TargetResult& echo, const TargetResult& relay) {
  std::printf("\nrun %d/%d: payload %zu B; latency %zu pkts @ %zu pps; throughput %zu pkts back to back\n",
              run, options.repeat, options.payload_bytes, options.latency_packets, options.latency_rate_pps,
              options.throughput_packets);
  std::printf("%-10s %9s %9s %9s %13s %13s %9s\n", "target", "p50 us", "p99 us", "lat loss%", "offered pps",
              "delivered pps", "loss%");
  printRow("udp echo", echo);
  printRow("relay", relay);
  std::printf("%-10s %9.2f %9.2f %9s %13.2f %13.2f %9s\n", "ratio",
              ratio(static_cast<double>(relay.latency.p50_us), static_cast<double>(echo.latency.p50_us)),
              ratio(static_cast<double>(relay.latency.p99_us), static_cast<double>(echo.latency.p99_us)), "-",
              ratio(relay.throughput.offered_pps, echo.throughput.offered_pps),
              ratio(relay.throughput.delivered_pps, echo.throughput.delivered_pps), "-");
  std::printf("added by the relay hop: p50 %+lld us, p99 %+lld us\n",
              static_cast<long long>(relay.latency.p50_us - echo.latency.p50_us),
              static_cast<long long>(relay.latency.p99_us - echo.latency.p99_us));
  std::fflush(stdout);
}

}  // namespace
}  // namespace overline::bench

int main(int argc, char** argv) {
  using overline::bench::Options;
  Options options;
  options.relay_path = OVERLINE_RELAY_PATH;

  CLI::App app{
      "Packets per second and added latency through one overline-relay hop on loopback, "
      "next to a bare UDP echo."};
  app.add_option("--relay", options.relay_path, "overline-relay binary")->capture_default_str();
  app.add_option("--packets", options.throughput_packets, "packets sent back to back in the throughput phase")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{1}, std::size_t{100'000'000}));
  app.add_option("--latency-packets", options.latency_packets, "packets sent paced in the latency phase")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{1}, std::size_t{10'000'000}));
  app.add_option("--latency-rate-pps", options.latency_rate_pps, "send rate of the latency phase")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{1}, std::size_t{1'000'000}));
  app.add_option("--payload-bytes", options.payload_bytes, "DATA payload size")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{0}, overline::wire::kMaxPayloadBytes));
  app.add_option("--repeat", options.repeat, "run the whole measurement this many times")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  CLI11_PARSE(app, argc, argv);
  if (options.relay_path.empty()) {
    std::fprintf(stderr, "no relay binary known at build time; pass --relay PATH\n");
    return 2;
  }
  // Sequence numbers of all phases of one target share the 32-bit space.
  if (options.latency_packets + options.throughput_packets > 0xF0000000u) {
    std::fprintf(stderr, "--packets plus --latency-packets must stay below 2^32 - 2^28\n");
    return 2;
  }

  try {
    for (int run = 1; run <= options.repeat; ++run) {
      const auto echo = overline::bench::measureEcho(options);
      const auto relay = overline::bench::measureRelay(options);
      overline::bench::printRun(run, options, echo, relay);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "overline-bench-relay-hop: %s\n", e.what());
    return 1;
  }
  return 0;
}
