#pragma once
// Test tools for relay/core: packet builders, a recording PacketSink and an
// in-memory network of RelayCores with fake time. Nothing here touches a
// socket or a clock.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <span>
#include <utility>
#include <vector>

#include "common/endpoint.h"
#include "common/types.h"
#include "common/wire/packet.h"
#include "relay/core/packet_sink.h"
#include "relay/core/relay_config.h"
#include "relay/core/relay_core.h"
#include "tests/unit/relay/core/test_peers.h"

namespace overline::relay::test {

using Bytes = std::vector<std::byte>;

// Relay `node`'s line `line` is 10.0.<node>.<line+1>:7000.
Endpoint relayLine(NodeId node, LineIndex line);
// The node whose relayLine() `endpoint` is (node ids up to 255).
NodeId nodeOfRelayLine(const Endpoint& endpoint);
// The `index`-th test client is 192.168.0.<index>:(5000 + index).
Endpoint clientEndpoint(std::uint32_t index);

struct PacketSpec {
  wire::PacketType type = wire::PacketType::kData;
  StreamId stream = 0;
  std::uint8_t hop_limit = wire::kDefaultHopLimit;
  NodeId sender = kNoNode;
  std::uint32_t sequence = 0;
  std::size_t payload_bytes = 0;  // filled with a recognisable pattern
  std::uint8_t flags = 0;
  std::uint64_t timestamp_us = 42;
  std::uint8_t latency_budget = 0;  // DATA only, units of 10 ms
};
Bytes makePacket(const PacketSpec& spec);
Bytes makeControl(wire::PacketType type, StreamId stream, std::uint8_t hop_limit = wire::kDefaultHopLimit,
                  NodeId sender = kNoNode);
// The PROBE_ACK a neighbour `responder` sends for `probe`.
Bytes makeProbeAck(const wire::Header& probe, NodeId responder);
// Parses a packet the relay emitted; fails the current test if it is malformed.
wire::Header headerOf(std::span<const std::byte> packet);

struct SentPacket {
  LineIndex line = 0;
  Endpoint to;
  Bytes bytes;

  wire::Header header() const { return headerOf(bytes); }
};

// Records every packet; refuses them all while `accept` is false. Link
// probing (PROBE, PROBE_ACK) goes on every tick, so it is recorded apart in
// `probes`: `sent` holds only the rest, which is what most tests are about.
class RecordingSink : public PacketSink {
 public:
  bool sendPacket(LineIndex line, const Endpoint& to, std::span<const std::byte> packet) override;

  // Packets of `type` sent to `to` (from `sent`, or `probes` for probe types,
  // or `announces` for ANNOUNCE).
  std::size_t count(wire::PacketType type, const Endpoint& to) const;
  std::size_t count(wire::PacketType type) const;

  std::vector<SentPacket> sent;
  std::vector<SentPacket> probes;
  // ANNOUNCE (a publication's start, then every refresh interval), also apart.
  std::vector<SentPacket> announces;
  bool accept = true;
};

// How one relay line pair behaves (both directions). The default is a
// perfect wire: no delay, no loss.
struct PathModel {
  DurationUs delay_us = 0;   // one way
  DurationUs jitter_us = 0;  // extra one-way delay, uniform in [0, jitter_us]
  double loss = 0;           // probability that a packet is lost
  bool down = false;         // every packet is lost
};

// Relays joined by links (each link: both nodes list each other as neighbour
// with two lines), SDK clients attached to edges, and a fake clock. Packets
// between relay lines follow that line pair's PathModel (setPath); clients
// are on perfect wires. Packets due now are delivered by deliver(), which
// every operation calls, so with zero-delay paths each call leaves the
// network quiescent; delayed packets arrive at their exact due time during
// advance(). Loss and jitter draw from a generator seeded in the constructor,
// so a run is reproducible.
class TestNetwork {
 public:
  struct Transmission {
    NodeId from_node = kNoNode;  // kNoNode for a client
    Endpoint from;
    Endpoint to;
    wire::Header header;
    TimeUs at_us = 0;   // when it was sent
    bool lost = false;  // dropped by the path model
  };
  struct Client {
    Endpoint endpoint;
    NodeId edge = kNoNode;
    std::vector<SentPacket> received;  // SentPacket::line: the edge line it came from
    // Every refresh interval the network sends HELLO for the client while
    // `keepalive` is set, and SUBSCRIBE for each stream in `refreshing`.
    bool keepalive = true;
    std::vector<StreamId> refreshing;
    TimeUs next_refresh_us = 0;

