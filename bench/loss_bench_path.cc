#include "bench/loss_bench_path.h"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace overline::bench {
namespace {

namespace fs = std::filesystem;

constexpr auto kReadyTimeout = std::chrono::seconds(10);
constexpr auto kCommandTimeout = std::chrono::seconds(5);
constexpr int kSocketBufferBytes = 4 << 20;
constexpr int kPollIntervalMs = 50;

std::string errnoText(const std::string& what) { return what + ": " + std::strerror(errno); }

std::string tailOf(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  std::string tail;
  for (std::size_t i = lines.size() > 10 ? lines.size() - 10 : 0; i < lines.size(); ++i) tail += lines[i] + "\n";
  return tail;
}

// Binds a UDP socket to `at` (port 0 = the kernel picks); the fd and the
// bound address.
Result<std::pair<int, Endpoint>, std::string> bindUdp(const Endpoint& at) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Err{errnoText("socket")};
  sockaddr_in addr = at.toSockaddr();
  socklen_t length = sizeof(addr);
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length) != 0) {
    const std::string error = errnoText("bind " + at.toString());
    ::close(fd);
    return Err{error};
  }
  return std::make_pair(fd, Endpoint::fromSockaddr(addr));
}

}  // namespace

std::optional<LossModel> parseLossModel(const std::string& name) {
  if (name == "random30") return LossModel::kRandom30;
  if (name == "ge10") return LossModel::kGe10;
  if (name == "none") return LossModel::kNone;
  return std::nullopt;
}

std::string lossModelName(LossModel model) {
  switch (model) {
    case LossModel::kRandom30:
      return "random30";
    case LossModel::kGe10:
      return "ge10";
    case LossModel::kNone:
      return "none";
  }
  return "?";
}

std::string PathSpec::knobArguments() const {
  std::string knobs = "delay_ms=" + std::to_string(one_way_delay_ms);
  switch (loss) {
    case LossModel::kRandom30:
      return knobs + " loss_percent=30";
    case LossModel::kGe10:
      return knobs + " burst_loss_percent=10 burst_len=5";
    case LossModel::kNone:
      return knobs;
  }
  return knobs;
}

std::string PathSpec::describe() const {
  std::string loss_text;
  switch (loss) {
    case LossModel::kRandom30:
      loss_text = "30% random loss";
      break;
    case LossModel::kGe10:
      loss_text = "10% Gilbert-Elliott loss (mean burst 5 packets)";
      break;
    case LossModel::kNone:
      loss_text = "no loss";
      break;
  }
  return std::to_string(segments) + " impaired segments in series (overline-impair on loopback), each " +
         std::to_string(one_way_delay_ms) + " ms one way and " + loss_text + " in both directions; seed " +
         std::to_string(seed);
}

Result<Endpoint, std::string> pickFreeUdpEndpoint() {
  auto bound = bindUdp(Endpoint(0x7F000001, 0));
  if (!bound) return Err{bound.error()};
  ::close(bound.value().first);
  return bound.value().second;
}

Result<std::vector<SegmentAddresses>, std::string> chainedSegments(const Endpoint& first, const Endpoint& last,
                                                                   int segments) {
  std::vector<SegmentAddresses> links(static_cast<std::size_t>(segments));
  for (auto& link : links) {
    auto a_side = pickFreeUdpEndpoint();
    auto b_side = pickFreeUdpEndpoint();
    if (!a_side) return Err{a_side.error()};
    if (!b_side) return Err{b_side.error()};
    link.a_side = a_side.value();
    link.b_side = b_side.value();
  }
  for (std::size_t i = 0; i < links.size(); ++i) {
    links[i].a = i == 0 ? first : links[i - 1].b_side;
    links[i].b = i + 1 == links.size() ? last : links[i + 1].a_side;
  }
  return links;
}

