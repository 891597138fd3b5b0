// overline-impair between two UDP sockets of this test, A and B: A sends to
// the proxy's a_side, B to its b_side. Checks the configured delay and loss,
// that each side sees the proxy's socket as its peer's source address, the
// down/up/outage commands, foreign-source drops, and the process contract
// (one-line config errors, stdin EOF keeps running, quit/SIGTERM exit 0).
// Then the switchboard between four sockets standing for two relays' lines:
// every pair (crossed ones too) works with the sender's stand-in as source,
// line-down cuts exactly one line's pairs, strangers are dropped.
//
// No fixed sleeps: every wait polls for a condition until a deadline.

#include <catch2/catch.hpp>

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "common/endpoint.h"
#include "deploy/localmesh/child_process.h"

namespace lm = overline::localmesh;
namespace fs = std::filesystem;
using overline::Endpoint;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

const std::string kImpair = OVERLINE_IMPAIR_BIN;
const std::string kLink = "a-b";

struct TempDir {
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "overline-impair-XXXXXX").string();
    path = mkdtemp(pattern.data());
  }
  ~TempDir() { fs::remove_all(path); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string path;
};

// A test datagram carries its sequence number and its send time, so the
// receiver can measure the one-way delay on this process's clock.
struct Probe {
  std::uint64_t sequence = 0;
  Clock::time_point sent_at;
  Clock::time_point received_at;
  Endpoint from;
};