    std::size_t receivedCount(wire::PacketType type) const;
  };

  // `base` supplies timers, limits, probing, path choice and failover; node
  // ids, lines and neighbours come from `links`.
  TestNetwork(const std::vector<NodeId>& nodes, const std::vector<std::pair<NodeId, NodeId>>& links,
              const RelayCoreConfig& base = {}, std::uint64_t seed = 1);
  // Relays' sinks point back at the network.
  TestNetwork(const TestNetwork&) = delete;
  TestNetwork& operator=(const TestNetwork&) = delete;

  RelayCore& relay(NodeId node) { return *relays_.at(node).core; }
  // Primary next hops only.
  void setRoutes(NodeId node, const std::map<NodeId, NodeId>& next_hop);
  void setRouteEntries(NodeId node, std::map<NodeId, RouteEntry> entries);

  // A client that has sent HELLO to `edge` (the HELLO answer is in `received`).
  Client& addClient(NodeId edge);
  // Sends from the client to its edge's `line` and delivers everything that follows.
  void clientSend(Client& client, const Bytes& packet, LineIndex line = 0);
  // Sends SUBSCRIBE now and, until stopRefreshing, every refresh interval.
  // (Re)starts the client's refresh timer.
  void subscribe(Client& client, StreamId stream);
  void stopRefreshing(Client& client);
  void publish(Client& publisher, StreamId stream, std::uint32_t sequence,
               std::uint8_t hop_limit = wire::kDefaultHopLimit);

  // The model of line pair (a's line a_line <-> b's line b_line), both ways.
  void setPath(NodeId a, LineIndex a_line, NodeId b, LineIndex b_line, const PathModel& model);
  // The same model on all four line pairs between a and b.
  void setPaths(NodeId a, NodeId b, const PathModel& model);

  TimeUs now() const { return now_us_; }
  // Moves fake time forward by `duration_us` in steps of the smallest tick
  // interval, refreshing clients, ticking every relay and delivering each
  // step; delayed packets are delivered in between at their due times.
  void advance(DurationUs duration_us);

  const std::vector<Transmission>& log() const { return log_; }
  // Consulted for every relay-sent packet the path model did not lose, with
  // its bytes: true loses it too (a targeted loss; tests also use it to see
  // payloads). Unset: nothing more is lost.
  std::function<bool(const Transmission&, std::span<const std::byte>)> drop_if;
  // Packets of `type` relay `from` sent to relay `to` (any lines).
  std::size_t countSent(NodeId from, NodeId to, wire::PacketType type) const;
  std::size_t undeliverable() const { return undeliverable_; }

 private:
  class NodeSink : public PacketSink {
   public:
    NodeSink(TestNetwork& network, NodeId node) : network_(network), node_(node) {}
    bool sendPacket(LineIndex line, const Endpoint& to, std::span<const std::byte> packet) override;

   private:
    TestNetwork& network_;
    NodeId node_;
  };
  struct Node {
    std::unique_ptr<NodeSink> sink;
    std::unique_ptr<RelayCore> core;
  };
  struct InFlight {
    Endpoint from;
    Endpoint to;
    Bytes bytes;
  };

  // `packet` as `client` sends it (joined and tagged: test_peers.h).
  Bytes asClient(const Client& client, const Bytes& packet);
  // Queues a packet for delivery at `due_us`.
  void enqueue(TimeUs due_us, InFlight packet);
  // Delivers every packet due by now, in due order.
  void deliver();
  void refreshClients();
  struct RelayLine {
    NodeId node = kNoNode;
    LineIndex line = 0;
  };
  // The node and line owning `endpoint`, if it is a relay line.
  std::optional<RelayLine> findRelayLine(const Endpoint& endpoint) const;

  TimeUs now_us_ = 1000 * kSecond;
  DurationUs refresh_interval_us_;
  std::map<NodeId, Node> relays_;
  std::deque<Client> clients_;  // deque: references stay valid as clients are added
  // By due time; equal due times keep their sending order.
  std::multimap<TimeUs, InFlight> in_flight_;
  std::map<std::pair<Endpoint, Endpoint>, PathModel> paths_;  // (from, to) relay lines
  std::mt19937_64 random_;
  std::vector<Transmission> log_;
  std::size_t undeliverable_ = 0;
  std::map<NodeId, TestPeers> peers_;  // per edge: its clients' sessions
};

}  // namespace overline::relay::test
