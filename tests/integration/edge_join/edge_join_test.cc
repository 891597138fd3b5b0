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

#include <algorithm>
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
#include "sdk/core/join_handshake.h"
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

std::string readFile(const std::string& path) {
  std::stringstream text;
  text << std::ifstream(path).rdbuf();
  return text.str();
}

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
  const std::string pki = lm::pkiDirOf(dir.path);
  const std::string base = dir.path + "/relay" + std::to_string(node);
  std::ofstream(base + ".yaml") << "node_id: " << node << "\nregion: " << region
                                << "\nlines:\n  - {name: a, bind: \"127.0." << node << ".1:0\"}\n"
                                << "metrics: {listen: \"127.0.0.1:0\"}\n"
                                << "controller:\n  addresses: [\"" << controller.toString() << "\"]\n"
                                << lm::relayTlsYaml(pki, node)
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

double metric(const RunningRelay& relay, const std::string& series) {
  const auto text = lm::httpGet(relay.metrics_url, 2s);
  if (!text) return -1;
  return lm::valueOf(lm::parsePrometheusText(*text), series).value_or(-1);
}

double badTokens(const RunningRelay& relay) {
  return metric(relay, "overline_relay_dropped_packets_total{reason=\"bad_token\"}");
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
// Runs a join with `token` from a new socket (HELLO, the relay's CHALLENGE,
// HELLO echoing the cookie); true when the relay answers it with a WELCOME
// within `wait`. The CHALLENGE comes whatever the token: only the second
// HELLO's token is checked.
bool joinWelcomed(OpenSockets& sockets, const Endpoint& to, const std::string& token,
                  std::chrono::milliseconds wait) {
  const int fd = sockets.open();
  REQUIRE(fd >= 0);
  sdk::HelloNonce nonce{};
  nonce[0] = static_cast<std::byte>(fd);
  sdk::JoinHandshake join(nonce, token);
  const sockaddr_in addr = to.toSockaddr();
  const auto sendHello = [&] {
    wire::PacketBuffer packet;
    const std::size_t size = join.hello(packet, 1);
    REQUIRE(::sendto(fd, packet.data(), size, 0, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) ==
            static_cast<ssize_t>(size));
  };
  sendHello();
  const auto deadline = std::chrono::steady_clock::now() + wait;
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd pfd{fd, POLLIN, 0};
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (::poll(&pfd, 1, static_cast<int>(std::max<std::int64_t>(left.count(), 0))) <= 0) continue;
    std::array<std::byte, wire::kMaxPacketBytes> reply;
    const ssize_t n = ::recv(fd, reply.data(), reply.size(), 0);
    if (n <= 0) continue;
    const auto parsed = wire::parsePacket(std::span(reply.data(), static_cast<std::size_t>(n)));
    if (!parsed) continue;
    switch (join.onAnswer(*parsed)) {
      case sdk::JoinHandshake::Step::kIgnored: break;
      case sdk::JoinHandshake::Step::kChallenged: sendHello(); break;
      case sdk::JoinHandshake::Step::kJoined: return true;
    }
  }
  return false;
}

