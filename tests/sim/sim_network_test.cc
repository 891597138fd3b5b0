// SimNetwork: addressing, path delays and edits, observers, kill/restart and
// per-path seeds, with real relay cores and raw client datagrams.
#include "simulations/sim_network.h"

#include <array>
#include <catch2/catch.hpp>
#include <vector>

#include "sdk/hello_packet.h"
#include "simulations/topology.h"

namespace overline::sim {
namespace {

// The first step of a join: the relay answers it with a (stateless) CHALLENGE.
std::vector<std::byte> hello() {
  wire::PacketBuffer packet;
  sdk::HelloNonce nonce{};
  nonce[0] = std::byte{1};
  const std::size_t size = sdk::encodeHello(nonce, sdk::HelloCookie{}, {}, packet);
  return std::vector<std::byte>(packet.begin(), packet.begin() + static_cast<std::ptrdiff_t>(size));
}

// One relay (node 1, two lines) and a client talking to its line 0 that
// records when answers arrive.
struct OneRelay {
  explicit OneRelay(std::uint64_t seed = 1) : network(simulator, seed) {
    addTopology(network, Topology{.nodes = {{.id = 1}}});
    client = network.addClient([this](const Endpoint& from, std::span<const std::byte>, TimeUs now) {
      CHECK(from == edge);
      answers.push_back(now);
    });
  }
  void sayHelloAt(TimeUs at_us) {
    simulator.schedule(at_us, [this] { network.sendFromClient(client, edge, hello()); });
  }

