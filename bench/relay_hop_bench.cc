// overline-bench-relay-hop: packets per second and added latency through
// real overline-relay hops on loopback, printed next to the same figures for
// a bare UDP echo (blocking recv -> send in a thread) measured in the same
// run, and the forwarding cost of wire v2 authentication.
//
// The bench speaks wire v2 (common/wire) with the SDK's pure pieces:
//   both clients join with sdk::JoinHandshake (HELLO -> CHALLENGE -> HELLO
//   with cookie -> WELCOME) and tag every later packet with
//   sdk::SessionTagger (key_epoch 1, packet numbers from 1);
//   receiver: SUBSCRIBE(stream), tagged HELLO keepalives;
//   sender:   DATA(sequence i, timestamp_us = steady clock, payload), tagged.
// The receiver records arrival - timestamp_us for every DATA it gets.
//
// Targets, each started afresh for every run (relays in a temp dir):
//   udp echo      the reference; the sender tags its DATA the same way (with
//                 a local key) so that its per-packet work is the same.
//   1 hop         one relay: client -> relay -> client. The relay checks the
//                 client's tag (relay -> client packets are untagged), in both
//                 auth modes: insecure_lab_mode only turns off relay-to-relay
//                 authentication, so "auth" vs "lab" here is an A/A pair that
//                 shows the run's noise.
//   2 relays      (--chain 2) relay 1 -> relay 2, static neighbours: the
//                 sender joins relay 1, the receiver relay 2. With mesh keys
//                 relay 1 tags every DATA for relay 2, which checks it; in lab
//                 mode nothing between them is tagged.
// Per run the auth and lab targets are interleaved (their order alternates
// between runs). Per target there are two phases: latency (a paced, modest
// rate) and throughput (as fast as the sender can go). Over the latency
// phase the bench also reads the relays' CPU time (/proc/PID/task/*/schedstat)
// and divides it by the packets delivered: the forwarding cost per packet,
// which a shared machine disturbs far less than the packets per second. Every loop is bounded
// in count and in time; relays are stopped and temp files removed on every
// exit path except a signal.

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/random.h>
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
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "common/crypto/gmac.h"
#include "common/endpoint.h"
#include "common/types.h"
#include "common/wire/packet.h"
#include "sdk/core/join_handshake.h"
#include "sdk/core/session_tagger.h"
#include "sdk/hello_packet.h"

extern char** environ;