TEST_CASE("Clients join through the controller with tokens; relays drop HELLOs without a valid one",
          "[integration]") {
  TempDir dir;
  auto controller = lm::startController(kBinDir, dir.path, kKeyHex);
  INFO((controller ? std::string() : controller.error()));
  REQUIRE(controller);
  const Endpoint grpc = controller.value().ports.relays;
  const Endpoint admin = controller.value().ports.admin;
  const Endpoint edge = controller.value().ports.edge;
  const std::string ca_pem = readFile(controller.value().pki_dir + "/ca.pem");
  // Provisioned before the relays start, so their first hello is accepted;
  // port 0: the controller learns the bound port from the relay's hello.
  REQUIRE(lm::provisionNode(kBinDir, dir.path, admin, 1, "eu", {{"a", "127.0.1.1:0", "isp-a"}}, 1'000'000'000));
  REQUIRE(lm::provisionNode(kBinDir, dir.path, admin, 2, "us", {{"a", "127.0.2.1:0", "isp-a"}}, 1'000'000'000));
  RunningRelay eu = startRelay(dir, 1, "eu", grpc);
  RunningRelay us = startRelay(dir, 2, "us", grpc);

  // Both relays connected: the allocation offers both, at their bound lines,
  // with one token that names both.
  sdk::EdgeAllocationRequest request;
  request.controller = edge;
  request.controller_ca_pem = ca_pem;
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
    auto subscriber = lm::ChildProcess::start({kBinDir + "/overline-subscribe", "--controller", edge.toString(),
                                               "--controller-ca", controller.value().pki_dir + "/ca.pem",
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
    CHECK(joinWelcomed(sockets, us.line, token_for_both, 5s));
    CHECK(joinWelcomed(sockets, eu.line, token_for_both, 5s));
    CHECK(joinWelcomed(sockets, us.line, token_for_us, 5s));
    CHECK(joinWelcomed(sockets, eu.line, token_for_eu, 5s));
    REQUIRE(badTokens(eu) == 0);
    REQUIRE(badTokens(us) == 0);

    // No reply is expected: each wait is the time a reply would take on
    // loopback, many times over; the counter proves the HELLO arrived.
    CHECK_FALSE(joinWelcomed(sockets, eu.line, "", 300ms));
    CHECK(waitFor([&] { return badTokens(eu) == 1; }, kDeadline));
    CHECK_FALSE(joinWelcomed(sockets, eu.line, token_for_us, 300ms));
    CHECK(waitFor([&] { return badTokens(eu) == 2; }, kDeadline));
    CHECK_FALSE(joinWelcomed(sockets, us.line, token_for_eu, 300ms));
    CHECK(waitFor([&] { return badTokens(us) == 1; }, kDeadline));
  }
}

TEST_CASE("A client joined through the controller renews its token: the session outlives its first token",
          "[integration]") {
  TempDir dir;
  // 11 s tokens: the tool renews when 10 s are left, i.e. about 1 s in.
  constexpr std::int64_t kTtlS = 11;
  auto controller = lm::startController(kBinDir, dir.path, kKeyHex, "", std::chrono::seconds(10),
                                        lm::ControllerPorts{}, kTtlS);
  INFO((controller ? std::string() : controller.error()));
  REQUIRE(controller);
  const Endpoint grpc = controller.value().ports.relays;
  const Endpoint admin = controller.value().ports.admin;
  const Endpoint edge = controller.value().ports.edge;
  const std::string ca_pem = readFile(controller.value().pki_dir + "/ca.pem");
  REQUIRE(lm::provisionNode(kBinDir, dir.path, admin, 2, "us", {{"a", "127.0.2.1:0", "isp-a"}}, 1'000'000'000));
  RunningRelay us = startRelay(dir, 2, "us", grpc);
  sdk::EdgeAllocationRequest request;
  request.controller = edge;
  request.controller_ca_pem = ca_pem;
  request.subscribe = true;
  REQUIRE(waitFor([&] { return sdk::allocateEdges(request).ok(); }, kDeadline));

  std::string error;
  auto subscriber = lm::ChildProcess::start({kBinDir + "/overline-subscribe", "--controller", edge.toString(),
                                             "--controller-ca", controller.value().pki_dir + "/ca.pem",
                                             "--stream", "2:1", "--duration-s", "30"},
                                            dir.path + "/subscribe.log", &error);
  REQUIRE(subscriber.has_value());
  const auto line = subscriber->nextLine(kDeadline);
  REQUIRE(line.has_value());
  CHECK(nlohmann::json::parse(*line)["event"] == "joined");
  const auto joined_at = std::chrono::steady_clock::now();
  CHECK(waitFor([&] { return metric(us, "overline_relay_client_tokens_renewed_total") >= 1; }, kDeadline));
  // Past the first token's expiry (and a keepalive after it): still joined.
  while (std::chrono::steady_clock::now() < joined_at + std::chrono::seconds(kTtlS + 2)) {
    std::this_thread::sleep_for(200ms);  // waiting for wall-clock time itself, not for a condition
  }
  CHECK(metric(us, "overline_relay_client_tokens_expired_total") == 0);
  CHECK(metric(us, "overline_relay_clients") == 1);
}

}  // namespace
}  // namespace overline