  Simulator simulator;
  SimNetwork network;
  const Endpoint edge = relayLineEndpoint(1, 0);
  SimNetwork::ClientId client = 0;
  std::vector<TimeUs> answers;
};

TEST_CASE("relay lines and clients have fixed, readable addresses", "[sim][network]") {
  CHECK(relayLineEndpoint(3, 1).toString() == "10.1.3.1:4000");
  CHECK(relayLineEndpoint(LineRef{200, 0}).toString() == "10.0.200.1:4000");
  OneRelay net;
  CHECK(net.network.clientEndpoint(net.client).toString() == "192.168.0.1:5000");
}

TEST_CASE("a client host talks to any relay line; answers name the line they came from", "[sim][network]") {
  Simulator simulator;
  SimNetwork network(simulator, 1);
  addTopology(network, Topology{.nodes = {{.id = 1}, {.id = 2}}});
  std::vector<Endpoint> answered_by;
  const SimNetwork::ClientId client = network.addClient(
      [&](const Endpoint& from, std::span<const std::byte>, TimeUs) { answered_by.push_back(from); });
  network.sendFromClient(client, relayLineEndpoint(1, 1), hello());
  network.sendFromClient(client, relayLineEndpoint(2, 0), hello());
  simulator.runFor(10 * kMillisecond);
  CHECK(answered_by == std::vector<Endpoint>{relayLineEndpoint(1, 1), relayLineEndpoint(2, 0)});
}

TEST_CASE("a packet takes its path's delay each way", "[sim][network]") {
  OneRelay net;
  net.sayHelloAt(10 * kMillisecond);
  net.simulator.runFor(100 * kMillisecond);
  // 1 ms to the relay, 1 ms back: the default path.
  CHECK(net.answers == std::vector<TimeUs>{12 * kMillisecond});
  CHECK(net.network.counters().sent == 2);
  CHECK(net.network.counters().delivered == 2);
  CHECK(net.network.relay(1).counters().packets_received == 1);
}

TEST_CASE("a path edit changes that direction only, from the moment it is made", "[sim][network]") {
  OneRelay net;
  const Endpoint relay_line = relayLineEndpoint(1, 0);
  const Endpoint client = net.network.clientEndpoint(net.client);
  net.sayHelloAt(0);
  net.simulator.schedule(50 * kMillisecond, [&] { net.network.editPath(relay_line, client, setDelay(20 * kMillisecond)); });
  net.sayHelloAt(100 * kMillisecond);
  net.simulator.runFor(200 * kMillisecond);
  CHECK(net.answers == std::vector<TimeUs>{2 * kMillisecond, 121 * kMillisecond});
}

TEST_CASE("a line edit also covers paths first used after it", "[sim][network]") {
  OneRelay net;
  // No packet has used line 0 yet: the edit is replayed when the path appears.
  net.network.editLine(LineRef{1, 0}, setDown(true));
  net.sayHelloAt(0);
  net.simulator.schedule(50 * kMillisecond, [&] { net.network.editLine(LineRef{1, 0}, setDown(false)); });
  net.sayHelloAt(100 * kMillisecond);
  net.simulator.runFor(200 * kMillisecond);
  CHECK(net.answers == std::vector<TimeUs>{102 * kMillisecond});
  CHECK(net.network.counters().dropped_on_path == 1);
  const auto counters = net.network.pathCounters(net.network.clientEndpoint(net.client), relayLineEndpoint(1, 0));
  CHECK(counters.admitted == 2);
  CHECK(counters.droppedBy(impairment::DropReason::kOutage) == 1);
}

TEST_CASE("an edit of another line leaves this one alone", "[sim][network]") {
  OneRelay net;
  net.network.editLine(LineRef{1, 1}, setLoss(1.0));
  net.sayHelloAt(0);
  net.simulator.runFor(10 * kMillisecond);
  CHECK(net.answers.size() == 1);
}

TEST_CASE("a scheduled outage drops exactly what is sent during it", "[sim][network]") {
  OneRelay net;
  net.network.editAllPaths(addOutage(100 * kMillisecond, 50 * kMillisecond));
  for (TimeUs t = 0; t < 300 * kMillisecond; t += 20 * kMillisecond) net.sayHelloAt(t);
  net.simulator.runFor(400 * kMillisecond);
  // Sent at 100, 120 and 140 ms: lost. Sent at 80 ms: the answer leaves at 81 ms.
  CHECK(net.answers.size() == 15 - 3);
}

TEST_CASE("observers see every packet with the path's decision", "[sim][network]") {
  OneRelay net;
  struct Seen {
    Endpoint from;
    Endpoint to;
    wire::PacketType type;
    std::optional<impairment::Decision> decision;
  };
  std::vector<Seen> seen;
  net.network.addObserver([&](const Transmission& t) { seen.push_back(Seen{t.from, t.to, t.header()->type, t.decision}); });
  net.network.editPath(net.network.clientEndpoint(net.client), relayLineEndpoint(1, 0), setDelay(3 * kMillisecond));
  net.sayHelloAt(0);
  net.sayHelloAt(5);
  net.simulator.runFor(10 * kMillisecond);
  REQUIRE(seen.size() == 4);  // two HELLOs, two answers (CHALLENGEs)
  for (const Seen& s : seen) {
    CHECK(s.type == (s.from == net.network.clientEndpoint(net.client) ? wire::PacketType::kHello
                                                                      : wire::PacketType::kChallenge));
  }
  CHECK(seen[0].from == net.network.clientEndpoint(net.client));
  CHECK(seen[0].to == relayLineEndpoint(1, 0));
  REQUIRE(seen[0].decision);
  CHECK(seen[0].decision->deliver_at_us == 3 * kMillisecond);
  CHECK(seen[2].from == relayLineEndpoint(1, 0));
  CHECK(seen[2].to == net.network.clientEndpoint(net.client));
}

TEST_CASE("packets to an address nobody has are counted, not delivered", "[sim][network]") {
  Simulator simulator;
  SimNetwork network(simulator, 1);
  relay::RelayCoreConfig config;
  config.node_id = 1;
  config.line_count = 1;
  // A neighbour that was never added to the network.
  config.neighbours.push_back(relay::NeighbourConfig{2, {relayLineEndpoint(2, 0)}});
  network.addRelay(config);
  const SimNetwork::ClientId client = network.addClient([](const Endpoint&, std::span<const std::byte>, TimeUs) {});
  const Endpoint edge = relayLineEndpoint(1, 0);
  std::size_t to_nobody = 0;
  network.addObserver([&](const Transmission& t) {
    if (t.to == relayLineEndpoint(2, 0)) {
      CHECK(!t.decision);
      ++to_nobody;
    }
  });
  // A SUBSCRIBE for a stream of node 2 makes relay 1 subscribe upstream to it.
  wire::Header subscribe;
  subscribe.type = wire::PacketType::kSubscribe;
  subscribe.stream_id = makeStreamId(2, 1);
  std::array<std::byte, wire::kHeaderBytes> packet;
  wire::encodePacket(subscribe, {}, packet);
  network.sendFromClient(client, edge, hello());
  network.sendFromClient(client, edge, packet);
  simulator.runFor(100 * kMillisecond);
  CHECK(to_nobody >= 1);
  CHECK(network.counters().to_unknown_host == to_nobody);
}

TEST_CASE("a killed relay neither answers nor ticks; a restarted one starts afresh", "[sim][network]") {
  OneRelay net;
  net.sayHelloAt(0);
  net.simulator.schedule(50 * kMillisecond, [&] { net.network.killNode(1); });
  net.sayHelloAt(100 * kMillisecond);
  net.simulator.runFor(200 * kMillisecond);
  CHECK(!net.network.isAlive(1));
  CHECK(net.answers.size() == 1);
  CHECK(net.network.counters().to_dead_host == 1);
  // Only the client's two HELLOs and one answer were ever sent.
  CHECK(net.network.counters().sent == 3);

  net.network.restartNode(1);
  net.sayHelloAt(net.simulator.now());
  net.simulator.runFor(100 * kMillisecond);
  CHECK(net.answers.size() == 2);
  CHECK(net.network.relay(1).counters().packets_received == 1);  // a fresh core
}

// Which of 200 HELLOs over a 50%-loss path got an answer.
std::vector<bool> lossPattern(std::uint64_t seed) {
  OneRelay net(seed);
  net.network.editPath(net.network.clientEndpoint(net.client), relayLineEndpoint(1, 0), setLoss(0.5));
  std::vector<bool> delivered;
  net.network.addObserver([&](const Transmission& t) {
    if (t.from == net.network.clientEndpoint(net.client)) delivered.push_back(t.decision->delivered());
  });
  for (int i = 0; i < 200; ++i) net.sayHelloAt(i * kMillisecond);
  net.simulator.runFor(1 * kSecond);
  return delivered;
}

TEST_CASE("each path's randomness comes from the network seed", "[sim][network]") {
  const std::vector<bool> first = lossPattern(42);
  REQUIRE(first.size() == 200);
  CHECK(lossPattern(42) == first);
  CHECK(lossPattern(43) != first);
  const auto lost = std::count(first.begin(), first.end(), false);
  CHECK(lost > 70);
  CHECK(lost < 130);
}

}  // namespace
}  // namespace overline::sim
