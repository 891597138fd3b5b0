// Joining through the controller: two relays (regions eu and us) that
// require join tokens, a controller that signs them, and overline-subscribe
// --controller picking an edge of the hinted region. Raw HELLOs check that a
// relay answers only a valid token that names it: one allocation's token is
// good at every candidate; none, or one that names only the other relay, is
// dropped as bad_token and never answered.

#include <catch2/catch.hpp>

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/wire/packet.h"
#include "deploy/localmesh/child_process.h"
#include "deploy/localmesh/controller_process.h"
#include "deploy/localmesh/metrics_scrape.h"
#include "sdk/edge/edge_allocation.h"

namespace lm = overline::localmesh;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace overline {
namespace {

constexpr const char* kKeyHex = "000102030405060708090a0b0c0d0e0f";
const std::string kBinDir = OVERLINE_BIN_DIR;
constexpr auto kDeadline = 15s;

struct TempDir {
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "overline-edge-join-XXXXXX").string();
    path = mkdtemp(pattern.data());
  }
  ~TempDir() { fs::remove_all(path); }
  std::string path;
};

// Polls `condition` every 50 ms until it holds or `timeout` passes.
template <typename Condition>
bool waitFor(Condition condition, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return condition();
}

struct RunningRelay {
  NodeId node = kNoNode;
  lm::ChildProcess process;
  Endpoint line;            // its one line, as bound
  std::string metrics_url;  // http://IP:PORT/metrics
};

std::optional<nlohmann::json> readJsonFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  auto json = nlohmann::json::parse(text.str(), nullptr, false);
  if (json.is_discarded()) return std::nullopt;
  return json;
}

// Starts a one-line relay on 127.0.<node>.1 that requires join tokens and
// keeps a session with the controller; waits for its ready file.
RunningRelay startRelay(const TempDir& dir, NodeId node, const std::string& region, const Endpoint& controller) {
  const std::string base = dir.path + "/relay" + std::to_string(node);
  std::ofstream(base + ".yaml") << "node_id: " << node << "\nregion: " << region
                                << "\nlines:\n  - {name: a, bind: \"127.0." << node << ".1:0\"}\n"
                                << "metrics: {listen: \"127.0.0.1:0\"}\n"
                                << "controller: {addresses: [\"" << controller.toString() << "\"]}\n"
                                << "join: {key_hex: \"" << kKeyHex << "\", require_token: true}\n";
  std::string error;
  auto process = lm::ChildProcess::start(
      {kBinDir + "/overline-relay", "--config", base + ".yaml", "--ready-file", base + ".ready"}, base + ".log",
      &error);
  REQUIRE(process.has_value());
  std::optional<nlohmann::json> ready;
  REQUIRE(waitFor([&] { return (ready = readJsonFile(base + ".ready")).has_value(); }, kDeadline));
  const auto line = Endpoint::parse((*ready)["lines"][0]["address"].get<std::string>());
  REQUIRE(line.has_value());
  return {node, std::move(*process), *line, "http://" + (*ready)["metrics"].get<std::string>() + "/metrics"};
}

double badTokens(const RunningRelay& relay) {
  const auto text = lm::httpGet(relay.metrics_url, 2s);
  if (!text) return -1;
  return lm::valueOf(lm::parsePrometheusText(*text), "overline_relay_dropped_packets_total{reason=\"bad_token\"}")
      .value_or(-1);
}

// Client sockets that stay open until the test ends: a closed socket's port
// may be handed to the next one, which a relay that admitted the first would
// then take for an admitted client (it remembers clients for 5 s).
struct OpenSockets {
  ~OpenSockets() {
    for (int fd : fds) ::close(fd);
  }
  int open() {
    const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd >= 0) fds.push_back(fd);
    return fd;
  }
  std::vector<int> fds;
};

// Sends one HELLO carrying `token` to `to` from a fresh socket (kept open in
// `sockets`) and reports whether a HELLO came back within `wait`.
bool helloAnswered(OpenSockets& sockets, const Endpoint& to, const std::string& token,
                   std::chrono::milliseconds wait) {
  const int fd = sockets.open();
  REQUIRE(fd >= 0);
  wire::Header header;
  header.type = wire::PacketType::kHello;
  wire::PacketBuffer packet;
  const std::size_t size = wire::encodePacket(header, std::as_bytes(std::span(token.data(), token.size())), packet);
  const sockaddr_in addr = to.toSockaddr();
  REQUIRE(::sendto(fd, packet.data(), size, 0, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) ==
          static_cast<ssize_t>(size));
  pollfd pfd{fd, POLLIN, 0};
  bool answered = false;
  if (::poll(&pfd, 1, static_cast<int>(wait.count())) > 0) {
    std::array<std::byte, wire::kMaxPacketBytes> reply;
    const ssize_t n = ::recv(fd, reply.data(), reply.size(), 0);
    const auto parsed = n > 0 ? wire::parsePacket(std::span(reply.data(), static_cast<std::size_t>(n)))
                              : Result<wire::PacketView, wire::ParseError>(Err{wire::ParseError::kTooShort});
    answered = parsed && parsed->header.type == wire::PacketType::kHello;
  }
  return answered;
}

