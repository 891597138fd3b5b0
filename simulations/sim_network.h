#pragma once
// SimNetwork: relays (each a real RelayCore) and SDK client hosts joined by
// modelled paths, driven by a Simulator's virtual clock.
//
// Addressing (pure numbers, no sockets): line `l` of relay `n` is
// 10.<l>.<n>.1:4000, so relay node ids are 1..255; client `k` (0-based, in
// addClient order) is 192.168.<(k+1) / 256>.<(k+1) % 256>:5000. A client
// host, like an SDK's socket, may send to any relay line.
//
// Paths. Every directed pair (from endpoint, to endpoint) that carries a
// packet is one path with its own impairment::LinkImpairment, the same model
// overline-impair uses: it decides whether each packet is dropped or when it
// is delivered. A path is created on its first packet with the network's
// default settings, then every edit made so far that matches it is replayed
// in order, so "line 1 of node 3 is down" also covers paths first used after
// the edit. Edits may be made at any simulated time (schedule them on the
// Simulator); they change paths from that moment on.
//
// Determinism: path (from, to) draws from
//   deriveSeed(deriveSeed(seed, key(from)), key(to)),  key = address << 16 | port,
// which depends on neither creation order nor other paths, so one seed
// reproduces every drop and delay of a scenario.
//
// Relays. Each relay's onTick runs at its nextDeadline() (read again after
// each tick, datagram and route change), as relay/io runs it, from the time
// it is added. A relay's packets go out through the
// network's PacketSink for it: the sink accepts every packet (the sender
// cannot see what happens on the path), and delivery is a later event, so a
// core is never re-entered from its own sink. killNode() drops the core: the
// node sends nothing more, packets arriving for it are counted and lost, and
// its ticks stop; packets it already sent are still in flight.
//
// Single-threaded. The network must outlive the Simulator's runs (events
// refer to it), and the Simulator must outlive the network.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "common/endpoint.h"
#include "common/impairment/impairment_settings.h"
#include "common/impairment/link_impairment.h"
#include "common/types.h"
#include "common/wire/packet.h"
#include "relay/core/packet_sink.h"
#include "relay/core/relay_config.h"
#include "relay/core/relay_core.h"
#include "simulations/simulator.h"

namespace overline::sim {

// Line `line` of relay `node`.
struct LineRef {
  NodeId node = kNoNode;
  LineIndex line = 0;
};

Endpoint relayLineEndpoint(NodeId node, LineIndex line);
Endpoint relayLineEndpoint(LineRef line);
// The relay line with that address, or nullopt (a client, or not an address
// of the scheme).
std::optional<LineRef> relayLineAt(const Endpoint& endpoint);

// The default path: 1 ms one-way delay, nothing else.
impairment::ImpairmentSettings defaultPathSettings();

// A change to one path's model. Edits are recorded and replayed on paths
// created later, so they must be repeatable: set a value, add an outage.
using PathEdit = std::function<void(impairment::LinkImpairment& path)>;

// Common edits. Each replaces only what it names.
PathEdit setPathSettings(impairment::ImpairmentSettings settings);  // everything, outages included
PathEdit setLoss(double loss);                                      // 0..1
PathEdit setDelay(DurationUs delay_us, DurationUs jitter_us = 0);
PathEdit setDown(bool down);                                        // the manual down switch
PathEdit addOutage(TimeUs start_us, DurationUs duration_us);

// One packet handed to the network, as seen by observers.
struct Transmission {
  TimeUs sent_at_us = 0;
  Endpoint from;
  Endpoint to;
  std::span<const std::byte> bytes;  // valid only during the observer call
  // The path's decision; nullopt when no host has address `to`.
  std::optional<impairment::Decision> decision;

  // The parsed header, or nullopt for a malformed datagram.
  std::optional<wire::Header> header() const;
};
using TransmissionObserver = std::function<void(const Transmission&)>;

struct SimNetworkCounters {
  std::uint64_t sent = 0;             // every packet handed to the network
  std::uint64_t delivered = 0;        // handed to a live relay core or a client
  std::uint64_t dropped_on_path = 0;  // the path model dropped it (loss, outage, ...)
  std::uint64_t to_unknown_host = 0;  // no host has the destination address
  std::uint64_t to_dead_host = 0;     // arrived at a killed relay

  friend bool operator==(const SimNetworkCounters&, const SimNetworkCounters&) = default;
};

class SimNetwork {
 public:
  // A client's receive callback: one datagram from `from` (a relay line).
  using DatagramHandler = std::function<void(const Endpoint& from, std::span<const std::byte> datagram, TimeUs now)>;
  using ClientId = std::size_t;

  // `simulator` must outlive this network. Paths start with `default_path`
  // (which must pass impairment::checkSettings).
  SimNetwork(Simulator& simulator, std::uint64_t seed,
             impairment::ImpairmentSettings default_path = defaultPathSettings());
  SimNetwork(const SimNetwork&) = delete;
  SimNetwork& operator=(const SimNetwork&) = delete;