Result<std::unique_ptr<ImpairedSegments>, std::string> ImpairedSegments::start(
    const std::string& impair_bin, const std::string& work_dir, const std::vector<SegmentAddresses>& links,
    std::uint64_t seed) {
  const std::string base = work_dir + "/impair";
  {
    std::ofstream config(base + ".yaml");
    config << "seed: " << seed << "\nlinks:\n";
    for (std::size_t i = 0; i < links.size(); ++i) {
      config << "  - {name: seg" << i + 1 << ", a: \"" << links[i].a.toString() << "\", a_side: \""
             << links[i].a_side.toString() << "\", b: \"" << links[i].b.toString() << "\", b_side: \""
             << links[i].b_side.toString() << "\"}\n";
    }
    if (!config) return Err{"cannot write " + base + ".yaml"};
  }
  std::string error;
  auto process = localmesh::ChildProcess::start(
      {impair_bin, "--config", base + ".yaml", "--ready-file", base + ".ready", "--log-level", "warn"},
      base + ".log", &error, /*with_stdin=*/true);
  if (!process) return Err{"overline-impair: " + error};
  const auto deadline = std::chrono::steady_clock::now() + kReadyTimeout;
  while (!fs::exists(base + ".ready")) {
    if (!process->running()) return Err{"overline-impair exited during start-up:\n" + tailOf(base + ".log")};
    if (std::chrono::steady_clock::now() >= deadline) return Err{std::string("overline-impair not ready in time")};
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return std::unique_ptr<ImpairedSegments>(new ImpairedSegments(std::move(*process), links.size()));
}

std::string ImpairedSegments::impair(const PathSpec& path) {
  for (std::size_t i = 0; i < links_; ++i) {
    const std::string command = "set seg" + std::to_string(i + 1) + " both " + path.knobArguments();
    process_.writeLine(command);
    const auto answer = process_.nextLine(kCommandTimeout);
    if (answer != "ok") return "overline-impair: " + command + ": " + answer.value_or("no answer");
  }
  return "";
}

std::optional<std::uint64_t> ImpairedSegments::wireBytes() {
  if (!process_.writeLine("stats")) return std::nullopt;
  const auto answer = process_.nextLine(kCommandTimeout);
  if (!answer) return std::nullopt;
  return offeredBytes(*answer);
}

std::optional<std::uint64_t> offeredBytes(const std::string& stats_json) {
  const auto stats = nlohmann::json::parse(stats_json, nullptr, /*allow_exceptions=*/false);
  if (!stats.is_object() || !stats.contains("links")) return std::nullopt;
  std::uint64_t bytes = 0;
  try {
    for (const auto& link : stats.at("links")) {
      bytes += link.at("a_to_b").at("received_bytes").get<std::uint64_t>();
      bytes += link.at("b_to_a").at("received_bytes").get<std::uint64_t>();
    }
    if (stats.contains("switchboard")) {
      for (const auto& pair : stats.at("switchboard").at("pairs")) {
        bytes += pair.at("received_bytes").get<std::uint64_t>();
      }
    }
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
  return bytes;
}

Result<std::unique_ptr<NatShim>, std::string> NatShim::open(const Endpoint& at, const Endpoint& proxy) {
  auto bound = bindUdp(at);
  if (!bound) return Err{"shim: " + bound.error()};
  const int fd = bound.value().first;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &kSocketBufferBytes, sizeof(kSocketBufferBytes));
  ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &kSocketBufferBytes, sizeof(kSocketBufferBytes));
  return std::unique_ptr<NatShim>(new NatShim(fd, bound.value().second, proxy));
}

NatShim::NatShim(int fd, const Endpoint& endpoint, const Endpoint& proxy)
    : fd_(fd), endpoint_(endpoint), proxy_(proxy), thread_([this] { run(); }) {}

NatShim::~NatShim() {
  stop_ = true;
  thread_.join();
  ::close(fd_);
}

void NatShim::run() {
  std::array<std::byte, 65536> buffer{};
  std::optional<Endpoint> peer;  // the last non-proxy sender
  while (!stop_) {
    pollfd pfd{fd_, POLLIN, 0};
    if (::poll(&pfd, 1, kPollIntervalMs) <= 0) continue;
    for (int i = 0; i < 1000; ++i) {  // bounded per wake-up, so stop_ is seen
      sockaddr_in from{};
      socklen_t length = sizeof(from);
      const ssize_t n =
          ::recvfrom(fd_, buffer.data(), buffer.size(), MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&from), &length);
      if (n < 0) break;
      const Endpoint source = Endpoint::fromSockaddr(from);
      std::optional<Endpoint> to;
      if (source == proxy_) {
        to = peer;  // nothing to answer yet: dropped
      } else {
        peer = source;
        to = proxy_;
      }
      if (!to) continue;
      const sockaddr_in addr = to->toSockaddr();
      ::sendto(fd_, buffer.data(), static_cast<std::size_t>(n), 0, reinterpret_cast<const sockaddr*>(&addr),
               sizeof(addr));
    }
  }
}

}  // namespace overline::bench