TEST_CASE("Clients join through the controller with tokens; relays drop HELLOs without a valid one",
          "[integration]") {
  TempDir dir;
  auto controller = lm::startController(kBinDir, dir.path, kKeyHex);
  INFO((controller ? std::string() : controller.error()));
  REQUIRE(controller);
  const Endpoint grpc = controller.value().grpc;
  // Provisioned before the relays start, so their first hello is accepted;
  // port 0: the controller learns the bound port from the relay's hello.
  REQUIRE(lm::provisionNode(kBinDir, dir.path, grpc, 1, "eu", {{"a", "127.0.1.1:0", "isp-a"}}, 1'000'000'000));
  REQUIRE(lm::provisionNode(kBinDir, dir.path, grpc, 2, "us", {{"a", "127.0.2.1:0", "isp-a"}}, 1'000'000'000));
  RunningRelay eu = startRelay(dir, 1, "eu", grpc);
  RunningRelay us = startRelay(dir, 2, "us", grpc);

  // Both relays connected: the allocation offers both, at their bound lines,
  // with one token that names both.
  sdk::EdgeAllocationRequest request;
  request.controller = grpc;
  request.subscribe = true;
  request.region_hint = "us";
  std::vector<sdk::AllocatedEdge> edges;
  std::string observed_address;
  REQUIRE(waitFor(
      [&] {
        auto allocated = sdk::allocateEdges(request);
        if (!allocated || allocated.value().edges.size() != 2) return false;
        edges = allocated.value().edges;
        observed_address = allocated.value().observed_address;
        return edges[0].candidate.endpoint == us.line && edges[1].candidate.endpoint == eu.line;
      },
      kDeadline));
  REQUIRE(edges[0].node_id == 2);
  // The controller saw this process at the source address of its loopback HELLOs.
  CHECK(observed_address == "127.0.0.1");
  const std::string token_for_both = edges[0].candidate.join_token;
  CHECK(edges[1].candidate.join_token == token_for_both);
  // One candidate each: tokens that name only that relay.
  request.max_candidates = 1;
  const auto only_us = sdk::allocateEdges(request);
  REQUIRE(only_us);
  REQUIRE(only_us.value().edges.size() == 1);
  REQUIRE(only_us.value().edges[0].node_id == 2);
  request.region_hint = "eu";
  const auto only_eu = sdk::allocateEdges(request);
  REQUIRE(only_eu);
  REQUIRE(only_eu.value().edges.size() == 1);
  REQUIRE(only_eu.value().edges[0].node_id == 1);
  const std::string token_for_us = only_us.value().edges[0].candidate.join_token;
  const std::string token_for_eu = only_eu.value().edges[0].candidate.join_token;

  SECTION("overline-subscribe --controller --region joins a relay of that region") {
    std::string error;
    auto subscriber = lm::ChildProcess::start({kBinDir + "/overline-subscribe", "--controller", grpc.toString(),
                                               "--region", "us", "--stream", "2:1", "--duration-s", "30"},
                                              dir.path + "/subscribe.log", &error);
    REQUIRE(subscriber.has_value());
    const auto line = subscriber->nextLine(kDeadline);
    REQUIRE(line.has_value());
    const auto joined = nlohmann::json::parse(*line);
    CHECK(joined["event"] == "joined");
    CHECK(joined["edge_node"] == 2);
    CHECK(joined["edge"] == us.line.toString());
    // The rule behind it: both relays are equally near (loopback), so no
    // measured RTT overrides the controller's first choice.
    CHECK(joined["edge_node"] == edges[0].node_id);
    CHECK(badTokens(us) == 0);
  }

  SECTION("a token admits the client at the relays it names only; no token admits nobody") {
    OpenSockets sockets;
    CHECK(helloAnswered(sockets, us.line, token_for_both, 5s));
    CHECK(helloAnswered(sockets, eu.line, token_for_both, 5s));
    CHECK(helloAnswered(sockets, us.line, token_for_us, 5s));
    CHECK(helloAnswered(sockets, eu.line, token_for_eu, 5s));
    REQUIRE(badTokens(eu) == 0);
    REQUIRE(badTokens(us) == 0);

    // No reply is expected: each wait is the time a reply would take on
    // loopback, many times over; the counter proves the HELLO arrived.
    CHECK_FALSE(helloAnswered(sockets, eu.line, "", 300ms));
    CHECK(waitFor([&] { return badTokens(eu) == 1; }, kDeadline));
    CHECK_FALSE(helloAnswered(sockets, eu.line, token_for_us, 300ms));
    CHECK(waitFor([&] { return badTokens(eu) == 2; }, kDeadline));
    CHECK_FALSE(helloAnswered(sockets, us.line, token_for_eu, 300ms));
    CHECK(waitFor([&] { return badTokens(us) == 1; }, kDeadline));
  }
}

}  // namespace
}  // namespace overline