  Simulator& simulator() { return simulator_; }
  std::uint64_t seed() const { return seed_; }

  // --- Relays ---
  // Adds a relay running RelayCore(config) and starts ticking it now. Its
  // neighbours' lines must use relayLineEndpoint addresses.
  void addRelay(relay::RelayCoreConfig config);
  bool isAlive(NodeId node) const;
  // The relay's core; the node must be alive.
  relay::RelayCore& relay(NodeId node);
  const relay::RelayCore& relay(NodeId node) const;
  std::vector<NodeId> relayIds() const;
  // Hands `routes` to the relay now (if alive); a restart starts from them.
  void setRoutes(NodeId node, relay::RouteTablePtr routes);
  // The node stops: its core (and all its state) is dropped.
  void killNode(NodeId node);
  // A fresh core from the node's config and its latest routes, as after a
  // process restart; ticks resume now. On a live node: a crash and a restart
  // at the same instant.
  void restartNode(NodeId node);

  // --- Clients ---
  // Adds an SDK client host; `on_datagram` receives what relays send it.
  ClientId addClient(DatagramHandler on_datagram);
  Endpoint clientEndpoint(ClientId client) const;
  // Sends from the client to `to` (a relay line).
  void sendFromClient(ClientId client, const Endpoint& to, std::span<const std::byte> datagram);

  // --- Paths ---
  // The path from -> to only.
  void editPath(const Endpoint& from, const Endpoint& to, PathEdit edit);
  // Every path from or to the line's endpoint (to neighbours and clients alike).
  void editLine(LineRef line, PathEdit edit);
  // Both directions between line a and line b.
  void editLink(LineRef a, LineRef b, PathEdit edit);
  // Both directions of every line pair between relays a and b.
  void editNodeLinks(NodeId a, NodeId b, PathEdit edit);
  // Every path.
  void editAllPaths(PathEdit edit);
  // The path's model counters (admitted, delivered, drops by reason); zeros
  // for a path that has carried nothing yet.
  impairment::ImpairmentCounters pathCounters(const Endpoint& from, const Endpoint& to) const;

  // --- Observation ---
  // Called for every packet handed to the network, in send order.
  void addObserver(TransmissionObserver observer);
  const SimNetworkCounters& counters() const { return counters_; }

 private:
  // `config` with the simulator's mesh key and a per-relay cookie secret.
  static relay::RelayCoreConfig withSimAuth(relay::RelayCoreConfig config);
  std::uint64_t packetNumberBase() const;
  class RelaySink : public relay::PacketSink {
   public:
    RelaySink(SimNetwork& network, NodeId node) : network_(network), node_(node) {}
    bool sendPacket(LineIndex line, const Endpoint& to, std::span<const std::byte> packet) override;

   private:
    SimNetwork& network_;
    NodeId node_;
  };
  struct Relay {
    relay::RelayCoreConfig config;  // as added; routes replaced by setRoutes
    std::unique_ptr<RelaySink> sink;
    std::unique_ptr<relay::RelayCore> core;  // null while killed
    // Bumped by kill and restart so that the old tick chain stops.
    std::uint64_t generation = 0;
    std::optional<TimeUs> wake_at;  // the tick scheduled next
  };
  struct Client {
    Endpoint endpoint;
    DatagramHandler on_datagram;
  };
  // What lives at an endpoint: a relay line, or a client (node == kNoNode).
  struct Host {
    NodeId node = kNoNode;
    LineIndex line = 0;
    ClientId client = 0;
  };
  using PathKey = std::pair<Endpoint, Endpoint>;
  using PathMatch = std::function<bool(const Endpoint& from, const Endpoint& to)>;
  struct RecordedEdit {
    PathMatch match;
    PathEdit edit;
  };

  void startTicking(NodeId node);
  // Schedules the relay's next tick at its core's nextDeadline() if that is
  // earlier than the one scheduled.
  void armTick(NodeId node);
  void tick(NodeId node, std::uint64_t generation, TimeUs at_us);
  void edit(PathMatch match, PathEdit edit);
  // The relay owning `endpoint`, or kNoNode (a client, or nobody).
  NodeId nodeAt(const Endpoint& endpoint) const;
  impairment::LinkImpairment& pathFor(const Endpoint& from, const Endpoint& to);
  void transmit(const Endpoint& from, const Endpoint& to, std::span<const std::byte> datagram);
  void deliver(const Endpoint& from, const Endpoint& to, const std::vector<std::byte>& datagram);

  Simulator& simulator_;
  std::uint64_t seed_;
  impairment::ImpairmentSettings default_path_;
  std::map<NodeId, Relay> relays_;
  std::vector<Client> clients_;
  std::map<Endpoint, Host> hosts_;
  std::map<PathKey, impairment::LinkImpairment> paths_;
  std::vector<RecordedEdit> edits_;
  std::vector<TransmissionObserver> observers_;
  SimNetworkCounters counters_;
};

}  // namespace overline::sim
