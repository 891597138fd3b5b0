#include "simulations/sim_network.h"

#include <cassert>
#include <cstdio>
#include <cstdlib>

namespace overline::sim {
namespace {

constexpr std::uint16_t kRelayPort = 4000;
constexpr std::uint16_t kClientPort = 5000;

std::uint64_t endpointKey(const Endpoint& endpoint) {
  return (static_cast<std::uint64_t>(endpoint.address()) << 16) | endpoint.port();
}

}  // namespace

Endpoint relayLineEndpoint(NodeId node, LineIndex line) {
  assert(node >= 1 && node <= 255 && "the simulator's addressing holds node ids 1..255");
  return Endpoint((10u << 24) | (static_cast<std::uint32_t>(line) << 16) | (node << 8) | 1u, kRelayPort);
}

Endpoint relayLineEndpoint(LineRef line) { return relayLineEndpoint(line.node, line.line); }

std::optional<LineRef> relayLineAt(const Endpoint& endpoint) {
  const std::uint32_t address = endpoint.address();
  const NodeId node = (address >> 8) & 0xffu;
  if (endpoint.port() != kRelayPort || (address >> 24) != 10 || (address & 0xffu) != 1 || node == kNoNode) {
    return std::nullopt;
  }
  return LineRef{node, static_cast<LineIndex>((address >> 16) & 0xffu)};
}

impairment::ImpairmentSettings defaultPathSettings() {
  impairment::ImpairmentSettings settings;
  settings.delay_us = 1 * kMillisecond;
  return settings;
}

PathEdit setPathSettings(impairment::ImpairmentSettings settings) {
  return [settings](impairment::LinkImpairment& path) { path.setSettings(settings); };
}

PathEdit setLoss(double loss) {
  return [loss](impairment::LinkImpairment& path) {
    impairment::ImpairmentSettings settings = path.settings();
    settings.loss = loss;
    path.setSettings(std::move(settings));
  };
}

PathEdit setDelay(DurationUs delay_us, DurationUs jitter_us) {
  return [delay_us, jitter_us](impairment::LinkImpairment& path) {
    impairment::ImpairmentSettings settings = path.settings();
    settings.delay_us = delay_us;
    settings.jitter_us = jitter_us;
    path.setSettings(std::move(settings));
  };
}

PathEdit setDown(bool down) {
  return [down](impairment::LinkImpairment& path) { path.setDown(down); };
}

PathEdit addOutage(TimeUs start_us, DurationUs duration_us) {
  return [start_us, duration_us](impairment::LinkImpairment& path) {
    path.addOutage(impairment::Outage{start_us, duration_us});
  };
}

std::optional<wire::Header> Transmission::header() const {
  const auto parsed = wire::parsePacket(bytes);
  if (!parsed) return std::nullopt;
  return parsed->header;
}

SimNetwork::SimNetwork(Simulator& simulator, std::uint64_t seed, impairment::ImpairmentSettings default_path)
    : simulator_(simulator), seed_(seed), default_path_(std::move(default_path)) {
  if (const auto problem = impairment::checkSettings(default_path_)) {
    std::fprintf(stderr, "bug: invalid default path settings: %s\n", problem->c_str());
    std::abort();
  }
}

// --- Relays ---

bool SimNetwork::RelaySink::sendPacket(LineIndex line, const Endpoint& to, std::span<const std::byte> packet) {
  network_.transmit(relayLineEndpoint(node_, line), to, packet);
  return true;
}

void SimNetwork::addRelay(relay::RelayCoreConfig config) {
  const NodeId node = config.node_id;
  assert(!relays_.contains(node) && "relay added twice");
  for (std::size_t line = 0; line < config.line_count; ++line) {
    hosts_[relayLineEndpoint(node, static_cast<LineIndex>(line))] = Host{node, static_cast<LineIndex>(line), 0};
  }
  Relay& entry = relays_[node];
  entry.config = withSimAuth(std::move(config));
  entry.config.auth.packet_number_base = packetNumberBase();
  entry.sink = std::make_unique<RelaySink>(*this, node);
  entry.core = std::make_unique<relay::RelayCore>(entry.config, *entry.sink);
  startTicking(node);
}

relay::RelayCoreConfig SimNetwork::withSimAuth(relay::RelayCoreConfig config) {
  // Relays authenticate each other as in production: one mesh key, and a
  // cookie secret per relay (fixed, so runs stay deterministic).
  if (config.auth.mesh_keys.empty() && !config.auth.insecure_lab_mode) {
    std::vector<std::uint8_t> secret(relay::kMinMeshSecretBytes);
    for (std::size_t i = 0; i < secret.size(); ++i) secret[i] = static_cast<std::uint8_t>(0x51 + i);
    config.auth.mesh_keys = {relay::MeshKey{1, std::move(secret), 0}};
  }
  for (std::size_t i = 0; i < config.auth.cookie_secret.size(); ++i) {
    config.auth.cookie_secret[i] = static_cast<std::uint8_t>(config.node_id * 31 + i);
  }
  return config;
}

std::uint64_t SimNetwork::packetNumberBase() const {
  // As the relay process does: the clock in nanoseconds at start, so a
  // restarted relay numbers above everything its previous run sent.
  return static_cast<std::uint64_t>(simulator_.now()) * 1000 + 1;
}

bool SimNetwork::isAlive(NodeId node) const {
  const auto it = relays_.find(node);
  return it != relays_.end() && it->second.core != nullptr;
}

relay::RelayCore& SimNetwork::relay(NodeId node) {
  assert(isAlive(node));
  return *relays_.at(node).core;
}

const relay::RelayCore& SimNetwork::relay(NodeId node) const {
  assert(isAlive(node));
  return *relays_.at(node).core;
}

std::vector<NodeId> SimNetwork::relayIds() const {
  std::vector<NodeId> ids;
  for (const auto& [id, entry] : relays_) ids.push_back(id);
  return ids;
}

void SimNetwork::setRoutes(NodeId node, relay::RouteTablePtr routes) {
  Relay& entry = relays_.at(node);
  entry.config.routes = routes;
  if (entry.core) {
    entry.core->setRoutes(std::move(routes));
    armTick(node);
  }
}

void SimNetwork::killNode(NodeId node) {
  Relay& entry = relays_.at(node);
  entry.core.reset();
  ++entry.generation;
}

void SimNetwork::restartNode(NodeId node) {
  Relay& entry = relays_.at(node);
  entry.config.auth.packet_number_base = packetNumberBase();
  entry.core = std::make_unique<relay::RelayCore>(entry.config, *entry.sink);
  ++entry.generation;
  startTicking(node);
}

void SimNetwork::startTicking(NodeId node) {
  relays_.at(node).wake_at.reset();
  armTick(node);
}

void SimNetwork::armTick(NodeId node) {
  Relay& entry = relays_.at(node);
  if (!entry.core) return;
  const TimeUs due = std::max(entry.core->nextDeadline(), simulator_.now());
  if (entry.wake_at && *entry.wake_at <= due) return;
  entry.wake_at = due;
  const std::uint64_t generation = entry.generation;
  simulator_.schedule(due, [this, node, generation, due] { tick(node, generation, due); });
}

void SimNetwork::tick(NodeId node, std::uint64_t generation, TimeUs at_us) {
  Relay& entry = relays_.at(node);
  // A tick superseded by an earlier one, or of a core since killed.
  if (entry.generation != generation || !entry.core || entry.wake_at != at_us) return;
  entry.wake_at.reset();
  entry.core->onTick(at_us);
  armTick(node);
}

// --- Clients ---

SimNetwork::ClientId SimNetwork::addClient(DatagramHandler on_datagram) {
  const ClientId id = clients_.size();
  const auto number = static_cast<std::uint32_t>(id + 1);
  assert(number < (1u << 16) && "the simulator's addressing holds 65535 clients");
  const Endpoint endpoint((192u << 24) | (168u << 16) | number, kClientPort);
  clients_.push_back(Client{endpoint, std::move(on_datagram)});
  hosts_[endpoint] = Host{kNoNode, 0, id};
  return id;
}

Endpoint SimNetwork::clientEndpoint(ClientId client) const { return clients_.at(client).endpoint; }

void SimNetwork::sendFromClient(ClientId client, const Endpoint& to, std::span<const std::byte> datagram) {
  transmit(clients_.at(client).endpoint, to, datagram);
}

// --- Paths ---

void SimNetwork::edit(PathMatch match, PathEdit path_edit) {
  for (auto& [key, path] : paths_) {
    if (match(key.first, key.second)) path_edit(path);
  }
  edits_.push_back(RecordedEdit{std::move(match), std::move(path_edit)});
}

void SimNetwork::editPath(const Endpoint& from, const Endpoint& to, PathEdit path_edit) {
  edit([from, to](const Endpoint& f, const Endpoint& t) { return f == from && t == to; }, std::move(path_edit));
}

void SimNetwork::editLine(LineRef line, PathEdit path_edit) {
  const Endpoint endpoint = relayLineEndpoint(line);
  edit([endpoint](const Endpoint& f, const Endpoint& t) { return f == endpoint || t == endpoint; },
       std::move(path_edit));
}

void SimNetwork::editLink(LineRef a, LineRef b, PathEdit path_edit) {
  const Endpoint ea = relayLineEndpoint(a);
  const Endpoint eb = relayLineEndpoint(b);
  edit([ea, eb](const Endpoint& f, const Endpoint& t) { return (f == ea && t == eb) || (f == eb && t == ea); },
       std::move(path_edit));
}

void SimNetwork::editNodeLinks(NodeId a, NodeId b, PathEdit path_edit) {
  edit([this, a, b](const Endpoint& f, const Endpoint& t) {
         const NodeId from = nodeAt(f);
         const NodeId to = nodeAt(t);
         return (from == a && to == b) || (from == b && to == a);
       },
       std::move(path_edit));
}

NodeId SimNetwork::nodeAt(const Endpoint& endpoint) const {
  const auto it = hosts_.find(endpoint);
  return it == hosts_.end() ? kNoNode : it->second.node;
}

void SimNetwork::editAllPaths(PathEdit path_edit) {
  edit([](const Endpoint&, const Endpoint&) { return true; }, std::move(path_edit));
}

impairment::ImpairmentCounters SimNetwork::pathCounters(const Endpoint& from, const Endpoint& to) const {
  const auto it = paths_.find(PathKey{from, to});
  return it == paths_.end() ? impairment::ImpairmentCounters{} : it->second.counters();
}

impairment::LinkImpairment& SimNetwork::pathFor(const Endpoint& from, const Endpoint& to) {
  const PathKey key{from, to};
  if (const auto it = paths_.find(key); it != paths_.end()) return it->second;
  const std::uint64_t seed = impairment::deriveSeed(impairment::deriveSeed(seed_, endpointKey(from)), endpointKey(to));
  impairment::LinkImpairment& path = paths_.try_emplace(key, default_path_, seed).first->second;
  for (const RecordedEdit& recorded : edits_) {
    if (recorded.match(from, to)) recorded.edit(path);
  }
  return path;
}

// --- Packets ---

void SimNetwork::addObserver(TransmissionObserver observer) { observers_.push_back(std::move(observer)); }

void SimNetwork::transmit(const Endpoint& from, const Endpoint& to, std::span<const std::byte> datagram) {
  ++counters_.sent;
  const TimeUs now = simulator_.now();
  std::optional<impairment::Decision> decision;
  if (hosts_.contains(to)) decision = pathFor(from, to).admit(now, datagram.size());
  for (const TransmissionObserver& observer : observers_) observer(Transmission{now, from, to, datagram, decision});

  if (!decision) {
    ++counters_.to_unknown_host;
    return;
  }
  if (!decision->delivered()) {
    ++counters_.dropped_on_path;
    return;
  }
  simulator_.schedule(decision->deliver_at_us,
                      [this, from, to, bytes = std::vector<std::byte>(datagram.begin(), datagram.end())] {
                        deliver(from, to, bytes);
                      });
}

void SimNetwork::deliver(const Endpoint& from, const Endpoint& to, const std::vector<std::byte>& datagram) {
  const Host& host = hosts_.at(to);
  if (host.node == kNoNode) {
    ++counters_.delivered;
    clients_[host.client].on_datagram(from, datagram, simulator_.now());
    return;
  }
  Relay& entry = relays_.at(host.node);
  if (!entry.core) {
    ++counters_.to_dead_host;
    return;
  }
  ++counters_.delivered;
  entry.core->onDatagram(host.line, from, datagram, simulator_.now());
  armTick(host.node);
}

}  // namespace overline::sim