class UdpSocket {
 public:
  UdpSocket() {
    fd_ = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd_ >= 0);
    const int buffer_bytes = 4 << 20;  // room for every burst the tests send
    setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &buffer_bytes, sizeof(buffer_bytes));
    const sockaddr_in any_port = Endpoint(0x7f000001, 0).toSockaddr();
    REQUIRE(bind(fd_, reinterpret_cast<const sockaddr*>(&any_port), sizeof(any_port)) == 0);
    sockaddr_in bound{};
    socklen_t len = sizeof(bound);
    REQUIRE(getsockname(fd_, reinterpret_cast<sockaddr*>(&bound), &len) == 0);
    local_ = Endpoint::fromSockaddr(bound);
  }
  ~UdpSocket() { close(fd_); }
  UdpSocket(const UdpSocket&) = delete;
  UdpSocket& operator=(const UdpSocket&) = delete;

  const Endpoint& local() const { return local_; }

  void send(const Endpoint& to, std::uint64_t sequence, std::size_t bytes = 100) {
    std::vector<char> datagram(std::max<std::size_t>(bytes, 16), 0);
    const std::int64_t now_ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
    std::memcpy(datagram.data(), &sequence, 8);
    std::memcpy(datagram.data() + 8, &now_ns, 8);
    const sockaddr_in addr = to.toSockaddr();
    REQUIRE(sendto(fd_, datagram.data(), datagram.size(), 0, reinterpret_cast<const sockaddr*>(&addr),
                   sizeof(addr)) == static_cast<ssize_t>(datagram.size()));
  }

  // The next datagram, waiting up to `timeout` (0 = only what is queued now).
  std::optional<Probe> receive(std::chrono::milliseconds timeout) {
    pollfd pfd{fd_, POLLIN, 0};
    if (poll(&pfd, 1, static_cast<int>(timeout.count())) <= 0) return std::nullopt;
    char datagram[2048];
    sockaddr_in from{};
    socklen_t len = sizeof(from);
    const ssize_t n = recvfrom(fd_, datagram, sizeof(datagram), 0, reinterpret_cast<sockaddr*>(&from), &len);
    if (n < 16) return std::nullopt;
    Probe probe;
    std::int64_t sent_ns = 0;
    std::memcpy(&probe.sequence, datagram, 8);
    std::memcpy(&sent_ns, datagram + 8, 8);
    probe.sent_at = Clock::time_point(std::chrono::nanoseconds(sent_ns));
    probe.received_at = Clock::now();
    probe.from = Endpoint::fromSockaddr(from);
    return probe;
  }

 private:
  int fd_ = -1;
  Endpoint local_;
};

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Polls `condition` every 10 ms until it holds or `timeout` passes.
template <typename Condition>
bool waitFor(std::chrono::milliseconds timeout, Condition condition) {
  const auto deadline = Clock::now() + timeout;
  while (!condition()) {
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

std::string linkConfig(const Endpoint& a, const Endpoint& b, const std::string& a_to_b,
                       const std::string& b_to_a) {
  return "links:\n  - name: " + kLink + "\n    a: \"" + a.toString() + "\"\n    a_side: \"127.0.0.1:0\"\n" +
         "    b: \"" + b.toString() + "\"\n    b_side: \"127.0.0.1:0\"\n    a_to_b: " + a_to_b +
         "\n    b_to_a: " + b_to_a + "\nseed: 7\n";
}

// One overline-impair process, its stdin and stdout wired to the test.
class ImpairProcess {
 public:
  explicit ImpairProcess(const std::string& config_yaml, std::vector<std::string> extra_args = {}) {
    const std::string config_path = dir_.path + "/impair.yaml";
    std::ofstream(config_path) << config_yaml;
    const std::string ready_path = dir_.path + "/ready.json";
    std::vector<std::string> argv = {kImpair, "--config", config_path, "--ready-file", ready_path};
    argv.insert(argv.end(), extra_args.begin(), extra_args.end());
    std::string error;
    process_ = lm::ChildProcess::start(argv, logPath(), &error, /*with_stdin=*/true);
    REQUIRE(process_.has_value());
    const bool ready = waitFor(10s, [&] { return fs::exists(ready_path) || !process_->running(); });
    INFO(readFile(logPath()));
    REQUIRE(ready);
    REQUIRE(fs::exists(ready_path));
    const auto json = nlohmann::json::parse(readFile(ready_path));
    REQUIRE(json["links"].size() <= 1);
    if (!json["links"].empty()) {
      REQUIRE(json["links"][0]["name"] == kLink);
      a_side_ = *Endpoint::parse(json["links"][0]["a_side"].get<std::string>());
      b_side_ = *Endpoint::parse(json["links"][0]["b_side"].get<std::string>());
    }
    for (const auto& line : json.value("switchboard", nlohmann::json::array())) {
      stand_ins_[line["name"].get<std::string>()] = *Endpoint::parse(line["stand_in"].get<std::string>());
    }
  }

  const Endpoint& aSide() const { return a_side_; }
  const Endpoint& bSide() const { return b_side_; }
  // The stand-in of switchboard line `name`, as the ready file reports it.
  const Endpoint& standIn(const std::string& name) const { return stand_ins_.at(name); }
  lm::ChildProcess& process() { return *process_; }
  std::string logPath() const { return dir_.path + "/impair.log"; }

  // Sends one command line and returns its one-line answer.
  std::string command(const std::string& line) {
    REQUIRE(process_->writeLine(line));
    const auto answer = process_->nextLine(5s);
    INFO("command: " << line << "\nlog:\n" << readFile(logPath()));
    REQUIRE(answer.has_value());
    return *answer;
  }

  nlohmann::json stats() {
    const std::string answer = command("stats");
    return nlohmann::json::parse(answer)["links"][0];
  }

  // Waits until the proxy has taken in `count` packets in `direction`.
  void waitReceived(const std::string& direction, std::uint64_t count) {
    const bool got = waitFor(5s, [&] { return stats()[direction]["received"].get<std::uint64_t>() >= count; });
    INFO(stats().dump());
    REQUIRE(got);
  }

 private:
  TempDir dir_;
  std::optional<lm::ChildProcess> process_;
  Endpoint a_side_;
  Endpoint b_side_;
  std::map<std::string, Endpoint> stand_ins_;
};

std::chrono::microseconds latency(const Probe& probe) {
  return std::chrono::duration_cast<std::chrono::microseconds>(probe.received_at - probe.sent_at);
}

std::chrono::microseconds median(std::vector<std::chrono::microseconds> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

}  // namespace

TEST_CASE("each direction gets its own delay and replies come back from a_side") {
  UdpSocket a;
  UdpSocket b;
  ImpairProcess proxy(linkConfig(a.local(), b.local(), "{delay_ms: 40}", "{delay_ms: 10}"));
  std::vector<std::chrono::microseconds> forward;
  std::vector<std::chrono::microseconds> back;
  for (std::uint64_t i = 0; i < 20; ++i) {
    a.send(proxy.aSide(), i);
    const auto at_b = b.receive(3000ms);
    REQUIRE(at_b.has_value());
    CHECK(at_b->sequence == i);
    CHECK(at_b->from == proxy.bSide());  // B sees A's packets coming from b_side
    forward.push_back(latency(*at_b));

    b.send(at_b->from, i);  // B answers the address it saw
    const auto at_a = a.receive(3000ms);
    REQUIRE(at_a.has_value());
    CHECK(at_a->sequence == i);
    CHECK(at_a->from == proxy.aSide());  // and A sees the reply coming from a_side
    back.push_back(latency(*at_a));
  }
  // Never early (but for the proxy's microsecond rounding); late only by
  // timer resolution and scheduling (generous for loaded CI machines, still
  // far below a doubled delay).
  CHECK(*std::min_element(forward.begin(), forward.end()) >= 40ms - 1us);
  CHECK(median(forward) <= 65ms);
  CHECK(*std::min_element(back.begin(), back.end()) >= 10ms - 1us);
  CHECK(median(back) <= 35ms);
}

TEST_CASE("random loss over 2000 packets is close to the configured rate") {
  UdpSocket a;
  UdpSocket b;
  ImpairProcess proxy(linkConfig(a.local(), b.local(), "{loss_percent: 10}", "{}"));
  constexpr std::uint64_t kPackets = 2000;
  constexpr std::uint64_t kWindow = 100;
  std::uint64_t received_at_b = 0;
  // Send in windows and let each one through before the next, so the only
  // losses are the proxy's (no socket buffer overflows).
  for (std::uint64_t sent = 0; sent < kPackets;) {
    for (std::uint64_t i = 0; i < kWindow; ++i) a.send(proxy.aSide(), sent++);
    proxy.waitReceived("a_to_b", sent);
    const auto delivered = proxy.stats()["a_to_b"]["delivered"].get<std::uint64_t>();
    while (received_at_b < delivered && b.receive(2000ms)) ++received_at_b;
    REQUIRE(received_at_b == delivered);
  }
  const auto stats = proxy.stats()["a_to_b"];
  INFO(stats.dump());
  CHECK(stats["received"] == kPackets);
  CHECK(stats["dropped"]["random_loss"].get<std::uint64_t>() + stats["delivered"].get<std::uint64_t>() == kPackets);
  constexpr std::uint64_t kDatagramBytes = 100;  // UdpSocket::send's default
  CHECK(stats["received_bytes"] == kPackets * kDatagramBytes);
  CHECK(stats["delivered_bytes"] == received_at_b * kDatagramBytes);
  const double loss = 1.0 - static_cast<double>(received_at_b) / kPackets;
  CHECK(loss == Approx(0.10).margin(0.03));  // binomial sd is 0.0067
}

TEST_CASE("down stops a direction, up resumes it, outage ends by itself") {
  UdpSocket a;
  UdpSocket b;
  ImpairProcess proxy(linkConfig(a.local(), b.local(), "{}", "{}"));

  CHECK(proxy.command("down " + kLink + " a_to_b") == "ok");
  for (std::uint64_t i = 0; i < 10; ++i) a.send(proxy.aSide(), i);
  proxy.waitReceived("a_to_b", 10);
  // Undelayed packets leave while the proxy handles them: had any been
  // forwarded, it would be in B's socket by now.
  CHECK_FALSE(b.receive(0ms).has_value());
  auto stats = proxy.stats();
  CHECK(stats["a_to_b"]["dropped"]["outage"] == 10);
  CHECK(stats["a_to_b"]["down"] == true);

  // The other direction still works.
  b.send(proxy.bSide(), 100);
  const auto reply = a.receive(3000ms);
  REQUIRE(reply.has_value());
  CHECK(reply->sequence == 100);

  CHECK(proxy.command("up " + kLink + " a_to_b") == "ok");
  for (std::uint64_t i = 10; i < 20; ++i) a.send(proxy.aSide(), i);
  for (std::uint64_t i = 10; i < 20; ++i) {
    const auto probe = b.receive(3000ms);
    REQUIRE(probe.has_value());
    CHECK(probe->sequence == i);
  }

  // The outage starts after this moment, so nothing may arrive within 300 ms of it.
  const auto before_outage = Clock::now();
  CHECK(proxy.command("outage " + kLink + " both 300") == "ok");
  std::optional<Probe> first;
  std::uint64_t sequence = 1000;
  const bool resumed = waitFor(5s, [&] {
    a.send(proxy.aSide(), sequence++);
    first = b.receive(0ms);
    return first.has_value();
  });
  REQUIRE(resumed);
  CHECK(first->received_at - before_outage >= 299ms);  // 1 ms for the proxy's microsecond rounding
  CHECK(proxy.stats()["a_to_b"]["dropped"]["outage"].get<std::uint64_t>() > 10);
}

TEST_CASE("a rate cap spaces a burst out") {
  UdpSocket a;
  UdpSocket b;
  // 1000-byte datagrams at 800 kbit/s: one every 10 ms.
  ImpairProcess proxy(linkConfig(a.local(), b.local(), "{rate_kbps: 800}", "{}"));
  for (std::uint64_t i = 0; i < 20; ++i) a.send(proxy.aSide(), i, 1000);
  std::vector<Probe> got;
  while (got.size() < 20) {
    auto probe = b.receive(3000ms);
    REQUIRE(probe.has_value());
    got.push_back(*probe);
  }
  // The bottleneck serialises the 20 packets one after another, starting no
  // earlier than the first send: the last cannot arrive within 200 ms of it
  // (less 1 ms for the proxy's microsecond rounding). Measured from send
  // times, so a slow test thread cannot make this pass or fail.
  CHECK(got.back().received_at - got.front().sent_at >= 199ms);
  CHECK(got.back().received_at - got.front().sent_at <= 1000ms);
  for (std::size_t i = 0; i < got.size(); ++i) CHECK(got[i].sequence == i);
}

TEST_CASE("packets from anyone but A or B are dropped and counted") {
  UdpSocket a;
  UdpSocket b;
  UdpSocket stranger;
  ImpairProcess proxy(linkConfig(a.local(), b.local(), "{}", "{}"));
  for (std::uint64_t i = 0; i < 5; ++i) {
    stranger.send(proxy.aSide(), i);
    stranger.send(proxy.bSide(), i);
  }
  const bool counted = waitFor(5s, [&] {
    const auto foreign = proxy.stats()["foreign_dropped"];
    return foreign["a_side"] == 5 && foreign["b_side"] == 5;
  });
  CHECK(counted);
  CHECK_FALSE(a.receive(0ms).has_value());
  CHECK_FALSE(b.receive(0ms).has_value());
  CHECK_FALSE(stranger.receive(0ms).has_value());
}

TEST_CASE("every command line gets one answer line") {
  UdpSocket a;
  UdpSocket b;
  ImpairProcess proxy(linkConfig(a.local(), b.local(), "{}", "{}"));
  CHECK(proxy.command("set " + kLink + " both delay_ms=5 jitter_ms=1 loss_percent=0.5") == "ok");
  CHECK(proxy.command("set " + kLink + " a_to_b burst_loss_percent=5 burst_len=3 rate_kbps=10000") == "ok");
  const auto settings = proxy.stats()["a_to_b"]["settings"];
  CHECK(settings["delay_ms"] == 5.0);
  CHECK(settings["burst_len"] == 3.0);
  CHECK(settings["rate_kbps"] == 10000.0);
  CHECK(proxy.stats()["b_to_a"]["settings"]["rate_kbps"] == 0.0);

  const std::vector<std::string> bad = {
      "set nope both delay_ms=1",
      "set " + kLink + " sideways delay_ms=1",
      "set " + kLink + " a_to_b delay=1",
      "set " + kLink + " a_to_b loss_percent=101",
      "set " + kLink + " a_to_b burst_loss_percent=90 burst_len=1",
      "outage " + kLink + " both soon",
      "launch",
  };
  for (const auto& line : bad) {
    INFO(line);
    CHECK(proxy.command(line).rfind("error: ", 0) == 0);
  }
  // A rejected set changes nothing.
  CHECK(proxy.stats()["a_to_b"]["settings"]["loss_percent"] == 0.5);
}

TEST_CASE("stdin EOF keeps the proxy running; quit and SIGTERM exit 0") {
  UdpSocket a;
  UdpSocket b;
  const std::string config = linkConfig(a.local(), b.local(), "{}", "{}");

  SECTION("EOF, then SIGTERM") {
    ImpairProcess proxy(config);
    proxy.process().closeStdin();
    a.send(proxy.aSide(), 1);
    REQUIRE(b.receive(3000ms).has_value());
    CHECK(proxy.process().running());
    proxy.process().signal(SIGTERM);
    const auto status = proxy.process().waitExit(5s);
    REQUIRE(status.has_value());
    CHECK(WIFEXITED(*status));
    CHECK(WEXITSTATUS(*status) == 0);
  }
  SECTION("quit") {
    ImpairProcess proxy(config);
    CHECK(proxy.command("quit") == "ok");
    const auto status = proxy.process().waitExit(5s);
    REQUIRE(status.has_value());
    CHECK(WIFEXITED(*status));
    CHECK(WEXITSTATUS(*status) == 0);
  }
  SECTION("--no-stdin ignores stdin") {
    ImpairProcess proxy(config, {"--no-stdin"});
    a.send(proxy.aSide(), 1);
    REQUIRE(b.receive(3000ms).has_value());
    proxy.process().signal(SIGINT);
    const auto status = proxy.process().waitExit(5s);
    REQUIRE(status.has_value());
    CHECK(WIFEXITED(*status));
    CHECK(WEXITSTATUS(*status) == 0);
  }
}

TEST_CASE("a bad config is one line naming the key, exit 2") {
  TempDir dir;
  struct Case {
    std::string yaml;
    std::string key;
  };
  const std::string link = "links: [{name: x, a: \"127.0.0.1:9\", b: \"127.0.0.1:10\", ";
  const std::vector<Case> cases = {
      {link + "a_side: \"x\", b_side: \"127.0.0.1:0\"}]\n", "links[0].a_side: expected IPv4:port"},
      {link + "a_side: \"127.0.0.1:0\", b_side: \"127.0.0.1:0\", a_to_b: {loss_percent: 150}}]\n",
       "links[0].a_to_b.loss_percent"},
      {link + "a_side: \"127.0.0.1:0\", b_side: \"127.0.0.1:0\", b_to_a: {burst: {mean_loss_percent: 5}}}]\n",
       "links[0].b_to_a.burst.mean_burst_packets"},
      {link + "a_side: \"127.0.0.1:0\", b_side: \"127.0.0.1:0\", c: 1}]\n", "links[0].c: unknown key"},
      {"links: []\n", "links"},
  };
  for (const auto& c : cases) {
    INFO(c.yaml);
    const std::string config_path = dir.path + "/bad.yaml";
    std::ofstream(config_path) << c.yaml;
    std::string error;
    auto process = lm::ChildProcess::start({kImpair, "--config", config_path}, dir.path + "/stderr.txt", &error);
    REQUIRE(process.has_value());
    const auto status = process->waitExit(10s);
    REQUIRE(status.has_value());
    CHECK(WIFEXITED(*status));
    CHECK(WEXITSTATUS(*status) == 2);
    const std::string text = readFile(dir.path + "/stderr.txt");
    CHECK(text.find(c.key) != std::string::npos);
    CHECK(std::count(text.begin(), text.end(), '\n') == 1);
    fs::remove(dir.path + "/stderr.txt");
  }
}

namespace {

// Four sockets standing for two relays' lines, and a switchboard between
// them: r1.l0 r1.l1 r2.l0 r2.l1, every stand-in on 127.0.0.1 with port 0.
struct SwitchboardLines {
  static constexpr std::array<const char*, 4> kNames = {"r1.l0", "r1.l1", "r2.l0", "r2.l1"};

  std::string config(const std::string& extra_yaml = "") const {
    std::string yaml = extra_yaml + "switchboard:\n  lines:\n";
    for (std::size_t i = 0; i < kNames.size(); ++i) {
      yaml += "    - {name: \"" + std::string(kNames[i]) + "\", real: \"" + sockets[i].local().toString() +
              "\", stand_in: \"127.0.0.1:0\"}\n";
    }
    return yaml + "seed: 3\n";
  }

  std::array<UdpSocket, 4> sockets;
};

// Switchboard stats of line `name`.
nlohmann::json lineStats(ImpairProcess& proxy, const std::string& name) {
  const auto stats = nlohmann::json::parse(proxy.command("stats"));
  for (const auto& line : stats["switchboard"]["lines"]) {
    if (line["name"] == name) return line;
  }
  FAIL("no stats for line " << name);
  return {};
}

}  // namespace

TEST_CASE("switchboard: every line pair works, crossed ones too, with the sender's stand-in as source") {
  SwitchboardLines lines;
  // A link in the same process as the switchboard: both modes coexist.
  UdpSocket a;
  UdpSocket b;
  const std::string link = "links:\n  - {name: " + kLink + ", a: \"" + a.local().toString() +
                           "\", a_side: \"127.0.0.1:0\", b: \"" + b.local().toString() +
                           "\", b_side: \"127.0.0.1:0\"}\n";
  ImpairProcess proxy(lines.config(link));
  for (std::size_t from = 0; from < 4; ++from) {
    for (std::size_t to = 0; to < 4; ++to) {
      if (from == to) continue;
      const std::string from_name = SwitchboardLines::kNames[from];
      const std::string to_name = SwitchboardLines::kNames[to];
      INFO(from_name << " -> " << to_name);
      const std::uint64_t sequence = from * 10 + to;
      lines.sockets[from].send(proxy.standIn(to_name), sequence);
      const auto there = lines.sockets[to].receive(3000ms);
      REQUIRE(there.has_value());
      CHECK(there->sequence == sequence);
      CHECK(there->from == proxy.standIn(from_name));  // what the receiver's config lists for the sender
      // The answer to the address seen comes back from the receiver's stand-in.
      lines.sockets[to].send(there->from, sequence + 100);
      const auto back = lines.sockets[from].receive(3000ms);
      REQUIRE(back.has_value());
      CHECK(back->sequence == sequence + 100);
      CHECK(back->from == proxy.standIn(to_name));
    }
  }
  // Each line sent 3 datagrams and answered 3, and got as many.
  for (const char* name : SwitchboardLines::kNames) {
    const auto stats = lineStats(proxy, name);
    INFO(stats.dump());
    CHECK(stats["sent"] == 6);
    CHECK(stats["received"] == 6);
    CHECK(stats["dropped"] == 0);
    CHECK(stats["sent_bytes"] == 6 * 100);  // UdpSocket::send's default size
    CHECK(stats["received_bytes"] == 6 * 100);
  }
  // The link still works beside it.
  a.send(proxy.aSide(), 1);
  const auto via_link = b.receive(3000ms);
  REQUIRE(via_link.has_value());
  CHECK(via_link->from == proxy.bSide());
}

TEST_CASE("switchboard: line-down cuts exactly the pairs of one line; line-up restores them") {
  SwitchboardLines lines;
  ImpairProcess proxy(lines.config());
  CHECK(proxy.command("line-down r1.l1") == "ok");
  // Every line sends one datagram to every other line's stand-in.
  std::uint64_t sent = 0;
  for (std::size_t from = 0; from < 4; ++from) {
    for (std::size_t to = 0; to < 4; ++to) {
      if (from == to) continue;
      lines.sockets[from].send(proxy.standIn(SwitchboardLines::kNames[to]), from * 10 + to);
      ++sent;
    }
  }
  const bool all_in = waitFor(5s, [&] {
    std::uint64_t in = 0;
    for (const char* name : SwitchboardLines::kNames) in += lineStats(proxy, name)["sent"].get<std::uint64_t>();
    return in == sent;
  });
  REQUIRE(all_in);
  // Undelayed datagrams leave while the proxy handles them: what was
  // forwarded is in the sockets by now.
  for (std::size_t to = 0; to < 4; ++to) {
    std::vector<std::uint64_t> got;
    while (const auto probe = lines.sockets[to].receive(0ms)) got.push_back(probe->sequence);
    std::sort(got.begin(), got.end());
    std::vector<std::uint64_t> want;
    if (to != 1) {
      for (std::size_t from = 0; from < 4; ++from) {
        if (from != to && from != 1) want.push_back(from * 10 + to);
      }
    }
    INFO("to " << SwitchboardLines::kNames[to]);
    CHECK(got == want);
  }
  const auto down = lineStats(proxy, "r1.l1");
  CHECK(down["down"] == true);
  CHECK(down["sent"] == 3);
  CHECK(down["dropped"] == 3);
  CHECK(down["received"] == 0);
  CHECK(lineStats(proxy, "r2.l0")["dropped"] == 1);  // its datagram to r1.l1

  CHECK(proxy.command("line-up r1.l1") == "ok");
  lines.sockets[1].send(proxy.standIn("r2.l1"), 13);
  const auto restored = lines.sockets[3].receive(3000ms);
  REQUIRE(restored.has_value());
  CHECK(restored->sequence == 13);
  CHECK(restored->from == proxy.standIn("r1.l1"));
}

TEST_CASE("switchboard: strangers are dropped and counted as foreign; commands check names") {
  SwitchboardLines lines;
  UdpSocket stranger;
  ImpairProcess proxy(lines.config());
  for (std::uint64_t i = 0; i < 5; ++i) stranger.send(proxy.standIn("r2.l0"), i);
  // A line sending to its own stand-in is no pair either.
  lines.sockets[2].send(proxy.standIn("r2.l0"), 99);
  CHECK(waitFor(5s, [&] { return lineStats(proxy, "r2.l0")["foreign"] == 6; }));
  for (auto& socket : lines.sockets) CHECK_FALSE(socket.receive(0ms).has_value());
  CHECK_FALSE(stranger.receive(0ms).has_value());

  CHECK(proxy.command("pair-set r1.l0 r2.l1 delay_ms=30 loss_percent=0") == "ok");
  CHECK(proxy.command("line-set r2.l1 in jitter_ms=1") == "ok");
  CHECK(proxy.command("line-outage r1.l0 100") == "ok");
  CHECK(proxy.command("line-down r9.l0") == "error: unknown line \"r9.l0\"");
  CHECK(proxy.command("pair-set r1.l0 r1.l0 delay_ms=1") == "error: a line has no pair with itself");
  CHECK(proxy.command("line-set r1.l0 out loss_percent=200") == "error: loss_percent: 200 is out of range 0..100");
  CHECK(proxy.command("set r1.l0 both delay_ms=1") == "error: unknown link \"r1.l0\"");
  const auto stats = nlohmann::json::parse(proxy.command("stats"));
  for (const auto& pair : stats["switchboard"]["pairs"]) {
    if (pair["from"] == "r1.l0" && pair["to"] == "r2.l1") {
      CHECK(pair["settings"]["delay_ms"] == 30.0);
      CHECK(pair["settings"]["jitter_ms"] == 1.0);
    }
  }
}