namespace overline::bench {
namespace {

namespace fs = std::filesystem;
using SteadyClock = std::chrono::steady_clock;

constexpr DurationUs kReadyTimeoutUs = 10 * kSecond;
constexpr DurationUs kJoinTimeoutUs = 5 * kSecond;
// Until the first DATA gets through: includes, for a chain, the relays
// seeing each other's links up (probes every 20 ms, up after 5 ACKs).
constexpr DurationUs kWarmUpTimeoutUs = 10 * kSecond;
constexpr DurationUs kHelloResendUs = 200 * kMillisecond;
// Client soft state (keepalive HELLO, SUBSCRIBE) is refreshed this often,
// below the relay's subscription expiry (1.5 s) and client expiry (5 s).
constexpr DurationUs kRefreshIntervalUs = 500 * kMillisecond;
// After the last send, wait at most this long for stragglers.
constexpr DurationUs kDrainUs = 500 * kMillisecond;
// Bound on the sending part of one phase, whatever the packet count.
constexpr DurationUs kMaxSendUs = 20 * kSecond;
constexpr DurationUs kStopTimeoutUs = 5 * kSecond;
// A chain's relays bind ports the bench picked (each must name the other's
// lines up front); another process may take one in between: start again.
constexpr int kChainStartAttempts = 3;
constexpr int kSocketBufferBytes = 8 << 20;
constexpr std::uint32_t kLocalStreamId = 1;
constexpr std::size_t kMeshSecretBytes = 32;

TimeUs nowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(SteadyClock::now().time_since_epoch()).count();
}

[[noreturn]] void throwErrno(const std::string& what) {
  throw std::runtime_error(what + ": " + std::strerror(errno));
}

void randomBytes(void* out, std::size_t size) {
  auto* bytes = static_cast<unsigned char*>(out);
  for (std::size_t done = 0; done < size;) {
    const ssize_t n = ::getrandom(bytes + done, size - done, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      throwErrno("getrandom");
    }
    done += static_cast<std::size_t>(n);
  }
}

std::string randomHex(std::size_t bytes) {
  std::vector<unsigned char> raw(bytes);
  randomBytes(raw.data(), raw.size());
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  for (const unsigned char b : raw) {
    hex += kDigits[b >> 4];
    hex += kDigits[b & 0xF];
  }
  return hex;
}

struct Options {
  std::string relay_path;
  std::size_t throughput_packets = 200'000;
  std::size_t latency_packets = 20'000;
  std::size_t latency_rate_pps = 10'000;
  std::size_t payload_bytes = 1000;
  int repeat = 1;
  int chain = 1;  // 1: echo and one hop; 2: also the two-relay chain
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

// CPU time (ns) the threads of process `pid` have run so far: the first
// field of /proc/PID/task/*/schedstat; 0 when unreadable.
std::uint64_t cpuTimeNs(pid_t pid) {
  std::uint64_t total = 0;
  std::error_code ec;
  const fs::path tasks = fs::path("/proc") / std::to_string(pid) / "task";
  for (auto it = fs::directory_iterator(tasks, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
    std::ifstream in(it->path() / "schedstat");
    std::uint64_t ns = 0;
    if (in >> ns) total += ns;
  }
  return total;
}

// How relays authenticate each other in one target.
enum class AuthMode : std::uint8_t {
  kMeshKeys,  // auth: {mesh_keys: [{epoch: 1, secret_hex: <random 32 bytes>}]}
  kLabMode,   // insecure_lab_mode: true
};

// The config of relay `node_id` with lines on `line_ports` ("127.0.0.1:0"
// for 0) and, when `neighbour` is set, that relay as its one neighbour.
std::string relayConfigYaml(NodeId node_id, const std::vector<std::uint16_t>& line_ports, NodeId neighbour,
                            const std::vector<std::uint16_t>& neighbour_ports, AuthMode auth,
                            const std::string& mesh_secret_hex) {
  std::ostringstream yaml;
  yaml << "node_id: " << node_id << "\n"
       << "region: bench\n"
       << "lines:\n";
  for (std::size_t i = 0; i < line_ports.size(); ++i) {
    yaml << "  - {name: " << static_cast<char>('a' + i) << ", bind: \"127.0.0.1:" << line_ports[i] << "\"}\n";
  }
  if (neighbour != kNoNode) {
    yaml << "neighbours:\n"
         << "  - node_id: " << neighbour << "\n"
         << "    lines: [";
    for (std::size_t i = 0; i < neighbour_ports.size(); ++i) {
      yaml << (i == 0 ? "" : ", ") << "\"127.0.0.1:" << neighbour_ports[i] << "\"";
    }
    yaml << "]\n";
  }
  yaml << "metrics: {listen: \"off\"}\n";
  if (auth == AuthMode::kMeshKeys) {
    yaml << "auth:\n"
         << "  mesh_keys:\n"
         << "    - {epoch: 1, secret_hex: \"" << mesh_secret_hex << "\"}\n";
  } else {
    yaml << "insecure_lab_mode: true\n";
  }
  return yaml.str();
}

// One overline-relay child process. The destructor stops it: SIGTERM, then
// SIGKILL if it has not exited within kStopTimeoutUs.
class RelayProcess {
 public:
  // Writes `config_yaml` to dir/<name>.yaml and starts `relay_path` on it,
  // with stdout and stderr going to dir/<name>.log.
  RelayProcess(const std::string& relay_path, const fs::path& dir, const std::string& name,
               const std::string& config_yaml)
      : config_(dir / (name + ".yaml")), ready_(dir / (name + ".ready.json")), log_(dir / (name + ".log")) {
    std::ofstream(config_) << config_yaml;
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

  pid_t pid() const { return pid_; }

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

wire::Header dataHeader(StreamId stream_id, std::uint32_t sequence) {
  wire::Header header;
  header.type = wire::PacketType::kData;
  header.stream_id = stream_id;
  header.sequence = sequence;
  header.timestamp_us = static_cast<std::uint64_t>(nowUs());
  return header;
}

// One client socket and, once it has a key, its tagger: what the SDK's
// Client does on the wire, without its threads. Used by one thread at a
// time (SessionTagger is not thread-safe): the sender by the main thread
// throughout; the receiver by the main thread while joining and warming up,
// by the PhaseReceiver thread during a phase.
class BenchClient {
 public:
  const UdpSocket& socket() const { return socket_; }

  // Joins the edge relay at `edge` (sdk::JoinHandshake: HELLO, CHALLENGE,
  // HELLO with the cookie, WELCOME); from then on every packet is tagged
  // with the session key. Throws after kJoinTimeoutUs without a WELCOME.
  void join(const Endpoint& edge, const char* who) {
    sdk::HelloNonce nonce;
    randomBytes(nonce.data(), nonce.size());  // new for every session
    sdk::JoinHandshake handshake(nonce, "");
    socket_.setReceiveTimeout(20 * kMillisecond);
    wire::PacketBuffer out;
    wire::PacketBuffer in;
    const TimeUs deadline = nowUs() + kJoinTimeoutUs;
    TimeUs next_hello_us = 0;
    while (nowUs() < deadline) {
      if (nowUs() >= next_hello_us) {
        const std::size_t size = handshake.hello(out, ++hello_sequence_);
        socket_.sendTo(std::span<const std::byte>(out.data(), size), edge);
        next_hello_us = nowUs() + kHelloResendUs;
      }
      Endpoint from;
      const auto datagram = socket_.receiveFrom(in, from);
      if (!datagram || from != edge) continue;
      const auto packet = wire::parsePacket(*datagram);
      if (!packet.ok()) continue;
      switch (handshake.onAnswer(*packet)) {
        case sdk::JoinHandshake::Step::kChallenged: next_hello_us = 0; break;  // echo the cookie now
        case sdk::JoinHandshake::Step::kJoined:
          nonce_ = nonce;
          tagger_.emplace(handshake.sessionKey());
          return;
        case sdk::JoinHandshake::Step::kIgnored: break;
      }
    }
    throw std::runtime_error(std::string("the ") + who + " got no WELCOME from " + edge.toString() + " within " +
                             std::to_string(kJoinTimeoutUs / kSecond) + " s");
  }

  // Tags with a random key of its own, without joining: the echo's sender
  // does a relay sender's per-packet work, and nobody checks the tags.
  void useLocalKey() {
    crypto::Key128 key;
    randomBytes(key.data(), key.size());
    tagger_.emplace(key);
  }

  // Encodes, tags when there is a key, sends to `to`.
  bool send(const wire::Header& header, std::span<const std::byte> payload, const Endpoint& to) {
    wire::PacketBuffer out;
    std::size_t size = wire::encodePacket(header, payload, out);
    if (tagger_) size = tagger_->tag(out, size);
    return size != 0 && socket_.sendTo(std::span<const std::byte>(out.data(), size), to);
  }

  bool sendData(StreamId stream_id, std::uint32_t sequence, std::span<const std::byte> payload,
                const Endpoint& to) {
    return send(dataHeader(stream_id, sequence), payload, to);
  }

  // A joined client's keepalive: a tagged HELLO with its nonce, no cookie.
  void sendKeepalive(const Endpoint& edge) {
    wire::PacketBuffer hello;
    const std::size_t size = sdk::encodeHello(nonce_, sdk::HelloCookie{}, "", hello, ++hello_sequence_);
    if (size == 0 || !tagger_) return;
    const std::size_t tagged = tagger_->tag(hello, size);
    if (tagged != 0) socket_.sendTo(std::span<const std::byte>(hello.data(), tagged), edge);
  }

  void sendSubscribe(StreamId stream_id, const Endpoint& edge) {
    wire::Header header;
    header.type = wire::PacketType::kSubscribe;
    header.stream_id = stream_id;
    send(header, {}, edge);
  }

 private:
  UdpSocket socket_;
  sdk::HelloNonce nonce_{};
  std::optional<sdk::SessionTagger> tagger_;
  std::uint32_t hello_sequence_ = 0;
};

// The two clients of one target and what they talk to.
struct Session {
  Endpoint sender_edge;    // where the sender joins and publishes DATA
  Endpoint receiver_edge;  // where the receiver joins and subscribes
  bool joins = false;      // true for relays: join, keepalives, SUBSCRIBE
  StreamId stream_id = 0;  // the stream DATA is published on
  BenchClient& sender;
  BenchClient& receiver;
  std::vector<pid_t> relays = {};  // whose CPU time a phase reads
};

std::uint64_t relaysCpuTimeNs(const Session& session) {
  std::uint64_t total = 0;
  for (const pid_t pid : session.relays) total += cpuTimeNs(pid);
  return total;
}

// The receiver's soft state: keepalive and SUBSCRIBE.
void refreshReceiver(const Session& session) {
  session.receiver.sendKeepalive(session.receiver_edge);
  session.receiver.sendSubscribe(session.stream_id, session.receiver_edge);
}

// Records DATA of one phase: sequences [first, first + count) of the stream.
// Its thread owns the receiver (socket reads and tagged sends) from
// construction until stop() returns, and refreshes its soft state meanwhile.
class PhaseReceiver {
 public:
  PhaseReceiver(const Session& session, std::uint32_t first_sequence, std::size_t count)
      : session_(session), first_sequence_(first_sequence), seen_(count, false) {
    latencies_us_.reserve(count);
    session_.receiver.socket().setReceiveTimeout(20 * kMillisecond);  // how fast stop is noticed
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
      const auto datagram = session_.receiver.socket().receive(buffer);
      const TimeUs arrival_us = nowUs();
      if (session_.joins && arrival_us >= next_refresh_us) {
        refreshReceiver(session_);
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
  // The relays' CPU time from the first send until the receiver stopped,
  // per packet received; 0 without relays.
  double relay_cpu_ns_per_packet = 0;

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

  // Joins, subscribes, then sends DATA until the first one comes back, so the
  // phases start with the subscription (for a chain: the relays' links and
  // the upstream subscription) in place and every thread and socket warm.
  void warmUp() {
    if (session_.joins) {
      session_.sender.join(session_.sender_edge, "sender");
      session_.receiver.join(session_.receiver_edge, "receiver");
      refreshReceiver(session_);
    }
    session_.receiver.socket().setReceiveTimeout(10 * kMillisecond);
    wire::PacketBuffer in;
    const TimeUs deadline = nowUs() + kWarmUpTimeoutUs;
    TimeUs next_refresh_us = nowUs() + kRefreshIntervalUs;
    bool delivered = false;
    while (!delivered && nowUs() < deadline) {
      if (session_.joins && nowUs() >= next_refresh_us) {
        session_.sender.sendKeepalive(session_.sender_edge);
        refreshReceiver(session_);
        next_refresh_us = nowUs() + kRefreshIntervalUs;
      }
      session_.sender.sendData(session_.stream_id, next_sequence_++, payload_, session_.sender_edge);
      for (auto datagram = session_.receiver.socket().receive(in); datagram && !delivered && nowUs() < deadline;
           datagram = session_.receiver.socket().receive(in)) {
        const auto packet = wire::parsePacket(*datagram);
        delivered = packet.ok() && packet->header.type == wire::PacketType::kData;
      }
    }
    if (!delivered) {
      throw std::runtime_error("no DATA delivered from " + session_.sender_edge.toString() + " to " +
                               session_.receiver_edge.toString() + " within " +
                               std::to_string(kWarmUpTimeoutUs / kSecond) + " s");
    }
  }

  // `rate_pps` 0 sends back to back.
  PhaseResult runPhase(std::size_t count, std::size_t rate_pps) {
    const std::uint32_t first_sequence = next_sequence_;
    next_sequence_ += static_cast<std::uint32_t>(count);
    PhaseReceiver receiver(session_, first_sequence, count);

    PhaseResult result;
    const std::uint64_t cpu_before_ns = relaysCpuTimeNs(session_);
    const TimeUs start_us = nowUs();
    const TimeUs send_deadline_us = start_us + kMaxSendUs;
    TimeUs next_keepalive_us = start_us + kRefreshIntervalUs;
    const double interval_us = rate_pps == 0 ? 0.0 : 1e6 / static_cast<double>(rate_pps);
    TimeUs now_us = start_us;
    for (std::size_t i = 0; i < count && now_us < send_deadline_us; ++i) {
      // Absolute schedule: a late packet goes out at once, the rate holds on average.
      const auto due_us = start_us + static_cast<TimeUs>(static_cast<double>(i) * interval_us);
      if (due_us > now_us) std::this_thread::sleep_for(std::chrono::microseconds(due_us - now_us));
      if (session_.sender.sendData(session_.stream_id, first_sequence + static_cast<std::uint32_t>(i), payload_,
                                   session_.sender_edge)) {
        ++result.sent;
      }
      now_us = nowUs();
      // The sender's keepalive goes from this thread: its tagger is not shared.
      if (session_.joins && now_us >= next_keepalive_us) {
        session_.sender.sendKeepalive(session_.sender_edge);
        next_keepalive_us = now_us + kRefreshIntervalUs;
      }
    }
    const TimeUs last_send_us = nowUs();
    const TimeUs drain_deadline_us = last_send_us + kDrainUs;
    while (receiver.received() < result.sent && nowUs() < drain_deadline_us) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    receiver.stop();
    const std::uint64_t cpu_after_ns = relaysCpuTimeNs(session_);

    result.received = receiver.received();
    if (!session_.relays.empty() && result.received > 0) {
      result.relay_cpu_ns_per_packet =
          static_cast<double>(cpu_after_ns - cpu_before_ns) / static_cast<double>(result.received);
    }
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
  BenchClient sender;
  BenchClient receiver;
  sender.useLocalKey();
  const UdpEcho echo(receiver.socket().local());
  const Session session{echo.address(), echo.address(), false, makeStreamId(1, kLocalStreamId), sender,
                        receiver};
  return measure(session, options);
}

TargetResult measureOneHop(const Options& options, AuthMode auth, const std::string& mesh_secret_hex) {
  const TempDir dir;
  RelayProcess relay(options.relay_path, dir.path(), "relay1",
                     relayConfigYaml(1, {0, 0}, kNoNode, {}, auth, mesh_secret_hex));
  const RelayReady ready = relay.waitReady();
  BenchClient sender;
  BenchClient receiver;
  const Session session{ready.lines.front(), ready.lines.front(), true,
                        makeStreamId(ready.node_id, kLocalStreamId), sender, receiver, {relay.pid()}};
  return measure(session, options);
}

// Relays 1 and 2, static neighbours of each other (a direct neighbour is an
// implicit route), two lines each on ports picked up front.
struct RunningChain {
  std::unique_ptr<TempDir> dir;
  std::unique_ptr<RelayProcess> first;   // node 1: the publisher's edge
  std::unique_ptr<RelayProcess> second;  // node 2: the subscriber's edge
  RelayReady first_ready;
  RelayReady second_ready;
};

RunningChain startChain(const Options& options, AuthMode auth, const std::string& mesh_secret_hex) {
  for (int attempt = 1;; ++attempt) {
    RunningChain chain;
    try {
      chain.dir = std::make_unique<TempDir>();
      std::vector<std::uint16_t> ports1;
      std::vector<std::uint16_t> ports2;
      {
        // All four held at once, so they differ.
        const UdpSocket a, b, c, d;
        ports1 = {a.local().port(), b.local().port()};
        ports2 = {c.local().port(), d.local().port()};
      }
      chain.first = std::make_unique<RelayProcess>(options.relay_path, chain.dir->path(), "relay1",
                                                   relayConfigYaml(1, ports1, 2, ports2, auth, mesh_secret_hex));
      chain.second = std::make_unique<RelayProcess>(options.relay_path, chain.dir->path(), "relay2",
                                                    relayConfigYaml(2, ports2, 1, ports1, auth, mesh_secret_hex));
      chain.first_ready = chain.first->waitReady();
      chain.second_ready = chain.second->waitReady();
      return chain;
    } catch (const std::exception& e) {
      // Most likely a picked port was taken meanwhile; anything else fails again.
      if (attempt >= kChainStartAttempts) throw;
      std::fprintf(stderr, "warning: starting the relay chain failed (%s); trying again\n", e.what());
    }
  }
}

TargetResult measureChain(const Options& options, AuthMode auth, const std::string& mesh_secret_hex) {
  const RunningChain chain = startChain(options, auth, mesh_secret_hex);
  BenchClient sender;
  BenchClient receiver;
  const Session session{chain.first_ready.lines.front(),
                        chain.second_ready.lines.front(),
                        true,
                        makeStreamId(chain.first_ready.node_id, kLocalStreamId),
                        sender,
                        receiver,
                        {chain.first->pid(), chain.second->pid()}};
  return measure(session, options);
}

struct Target {
  const char* name;
  int relays;  // 0: the udp echo
  AuthMode auth;
};
// Fixed order of the tables; the measuring order alternates (runOrder).
constexpr Target kTargets[] = {
    {"udp echo", 0, AuthMode::kMeshKeys},       {"1 hop auth", 1, AuthMode::kMeshKeys},
    {"1 hop lab", 1, AuthMode::kLabMode},       {"2 relays auth", 2, AuthMode::kMeshKeys},
    {"2 relays lab", 2, AuthMode::kLabMode},
};
constexpr std::size_t kEcho = 0;
// {auth, lab} target indices per relay count (1, 2).
constexpr std::size_t kPairs[2][2] = {{1, 2}, {3, 4}};

std::size_t targetCount(const Options& options) { return options.chain >= 2 ? 5 : 3; }

// The echo first, then each auth/lab pair, auth first in odd runs and lab
// first in even ones, so neither mode always runs right after the other.
std::vector<std::size_t> runOrder(int run, const Options& options) {
  std::vector<std::size_t> order = {kEcho};
  for (int relays = 1; relays <= options.chain; ++relays) {
    const auto [auth, lab] = kPairs[relays - 1];
    if (run % 2 == 1) {
      order.insert(order.end(), {auth, lab});
    } else {
      order.insert(order.end(), {lab, auth});
    }
  }
  return order;
}

TargetResult measureTarget(const Target& target, const Options& options, const std::string& mesh_secret_hex) {
  switch (target.relays) {
    case 0: return measureEcho(options);
    case 1: return measureOneHop(options, target.auth, mesh_secret_hex);
    default: return measureChain(options, target.auth, mesh_secret_hex);
  }
}

double ratio(double ours, double reference) { return reference == 0 ? 0.0 : ours / reference; }

// 1 - auth/lab delivered packets per second: the share of the lab-mode rate
// that authentication costs.
double authCost(const TargetResult& auth, const TargetResult& lab) {
  return 1.0 - ratio(auth.throughput.delivered_pps, lab.throughput.delivered_pps);
}

// The same from the relays' CPU time per packet (latency phase): the rate a
// CPU-bound relay would lose, 1 - cpu_lab/cpu_auth.
double authCpuCost(const TargetResult& auth, const TargetResult& lab) {
  return 1.0 - ratio(lab.latency.relay_cpu_ns_per_packet, auth.latency.relay_cpu_ns_per_packet);
}

struct Spread {
  double min = 0;
  double median = 0;
  double max = 0;
};

// Median of an even count: the mean of the middle two.
Spread spreadOf(std::vector<double> values) {
  if (values.empty()) return {};
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  const double median = n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
  return {values.front(), median, values.back()};
}

template <typename F>
Spread spreadOf(const std::vector<TargetResult>& runs, F value) {
  std::vector<double> values;
  for (const TargetResult& r : runs) values.push_back(value(r));
  return spreadOf(std::move(values));
}

const char* pairName(int relays) { return relays == 1 ? "1 hop" : "2 relays"; }

// "-" where there is no relay.
std::string cpuText(double ns) { return ns == 0 ? "-" : std::to_string(std::llround(ns)); }

void printRow(const char* name, const TargetResult& r, const TargetResult& echo) {
  std::printf("%-14s %8lld %8lld %9.2f %11s %12.0f %13.0f %7.2f %8.2f\n", name,
              static_cast<long long>(r.latency.p50_us), static_cast<long long>(r.latency.p99_us),
              r.latency.lossPercent(), cpuText(r.latency.relay_cpu_ns_per_packet).c_str(),
              r.throughput.offered_pps, r.throughput.delivered_pps, r.throughput.lossPercent(),
              ratio(r.throughput.delivered_pps, echo.throughput.delivered_pps));
  const std::size_t duplicates = r.latency.duplicates + r.throughput.duplicates;
  if (duplicates > 0) std::printf("  (%s delivered %zu duplicate packets)\n", name, duplicates);
}

void printRun(int run, const Options& options, const std::vector<std::size_t>& order,
              const std::vector<std::vector<TargetResult>>& results) {
  std::printf("\nrun %d/%d: payload %zu B; latency %zu pkts @ %zu pps; throughput %zu pkts back to back\n",
              run, options.repeat, options.payload_bytes, options.latency_packets, options.latency_rate_pps,
              options.throughput_packets);
  std::printf("measured in the order:");
  for (std::size_t i = 0; i < order.size(); ++i) std::printf("%s %s", i == 0 ? "" : ",", kTargets[order[i]].name);
  std::printf("\n%-14s %8s %8s %9s %11s %12s %13s %7s %8s\n", "target", "p50 us", "p99 us", "lat loss%",
              "cpu ns/pkt", "offered pps", "delivered pps", "loss%", "vs echo");
  const TargetResult& echo = results[kEcho].back();
  for (std::size_t t = 0; t < targetCount(options); ++t) printRow(kTargets[t].name, results[t].back(), echo);
  for (int relays = 1; relays <= options.chain; ++relays) {
    const auto [auth, lab] = kPairs[relays - 1];
    const TargetResult& a = results[auth].back();
    const TargetResult& l = results[lab].back();
    std::printf("auth cost, %s: %+.1f%% of the lab-mode rate, %+.1f%% by relay CPU (%+.0f ns/pkt); p50 %+lld us, "
                "p99 %+lld us\n",
                pairName(relays), 100.0 * authCost(a, l), 100.0 * authCpuCost(a, l),
                a.latency.relay_cpu_ns_per_packet - l.latency.relay_cpu_ns_per_packet,
                static_cast<long long>(a.latency.p50_us - l.latency.p50_us),
                static_cast<long long>(a.latency.p99_us - l.latency.p99_us));
  }
  std::fflush(stdout);
}

void printSummary(const Options& options, const std::vector<std::vector<TargetResult>>& results) {
  const std::size_t runs = results[kEcho].size();
  std::printf("\nsummary of %zu run%s: min / median / max over the runs (loss%%: median)\n", runs,
              runs == 1 ? "" : "s");
  std::printf("%-14s %29s %7s %20s %20s %23s\n", "target", "delivered pps", "loss%", "p50 us", "p99 us",
              "relay cpu ns/pkt");
  for (std::size_t t = 0; t < targetCount(options); ++t) {
    const auto pps = spreadOf(results[t], [](const TargetResult& r) { return r.throughput.delivered_pps; });
    const auto loss = spreadOf(results[t], [](const TargetResult& r) { return r.throughput.lossPercent(); });
    const auto p50 = spreadOf(results[t], [](const TargetResult& r) { return double(r.latency.p50_us); });
    const auto p99 = spreadOf(results[t], [](const TargetResult& r) { return double(r.latency.p99_us); });
    const auto cpu = spreadOf(results[t], [](const TargetResult& r) { return r.latency.relay_cpu_ns_per_packet; });
    std::printf("%-14s %7.0f / %7.0f / %7.0f %7.2f %6.0f / %5.0f / %5.0f %6.0f / %5.0f / %5.0f %6s / %6s / %6s\n",
                kTargets[t].name, pps.min, pps.median, pps.max, loss.median, p50.min, p50.median, p50.max, p99.min,
                p99.median, p99.max, cpuText(cpu.min).c_str(), cpuText(cpu.median).c_str(),
                cpuText(cpu.max).c_str());
  }
  std::printf(
      "\nauthentication cost, auth and lab of the same run paired (min / median / max; in brackets: from the "
      "medians):\n"
      "  by rate: 1 - auth/lab delivered pps; by CPU: 1 - lab/auth relay CPU ns per packet (latency phase)\n");
  for (int relays = 1; relays <= options.chain; ++relays) {
    const auto [auth, lab] = kPairs[relays - 1];
    std::vector<double> costs;
    std::vector<double> cpu_costs;
    std::vector<double> cpu_deltas;
    std::vector<double> p50_deltas;
    for (std::size_t run = 0; run < runs; ++run) {
      const TargetResult& a = results[auth][run];
      const TargetResult& l = results[lab][run];
      costs.push_back(100.0 * authCost(a, l));
      cpu_costs.push_back(100.0 * authCpuCost(a, l));
      cpu_deltas.push_back(a.latency.relay_cpu_ns_per_packet - l.latency.relay_cpu_ns_per_packet);
      p50_deltas.push_back(double(a.latency.p50_us - l.latency.p50_us));
    }
    const auto median_of = [&](std::size_t t, auto value) { return spreadOf(results[t], value).median; };
    const auto pps = [](const TargetResult& r) { return r.throughput.delivered_pps; };
    const auto cpu = [](const TargetResult& r) { return r.latency.relay_cpu_ns_per_packet; };
    const Spread cost = spreadOf(costs);
    const Spread cpu_cost = spreadOf(cpu_costs);
    const Spread cpu_delta = spreadOf(cpu_deltas);
    const Spread p50 = spreadOf(p50_deltas);
    std::printf("%-9s %s\n", pairName(relays),
                relays == 1 ? "[an A/A pair: lab mode checks the client's tag too; this is the noise]"
                            : "[relay 1 tags every DATA for relay 2, which checks it]");
    std::printf("  by rate %+6.1f%% / %+6.1f%% / %+6.1f%% [%+.1f%%]\n", cost.min, cost.median, cost.max,
                100.0 * (1.0 - ratio(median_of(auth, pps), median_of(lab, pps))));
    std::printf("  by CPU  %+6.1f%% / %+6.1f%% / %+6.1f%% [%+.1f%%]; %+.0f / %+.0f / %+.0f ns per packet\n",
                cpu_cost.min, cpu_cost.median, cpu_cost.max,
                100.0 * (1.0 - ratio(median_of(lab, cpu), median_of(auth, cpu))), cpu_delta.min, cpu_delta.median,
                cpu_delta.max);
    std::printf("  latency p50 %+.0f / %+.0f / %+.0f us\n", p50.min, p50.median, p50.max);
  }
  std::fflush(stdout);
}

}  // namespace
}  // namespace overline::bench

int main(int argc, char** argv) {
  using overline::bench::Options;
  Options options;
  options.relay_path = OVERLINE_RELAY_PATH;

  CLI::App app{
      "Packets per second and added latency through overline-relay hops on loopback, next to a bare UDP "
      "echo, with relay-to-relay authentication (mesh keys) and without it (insecure_lab_mode)."};
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
  app.add_option("--chain", options.chain,
                 "1: the echo and one relay hop; 2: also two relays in a chain (relay 1 -> relay 2)")
      ->capture_default_str()
      ->check(CLI::Range(1, 2));
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
    using namespace overline::bench;
    // One random mesh secret for the whole run: relays of a chain share it.
    const std::string mesh_secret_hex = randomHex(kMeshSecretBytes);
    std::vector<std::vector<TargetResult>> results(std::size(kTargets));
    for (int run = 1; run <= options.repeat; ++run) {
      const std::vector<std::size_t> order = runOrder(run, options);
      for (const std::size_t t : order) results[t].push_back(measureTarget(kTargets[t], options, mesh_secret_hex));
      printRun(run, options, order, results);
    }
    printSummary(options, results);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "overline-bench-relay-hop: %s\n", e.what());
    return 1;
  }
  return 0;
}
