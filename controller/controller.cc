#include "controller/controller.h"

#include <openssl/rand.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "common/crypto/key_derivation.h"
#include "common/endpoint.h"
#include "common/process/log_fields.h"
#include "common/token/join_token.h"
#include "controller/core/link_agreement.h"
#include "controller/edge_ranking.h"
#include "controller/peer_address.h"

namespace overline::controller {
namespace {

using Durability = ControllerStore::Durability;

// Reports above these are measurement bugs, not slow links.
constexpr std::uint64_t kMaxReportedRttUs = 60 * kSecond;
constexpr std::size_t kMaxLines = 256;  // LineIndex is 8 bits wide
constexpr std::size_t kMaxLineNameChars = 32;
constexpr std::size_t kMaxTagChars = 64;
// How often an unchanged link is rewritten to the store, at most: often
// enough that a restarted controller finds it fresh, rarely enough that the
// store does not rewrite every link on every report.
constexpr std::int64_t kLinkPersistIntervalMs = 5000;
// REROUTE details list this many destinations, then "and N more".
constexpr std::size_t kMaxListedChanges = 5;

std::string notProvisioned(NodeId node) { return "node " + std::to_string(node) + " is not provisioned"; }

bool isLineName(std::string_view name) {
  if (name.empty() || name.size() > kMaxLineNameChars) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

// Regions and ISP tags: 1..64 characters of [A-Za-z0-9_.-].
bool isTag(std::string_view tag) {
  if (tag.empty() || tag.size() > kMaxTagChars) return false;
  return std::all_of(tag.begin(), tag.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
           c == '-';
  });
}

// "<field>: <problem>" for the first problem of a provisioning request.
std::optional<std::string> provisioningProblem(const v1::ProvisionNodeRequest& request) {
  if (request.node_id() == kNoNode) return "node_id: must be 1..4294967295";
  if (!isTag(request.region())) {
    return "region: \"" + request.region() + "\" must be 1..64 characters of [A-Za-z0-9_.-]";
  }
  if (request.lines().empty() || static_cast<std::size_t>(request.lines().size()) > kMaxLines) {
    return "lines: expected 1..256 lines, got " + std::to_string(request.lines().size());
  }
  std::set<std::string> names;
  for (int i = 0; i < request.lines().size(); ++i) {
    const v1::Line& line = request.lines(i);
    const std::string path = "lines[" + std::to_string(i) + "]";
    if (!isLineName(line.name())) {
      return path + ".name: \"" + line.name() + "\" must be 1..32 characters of [a-z0-9_-]";
    }
    if (!names.insert(line.name()).second) return path + ".name: \"" + line.name() + "\" is used twice";
    if (!Endpoint::parse(line.address())) {
      return path + ".address: expected IPv4:port, got \"" + line.address() + "\"";
    }
    if (!line.isp().empty() && !isTag(line.isp())) {
      return path + ".isp: \"" + line.isp() + "\" must be 1..64 characters of [A-Za-z0-9_.-]";
    }
  }
  if (request.capacity_bps() == 0) return "capacity_bps: must be greater than 0";
  return std::nullopt;
}

std::optional<LinkState> fromProto(v1::LinkState state) {
  switch (state) {
    case v1::LINK_STATE_UP: return LinkState::kUp;
    case v1::LINK_STATE_DEGRADED: return LinkState::kDegraded;
    case v1::LINK_STATE_DOWN: return LinkState::kDown;
    default: return std::nullopt;
  }
}

v1::LinkState toProto(LinkState state) {
  switch (state) {
    case LinkState::kUp: return v1::LINK_STATE_UP;
    case LinkState::kDegraded: return v1::LINK_STATE_DEGRADED;
    case LinkState::kDown: return v1::LINK_STATE_DOWN;
  }
  return v1::LINK_STATE_UNSPECIFIED;
}

std::string_view stateName(LinkState state) {
  switch (state) {
    case LinkState::kUp: return "up";
    case LinkState::kDegraded: return "degraded";
    case LinkState::kDown: return "down";
  }
  return "unknown";
}

std::string formatMs(DurationUs us) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f ms", static_cast<double>(us) / kMillisecond);
  return text;
}

std::string formatPercent(double ratio) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f%%", ratio * 100);
  return text;
}

void setNextHop(v1::NextHop& out, NodeId node, const LinePair& lines) {
  out.set_node_id(node);
  out.set_local_line(lines.local_line);
  out.set_remote_line(lines.remote_line);
}

}  // namespace

KeySecret randomKeySecret() {
  KeySecret secret;
  // RAND_bytes fails only when the OS has no entropy source at all; a
  // controller must not start key epochs with a predictable secret.
  if (RAND_bytes(secret.data(), static_cast<int>(secret.size())) != 1) {
    spdlog::critical("no randomness for a key epoch (RAND_bytes failed)");
    std::abort();
  }
  return secret;
}

std::int64_t systemUnixMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Controller::Controller(ControllerStore& store, ControllerSettings settings, ControllerMetrics& metrics,
                       UnixClockMs clock, KeySecretSource secrets)
    : store_(store),
      settings_(std::move(settings)),
      metrics_(metrics),
      clock_(std::move(clock)),
      secrets_(std::move(secrets)) {}

Result<std::unique_ptr<Controller>, std::string> Controller::create(ControllerStore& store,
                                                                    ControllerSettings settings,
                                                                    ControllerMetrics& metrics, UnixClockMs clock,
                                                                    KeySecretSource secrets) {
  auto stored = store.load();
  if (!stored) return Err(stored.error());
  std::unique_ptr<Controller> controller(
      new Controller(store, std::move(settings), metrics, std::move(clock), std::move(secrets)));
  for (const ProvisionedNode& node : stored->nodes) {
    NodeEntry entry;
    entry.provisioned = node;
    entry.sighting.id = node.id;
    controller->nodes_.emplace(node.id, std::move(entry));
  }
  for (const NodeSighting& sighting : stored->sightings) {
    if (auto it = controller->nodes_.find(sighting.id); it != controller->nodes_.end()) {
      it->second.sighting = sighting;
    }
  }
  for (const StoredLink& link : stored->links) {
    const LinkMeasurement& m = link.measurement;
    const NodeEntry* from = controller->findNode(m.from);
    const NodeEntry* to = controller->findNode(m.to);
    // Provisioning may have changed since: keep only links it still allows.
    if (from == nullptr || to == nullptr || m.from_line >= from->provisioned.lines.size() ||
        m.to_line >= to->provisioned.lines.size()) {
      continue;
    }
    controller->links_.emplace(keyOf(m), LinkEntry{m, link.updated_unix_ms, link.updated_unix_ms});
  }
  controller->route_version_ = stored->route_version;
  metrics.setRouteVersion(stored->route_version);
  controller->keys_ = KeySchedule(stored->key_epochs);
  {
    std::lock_guard lock(controller->mutex_);
    if (controller->keys_.empty() && !controller->rotateKeysLocked("first start")) {
      return Err(std::string("store: cannot write the first data-plane key epoch"));
    }
    metrics.setKeyEpoch(controller->keys_.sendingEpoch(controller->clock_() / 1000).value_or(0));
  }
  metrics.setConnectedRelays(0);
  logEvent(spdlog::level::info, "store loaded",
           {{"nodes", controller->nodes_.size()}, {"links", controller->links_.size()},
            {"route_version", stored->route_version}, {"events", stored->last_event_sequence}});
  return controller;
}

Controller::~Controller() { stop(); }

void Controller::start() {
  std::lock_guard lock(mutex_);
  if (worker_.joinable() || stopping_) return;
  worker_ = std::thread([this] { routeWorkerLoop(); });
}

void Controller::stop() {
  {
    std::lock_guard lock(mutex_);
    if (!stopping_) {
      stopping_ = true;
      for (auto& [id, entry] : nodes_) {
        if (entry.session != nullptr) {
          entry.session->close(grpc::Status(grpc::StatusCode::UNAVAILABLE, "controller is shutting down"));
        }
      }
    }
  }
  wake_worker_.notify_all();
  if (worker_.joinable()) worker_.join();
}

bool Controller::stopping() const {
  std::lock_guard lock(mutex_);
  return stopping_;
}

bool Controller::waitForSessionsEnded(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return session_ended_.wait_for(lock, timeout, [&] {
    return std::none_of(nodes_.begin(), nodes_.end(), [](const auto& node) { return node.second.session != nullptr; });
  });
}

// ---------------------------------------------------------------- helpers

v1::Event Controller::makeEvent(v1::EventType type, NodeId node, NodeId peer, std::string detail) const {
  v1::Event event;
  event.set_time_unix_ms(clock_());
  event.set_type(type);
  event.set_node_id(node);
  event.set_peer_node_id(peer);
  event.set_detail(std::move(detail));
  return event;
}

bool Controller::commitLocked(ControllerStore::Batch batch, Durability durability, std::string_view what) {
  auto committed = store_.commit(std::move(batch), durability);
  if (!committed) {
    logEvent(spdlog::level::err, "store commit failed", {{"what", what}, {"error", committed.error()}});
    return false;
  }
  for (const v1::Event& event : committed.value()) {
    if (event.peer_node_id() != kNoNode) {
      logEvent(spdlog::level::info, "event",
               {{"seq", event.sequence()}, {"type", v1::EventType_Name(event.type())}, {"node", event.node_id()},
                {"peer", event.peer_node_id()}, {"detail", event.detail()}});
    } else {
      logEvent(spdlog::level::info, "event",
               {{"seq", event.sequence()}, {"type", v1::EventType_Name(event.type())}, {"node", event.node_id()},
                {"detail", event.detail()}});
    }
  }
  return true;
}

const Controller::NodeEntry* Controller::findNode(NodeId id) const {
  const auto it = nodes_.find(id);
  return it == nodes_.end() ? nullptr : &it->second;
}

std::string Controller::effectiveAddress(const NodeEntry& node, std::size_t line) const {
  const std::string& provisioned = node.provisioned.lines[line].address;
  const auto endpoint = Endpoint::parse(provisioned);
  if (endpoint && endpoint->port() != 0) return provisioned;
  if (line < node.sighting.announced_addresses.size()) return node.sighting.announced_addresses[line];
  return provisioned;
}

v1::ControllerMessage Controller::peerListFor(NodeId node) const {
  v1::ControllerMessage message;
  auto* peers = message.mutable_peer_list();
  for (const auto& [id, entry] : nodes_) {
    if (id == node) continue;
    auto* peer = peers->add_peers();
    peer->set_node_id(id);
    peer->set_region(entry.provisioned.region);
    for (std::size_t i = 0; i < entry.provisioned.lines.size(); ++i) {
      auto* line = peer->add_lines();
      line->set_name(entry.provisioned.lines[i].name);
      line->set_address(effectiveAddress(entry, i));
      line->set_isp(entry.provisioned.lines[i].isp);
    }
    for (const KeyEpoch& epoch : keys_.epochs()) {
      const crypto::Key128 key = crypto::derivePairKey(epoch.secret, epoch.epoch, node, id);
      auto* out = peer->add_keys();
      out->set_epoch(epoch.epoch);
      out->set_key(std::string(reinterpret_cast<const char*>(key.data()), key.size()));
      out->set_activate_at_unix_s(epoch.activate_at_unix_s);
    }
  }
  return message;
}

v1::KeyEpochInfo Controller::keyEpochInfo(const KeyEpoch& epoch) const {
  v1::KeyEpochInfo info;
  info.set_epoch(epoch.epoch);
  info.set_created_unix_s(epoch.created_unix_s);
  info.set_activate_at_unix_s(epoch.activate_at_unix_s);
  info.set_sending(keys_.sendingEpoch(clock_() / 1000) == epoch.epoch);
  return info;
}

bool Controller::rotateKeysLocked(std::string_view why) {
  const std::int64_t now_s = clock_() / 1000;
  KeySchedule next = keys_;
  const KeyEpoch& started = next.rotate(now_s, secrets_(), settings_.keys.activation_delay_s);
  ControllerStore::Batch batch;
  batch.putKeyEpochs(next.epochs());
  batch.appendEvent(makeEvent(v1::EVENT_TYPE_KEYS_ROTATED, kNoNode, kNoNode,
                              "key epoch " + std::to_string(started.epoch) + " (" + std::string(why) +
                                  "): relays send with it from " + std::to_string(started.activate_at_unix_s) +
                                  " (unix s)"));
  // Synced: relays will hold these keys, so the epoch must never be reused.
  if (!commitLocked(std::move(batch), Durability::kSynced, "start key epoch")) return false;
  keys_ = std::move(next);
  metrics_.countKeyRotation();
  return true;
}

void Controller::maintainKeysLocked() {
  const std::int64_t now_s = clock_() / 1000;
  bool changed = false;
  if (keys_.rotationDue(now_s, settings_.keys)) changed = rotateKeysLocked("scheduled") || changed;
  KeySchedule retired = keys_;
  if (retired.retire(now_s, settings_.keys.retire_after_s)) {
    ControllerStore::Batch batch;
    batch.putKeyEpochs(retired.epochs());
    if (commitLocked(std::move(batch), Durability::kSynced, "retire key epochs")) {
      keys_ = std::move(retired);
      changed = true;
    }
  }
  metrics_.setKeyEpoch(keys_.sendingEpoch(now_s).value_or(0));
  if (changed) broadcastPeersLocked();
}

grpc::Status Controller::rotateKeys(v1::RotateKeysResponse& response) {
  std::lock_guard lock(mutex_);
  if (stopping_) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "controller is shutting down");
  if (!rotateKeysLocked("requested")) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "cannot write the store");
  *response.mutable_epoch() = keyEpochInfo(keys_.epochs().back());
  broadcastPeersLocked();
  wake_worker_.notify_all();  // its next key deadline moved
  return grpc::Status::OK;
}

void Controller::listKeyEpochs(v1::ListKeyEpochsResponse& response) const {
  std::lock_guard lock(mutex_);
  for (const KeyEpoch& epoch : keys_.epochs()) *response.add_epochs() = keyEpochInfo(epoch);
}

v1::ControllerMessage Controller::routeTableFor(const NodeEntry& node) const {
  v1::ControllerMessage message;
  auto* table = message.mutable_route_table();
  table->set_version(node.table_version);
  for (const TableRoute& route : node.table) {
    auto* out = table->add_routes();
    out->set_destination(route.destination);
    setNextHop(*out->mutable_primary(), route.primary, route.primary_lines);
    if (route.backup != kNoNode) setNextHop(*out->mutable_backup(), route.backup, route.backup_lines);
  }
  return message;
}

v1::ControllerMessage Controller::configPush() const {
  v1::ControllerMessage message;
  message.mutable_config()->set_probe_interval_ms(settings_.relays.probe_interval_ms);
  message.mutable_config()->set_report_interval_ms(settings_.relays.report_interval_ms);
  return message;
}

void Controller::broadcastPeersLocked() {
  for (const auto& [id, entry] : nodes_) {
    if (entry.session != nullptr) entry.session->send(peerListFor(id));
  }
}

void Controller::markRoutesDirtyLocked(Urgency urgency) {
  const auto now = std::chrono::steady_clock::now();
  if (urgency == Urgency::kAtOnce) {
    // Due now: the worker compares dirty_since_ + debounce with the clock.
    routes_dirty_ = true;
    dirty_since_ = now - std::chrono::microseconds(settings_.routes.debounce_us);
  } else if (!routes_dirty_) {
    routes_dirty_ = true;
    dirty_since_ = now;
  }
  wake_worker_.notify_all();
}

void Controller::updateConnectedLocked() {
  const auto connected = std::count_if(nodes_.begin(), nodes_.end(),
                                       [](const auto& node) { return node.second.session != nullptr; });
  metrics_.setConnectedRelays(static_cast<std::size_t>(connected));
}

bool Controller::isFresh(const LinkEntry& link, std::int64_t now_unix_ms) const {
  return (now_unix_ms - link.updated_unix_ms) * kMillisecond <= settings_.routes.link_expiry_us;
}

std::string Controller::linkName(const LinkKey& key) const {
  const auto line_name = [&](NodeId node, LineIndex line) {
    const NodeEntry* entry = findNode(node);
    if (entry == nullptr || line >= entry->provisioned.lines.size()) return std::to_string(line);
    return std::to_string(line) + " (" + entry->provisioned.lines[line].name + ")";
  };
  return "node " + std::to_string(key.from) + " line " + line_name(key.from, key.from_line) + " -> node " +
         std::to_string(key.to) + " line " + line_name(key.to, key.to_line);
}

// ---------------------------------------------------------------- admin

grpc::Status Controller::provisionNode(const v1::ProvisionNodeRequest& request,
                                       v1::ProvisionNodeResponse& response) {
  if (auto problem = provisioningProblem(request)) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, *problem);
  }
  ProvisionedNode node;
  node.id = request.node_id();
  node.region = request.region();
  for (const v1::Line& line : request.lines()) {
    // Lines are usually named after their ISP, so the name is the default tag.
    node.lines.push_back({line.name(), line.address(), line.isp().empty() ? line.name() : line.isp()});
  }
  node.capacity_bps = request.capacity_bps();

  std::lock_guard lock(mutex_);
  if (stopping_) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "controller is shutting down");
  const auto existing = nodes_.find(node.id);
  const bool created = existing == nodes_.end();
  response.set_created(created);
  if (!created) {
    node.drained = existing->second.provisioned.drained;
    if (existing->second.provisioned == node) return grpc::Status::OK;
  }

  ControllerStore::Batch batch;
  batch.putNode(node);
  // Links over lines that no longer exist go with them.
  std::vector<LinkKey> dropped_links;
  for (const auto& [key, link] : links_) {
    if ((key.from == node.id && key.from_line >= node.lines.size()) ||
        (key.to == node.id && key.to_line >= node.lines.size())) {
      dropped_links.push_back(key);
      batch.deleteLink(key);
    }
  }
  batch.appendEvent(makeEvent(v1::EVENT_TYPE_NODE_PROVISIONED, node.id, kNoNode,
                              std::string(created ? "created" : "updated") + ": region " + node.region + ", " +
                                  std::to_string(node.lines.size()) + " lines, capacity " +
                                  std::to_string(node.capacity_bps) + " bps"));
  if (!commitLocked(std::move(batch), Durability::kSynced, "provision node " + std::to_string(node.id))) {
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, "cannot write the store");
  }
  for (const LinkKey& key : dropped_links) links_.erase(key);
  if (created) {
    NodeEntry entry;
    entry.provisioned = std::move(node);
    entry.sighting.id = entry.provisioned.id;
    nodes_.emplace(entry.provisioned.id, std::move(entry));
  } else {
    NodeEntry& entry = existing->second;
    const bool identity_changed = entry.provisioned.region != node.region ||
                                  entry.provisioned.lines.size() != node.lines.size() ||
                                  !std::equal(node.lines.begin(), node.lines.end(), entry.provisioned.lines.begin(),
                                              [](const NodeLine& a, const NodeLine& b) { return a.name == b.name; });
    entry.provisioned = std::move(node);
    // The hello was checked against the old region and lines: make the
    // relay say hello again.
    if (identity_changed && entry.session != nullptr) {
      entry.session->close(grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                                        "provisioning of node " + std::to_string(entry.provisioned.id) +
                                            " changed; reconnect"));
    }
  }
  broadcastPeersLocked();
  markRoutesDirtyLocked();
  return grpc::Status::OK;
}

grpc::Status Controller::setDrained(NodeId node, bool drained, bool& changed) {
  std::lock_guard lock(mutex_);
  if (stopping_) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "controller is shutting down");
  const auto it = nodes_.find(node);
  if (it == nodes_.end()) return grpc::Status(grpc::StatusCode::NOT_FOUND, notProvisioned(node));
  changed = it->second.provisioned.drained != drained;
  if (!changed) return grpc::Status::OK;
  ProvisionedNode updated = it->second.provisioned;
  updated.drained = drained;
  ControllerStore::Batch batch;
  batch.putNode(updated);
  batch.appendEvent(drained ? makeEvent(v1::EVENT_TYPE_NODE_DRAINED, node, kNoNode, "carries no transit")
                            : makeEvent(v1::EVENT_TYPE_NODE_UNDRAINED, node, kNoNode, "carries transit again"));
  const std::string what = (drained ? "drain node " : "undrain node ") + std::to_string(node);
  if (!commitLocked(std::move(batch), Durability::kSynced, what)) {
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, "cannot write the store");
  }
  it->second.provisioned = std::move(updated);
  markRoutesDirtyLocked();
  return grpc::Status::OK;
}

grpc::Status Controller::removeNode(NodeId node) {
  std::lock_guard lock(mutex_);
  if (stopping_) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "controller is shutting down");
  const auto it = nodes_.find(node);
  if (it == nodes_.end()) return grpc::Status(grpc::StatusCode::NOT_FOUND, notProvisioned(node));
  ControllerStore::Batch batch;
  batch.deleteNode(node);
  std::vector<LinkKey> links;
  for (const auto& [key, link] : links_) {
    if (key.from == node || key.to == node) {
      links.push_back(key);
      batch.deleteLink(key);
    }
  }
  batch.appendEvent(makeEvent(v1::EVENT_TYPE_NODE_REMOVED, node, kNoNode,
                              "removed with " + std::to_string(links.size()) + " links"));
  if (!commitLocked(std::move(batch), Durability::kSynced, "remove node " + std::to_string(node))) {
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, "cannot write the store");
  }
  if (it->second.session != nullptr) {
    it->second.session->close(
        grpc::Status(grpc::StatusCode::NOT_FOUND, "node " + std::to_string(node) + " was removed"));
  }
  for (const LinkKey& key : links) links_.erase(key);
  nodes_.erase(it);
  updateConnectedLocked();
  broadcastPeersLocked();
  markRoutesDirtyLocked();
  return grpc::Status::OK;
}

void Controller::listNodes(v1::ListNodesResponse& response) const {
  std::lock_guard lock(mutex_);
  for (const auto& [id, entry] : nodes_) {
    v1::Node* node = response.add_nodes();
    node->set_node_id(id);
    node->set_region(entry.provisioned.region);
    for (std::size_t i = 0; i < entry.provisioned.lines.size(); ++i) {
      v1::Line* line = node->add_lines();
      line->set_name(entry.provisioned.lines[i].name);
      line->set_address(effectiveAddress(entry, i));
      line->set_isp(entry.provisioned.lines[i].isp);
    }
    node->set_capacity_bps(entry.provisioned.capacity_bps);
    node->set_drained(entry.provisioned.drained);
    node->set_connected(entry.session != nullptr);
    node->set_last_seen_unix_ms(entry.sighting.last_seen_unix_ms);
    node->set_software_version(entry.sighting.software_version);
    node->set_load(entry.load);
    node->set_streams(entry.streams);
    node->set_route_version(entry.table_version);
    node->set_applied_route_version(entry.applied_route_version);
  }
}

void Controller::listLinks(v1::ListLinksResponse& response) const {
  std::lock_guard lock(mutex_);
  const std::int64_t now = clock_();
  const auto line_name = [&](NodeId node, LineIndex line) {
    const NodeEntry* entry = findNode(node);
    return entry != nullptr && line < entry->provisioned.lines.size() ? entry->provisioned.lines[line].name
                                                                      : std::string();
  };
  for (const auto& [key, entry] : links_) {
    const LinkMeasurement& m = entry.measurement;
    v1::Link* link = response.add_links();
    link->set_from_node(m.from);
    link->set_from_line(m.from_line);
    link->set_from_line_name(line_name(m.from, m.from_line));
    link->set_to_node(m.to);
    link->set_to_line(m.to_line);
    link->set_to_line_name(line_name(m.to, m.to_line));
    link->set_rtt_us(static_cast<std::uint64_t>(m.rtt_us));
    link->set_jitter_us(static_cast<std::uint64_t>(m.jitter_us));
    link->set_loss(m.loss);
    link->set_state(toProto(m.state));
    link->set_updated_unix_ms(entry.updated_unix_ms);
    link->set_stale(!isFresh(entry, now));
  }
}

v1::Path Controller::pathMessage(const std::vector<NodeId>& nodes, const LinePair& first_lines,
                                 NodeId destination, CostUs cost_us) const {
  v1::Path path;
  path.set_cost_us(cost_us);
  for (const NodeId node : nodes) path.add_nodes(node);
  for (std::size_t i = 0; i + 1 < nodes.size(); ++i) {
    v1::Hop* hop = path.add_hops();
    hop->set_from_node(nodes[i]);
    hop->set_to_node(nodes[i + 1]);
    // The first hop is the source's choice (primary or backup); every later
    // hop follows that node's own primary route.
    LinePair lines = first_lines;
    if (i > 0) {
      if (const auto route = routes_->route(nodes[i], destination)) lines = route->primary.lines;
    }
    hop->set_local_line(lines.local_line);
    hop->set_remote_line(lines.remote_line);
    const auto link = links_.find({nodes[i], lines.local_line, nodes[i + 1], lines.remote_line});
    if (link != links_.end()) {
      hop->set_rtt_us(static_cast<std::uint64_t>(link->second.measurement.rtt_us));
      hop->set_loss(link->second.measurement.loss);
      hop->set_state(toProto(link->second.measurement.state));
    }
  }
  return path;
}

grpc::Status Controller::getPath(const v1::GetPathRequest& request, v1::GetPathResponse& response) const {
  const NodeId source = request.source();
  const NodeId destination = request.destination();
  if (source == destination) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "destination: must differ from source (" + std::to_string(source) + ")");
  }
  std::lock_guard lock(mutex_);
  for (const NodeId node : {source, destination}) {
    if (findNode(node) == nullptr) return grpc::Status(grpc::StatusCode::NOT_FOUND, notProvisioned(node));
  }
  const auto route = routes_ ? routes_->route(source, destination) : std::nullopt;
  if (!route) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND, "no route from node " + std::to_string(source) +
                                                         " to node " + std::to_string(destination));
  }
  *response.mutable_primary() =
      pathMessage(routes_->primaryPath(source, destination), route->primary.lines, destination, route->primary.cost_us);
  if (route->backup.node != kNoNode) {
    *response.mutable_backup() =
        pathMessage(routes_->backupPath(source, destination), route->backup.lines, destination, route->backup.cost_us);
  }
  response.set_backup_kind(std::string(toString(route->backup_kind)));
  response.set_route_version(findNode(source)->table_version);
  return grpc::Status::OK;
}

// ---------------------------------------------------------------- edge

namespace {

// The roles and scope `request` asks for, or the INVALID_ARGUMENT status.
grpc::Status requestedGrant(const v1::AllocateEdgeRequest& request, token::JoinGrant& grant) {
  grant.roles = 0;
  for (const int role : request.roles()) {
    switch (role) {
      case v1::JOIN_ROLE_PUBLISH: grant.roles |= static_cast<std::uint8_t>(token::Role::kPublish); break;
      case v1::JOIN_ROLE_SUBSCRIBE: grant.roles |= static_cast<std::uint8_t>(token::Role::kSubscribe); break;
      default:
        return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                            "roles: expected JOIN_ROLE_PUBLISH or JOIN_ROLE_SUBSCRIBE, got " + std::to_string(role));
    }
  }
  if (grant.roles == 0) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "roles: ask for JOIN_ROLE_PUBLISH, JOIN_ROLE_SUBSCRIBE or both");
  }
  const std::uint32_t prefix_bits = request.scope().prefix_bits();
  if (prefix_bits > 64) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "scope.prefix_bits: expected 0..64, got " + std::to_string(prefix_bits));
  }
  grant.scope = token::StreamScope::prefix(request.scope().value(), static_cast<std::uint8_t>(prefix_bits));
  if (grant.scope.value != request.scope().value()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "scope.value: bits below the " + std::to_string(prefix_bits) + "-bit prefix must be zero");
  }
  return grpc::Status::OK;
}

}  // namespace

grpc::Status Controller::allocateEdge(const v1::AllocateEdgeRequest& request, std::string_view peer,
                                      v1::AllocateEdgeResponse& response) const {
  // The token binds the address the client is seen at, never one it claims:
  // a client cannot obtain a token for somebody else's address.
  const auto client_address = peerIPv4Address(peer);
  if (!client_address) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "join tokens bind the client's IPv4 address, and edges take IPv4 clients only: " +
                            client_address.error());
  }
  token::JoinGrant grant;
  if (grpc::Status invalid = requestedGrant(request, grant); !invalid.ok()) return invalid;

  std::lock_guard lock(mutex_);
  // One token names every candidate, and a token names at most kMaxTokenEdges.
  const std::size_t max_count = std::min<std::size_t>(
      token::kMaxTokenEdges, request.max_candidates() == 0
                                 ? settings_.edge.max_candidates
                                 : std::min(request.max_candidates(), settings_.edge.max_candidates));
  std::vector<EdgeOption> options;
  for (const auto& [id, entry] : nodes_) {
    EdgeOption option{id, entry.provisioned.region, {}, entry.load, entry.session != nullptr, isDrained(entry)};
    for (std::size_t i = 0; i < entry.provisioned.lines.size(); ++i) {
      const auto address = Endpoint::parse(effectiveAddress(entry, i));
      if (address && address->port() != 0) {
        option.lines.push_back({static_cast<LineIndex>(i), entry.provisioned.lines[i].isp});
      }
    }
    options.push_back(std::move(option));
  }
  const auto picks =
      rankEdges(options, request.region_hint(), request.isp_hint(), settings_.edge.max_load, max_count);
  if (picks.empty()) {
    return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                        "no edge relay available (none connected, or all drained or overloaded)");
  }
  grant.expires_unix_s = clock_() / 1000 + settings_.edge.token_ttl_s;
  for (const EdgePick& pick : picks) grant.edges.push_back(pick.node);
  const std::string join_token = token::signJoinToken(settings_.edge.token_key, grant, client_address.value());
  response.set_expires_unix_s(grant.expires_unix_s);
  response.set_observed_address(client_address.value());
  for (const EdgePick& pick : picks) {
    const NodeEntry& entry = *findNode(pick.node);
    v1::EdgeCandidate* candidate = response.add_candidates();
    candidate->set_node_id(pick.node);
    candidate->set_address(effectiveAddress(entry, pick.line));
    candidate->set_region(entry.provisioned.region);
    candidate->set_isp(entry.provisioned.lines[pick.line].isp);
    candidate->set_join_token(join_token);
  }
  return grpc::Status::OK;
}

// ---------------------------------------------------------------- sessions

Result<NodeId, grpc::Status> Controller::onHello(const v1::RelayHello& hello, NodeId certified_node,
                                                 std::string_view peer, RelayChannel& channel) {
  const auto reject = [&](grpc::StatusCode code, const std::string& reason) -> Result<NodeId, grpc::Status> {
    v1::ControllerMessage ack;
    ack.mutable_hello_ack()->set_accepted(false);
    ack.mutable_hello_ack()->set_reason(reason);
    channel.send(std::move(ack));
    logEvent(spdlog::level::warn, "relay hello rejected",
             {{"peer", peer}, {"node", hello.node_id()}, {"reason", reason}});
    return Err(grpc::Status(code, reason));
  };

  if (hello.node_id() != certified_node) {
    metrics_.countRefusedCall("relays", "wrong_node");
    return reject(grpc::StatusCode::PERMISSION_DENIED,
                  "the certificate names relay " + std::to_string(certified_node) + ", the hello node " +
                      std::to_string(hello.node_id()));
  }
  std::lock_guard lock(mutex_);
  if (stopping_) return reject(grpc::StatusCode::UNAVAILABLE, "controller is shutting down");
  const auto it = nodes_.find(hello.node_id());
  if (it == nodes_.end()) return reject(grpc::StatusCode::NOT_FOUND, notProvisioned(hello.node_id()));
  NodeEntry& entry = it->second;
  const NodeId node = hello.node_id();
  if (hello.region() != entry.provisioned.region) {
    return reject(grpc::StatusCode::FAILED_PRECONDITION, "region \"" + hello.region() +
                                                             "\" differs from the provisioned \"" +
                                                             entry.provisioned.region + "\"");
  }
  const auto names = [](const auto& lines, auto name_of) {
    std::string text;
    for (const auto& line : lines) text += (text.empty() ? "" : ", ") + name_of(line);
    return "[" + text + "]";
  };
  const bool same_lines = static_cast<std::size_t>(hello.lines().size()) == entry.provisioned.lines.size() &&
                          std::equal(hello.lines().begin(), hello.lines().end(), entry.provisioned.lines.begin(),
                                     [](const v1::Line& a, const NodeLine& b) { return a.name() == b.name; });
  if (!same_lines) {
    return reject(grpc::StatusCode::FAILED_PRECONDITION,
                  "lines " + names(hello.lines(), [](const v1::Line& l) { return l.name(); }) +
                      " differ from the provisioned " +
                      names(entry.provisioned.lines, [](const NodeLine& l) { return l.name; }));
  }
  for (int i = 0; i < hello.lines().size(); ++i) {
    if (!Endpoint::parse(hello.lines(i).address())) {
      return reject(grpc::StatusCode::INVALID_ARGUMENT, "lines[" + std::to_string(i) +
                                                            "].address: expected IPv4:port, got \"" +
                                                            hello.lines(i).address() + "\"");
    }
  }

  const bool replaced = entry.session != nullptr;
  if (replaced) {
    entry.session->close(grpc::Status(grpc::StatusCode::ABORTED,
                                      "replaced by a newer session of node " + std::to_string(node)));
  }
  std::vector<std::string> addresses_before;
  for (std::size_t i = 0; i < entry.provisioned.lines.size(); ++i) {
    addresses_before.push_back(effectiveAddress(entry, i));
  }
  entry.session = &channel;
  entry.report_tokens = kReportBurst;
  entry.report_tokens_at_unix_ms = clock_();
  if (entry.self_drained) {
    // Back after its shutdown (or a reconnect): it may carry transit again.
    entry.self_drained = false;
    markRoutesDirtyLocked();
  }
  entry.sighting.last_seen_unix_ms = clock_();
  entry.sighting.software_version = hello.software_version();
  entry.sighting.announced_addresses.clear();
  for (const v1::Line& line : hello.lines()) entry.sighting.announced_addresses.push_back(line.address());
  bool addresses_changed = false;
  for (std::size_t i = 0; i < entry.provisioned.lines.size(); ++i) {
    addresses_changed = addresses_changed || effectiveAddress(entry, i) != addresses_before[i];
  }

  ControllerStore::Batch batch;
  batch.putSighting(entry.sighting);
  batch.appendEvent(makeEvent(v1::EVENT_TYPE_NODE_CONNECTED, node, kNoNode,
                              "from " + std::string(peer) + ", software " + hello.software_version() +
                                  (replaced ? ", replacing an older session" : "")));
  commitLocked(std::move(batch), Durability::kBuffered, "record hello of node " + std::to_string(node));

  v1::ControllerMessage ack;
  ack.mutable_hello_ack()->set_accepted(true);
  channel.send(std::move(ack));
  channel.send(configPush());
  if (addresses_changed) {
    broadcastPeersLocked();  // includes this relay's own list
  } else {
    channel.send(peerListFor(node));
  }
  if (entry.table_version != 0) {
    metrics_.countRoutePushes(1);
    channel.send(routeTableFor(entry));
  } else {
    markRoutesDirtyLocked();
  }
  updateConnectedLocked();
  return node;
}

void Controller::onReport(NodeId node, const v1::RelayReport& report, RelayChannel& channel) {
  std::lock_guard lock(mutex_);
  const auto it = nodes_.find(node);
  if (it == nodes_.end() || it->second.session != &channel) return;
  NodeEntry& entry = it->second;
  metrics_.countReport();
  const std::int64_t now = clock_();
  // Don't believe a single relay, nor let one flood: a relay reports once
  // per report interval; a burst (reconnects, interval changes) is allowed,
  // then two per interval. More links than its lines can have toward every
  // other node's lines is a lie or a bug.
  const double interval_ms = std::max<double>(settings_.relays.report_interval_ms, 1);
  entry.report_tokens = std::min(
      kReportBurst, entry.report_tokens + 2 * static_cast<double>(now - entry.report_tokens_at_unix_ms) / interval_ms);
  entry.report_tokens_at_unix_ms = now;
  if (entry.report_tokens < 1) {
    metrics_.countIgnoredReport(IgnoredReportReason::kTooFrequent);
    return;
  }
  entry.report_tokens -= 1;
  std::size_t other_lines = 0;
  for (const auto& [id, other] : nodes_) {
    if (id != node) other_lines += other.provisioned.lines.size();
  }
  if (static_cast<std::size_t>(report.links().size()) > entry.provisioned.lines.size() * other_lines) {
    metrics_.countIgnoredReport(IgnoredReportReason::kTooLarge);
    return;
  }
  entry.sighting.last_seen_unix_ms = now;
  if (std::isfinite(report.load()) && report.load() >= 0) entry.load = report.load();
  entry.streams = report.streams();
  entry.applied_route_version = report.applied_route_version();

  // The report is a full snapshot of this node's measured links.
  std::map<LinkKey, LinkMeasurement> reported;
  for (const v1::LinkReport& link : report.links()) {
    const NodeEntry* neighbour = link.neighbour() == node ? nullptr : findNode(link.neighbour());
    if (neighbour == nullptr) {
      metrics_.countIgnoredLinkReport(IgnoredLinkReason::kUnknownNode);
      continue;
    }
    if (link.local_line() >= entry.provisioned.lines.size() ||
        link.remote_line() >= neighbour->provisioned.lines.size()) {
      metrics_.countIgnoredLinkReport(IgnoredLinkReason::kBadLine);
      continue;
    }
    const auto state = fromProto(link.state());
    if (!state || !(link.loss() >= 0.0 && link.loss() <= 1.0) || link.rtt_us() > kMaxReportedRttUs ||
        link.jitter_us() > kMaxReportedRttUs) {
      metrics_.countIgnoredLinkReport(IgnoredLinkReason::kBadFigures);
      continue;
    }
    const LinkMeasurement m{node,
                            static_cast<LineIndex>(link.local_line()),
                            link.neighbour(),
                            static_cast<LineIndex>(link.remote_line()),
                            static_cast<DurationUs>(link.rtt_us()),
                            static_cast<DurationUs>(link.jitter_us()),
                            link.loss(),
                            *state};
    if (!reported.emplace(keyOf(m), m).second) metrics_.countIgnoredLinkReport(IgnoredLinkReason::kDuplicate);
  }

  ControllerStore::Batch batch;
  bool topology_changed = false;
  // Per neighbour: had a usable link before / has one now / reported any.
  struct Reach {
    bool usable_before = false;
    bool usable_now = false;
    bool reported = false;
  };
  std::map<NodeId, Reach> reach;
  for (auto link = links_.lower_bound({node, 0, kNoNode, 0}); link != links_.end() && link->first.from == node;) {
    if (isFresh(link->second, now) && link->second.measurement.state != LinkState::kDown) {
      reach[link->first.to].usable_before = true;
    }
    if (reported.count(link->first) == 0) {
      batch.deleteLink(link->first);
      link = links_.erase(link);
      topology_changed = true;
    } else {
      ++link;
    }
  }
  for (const auto& [key, m] : reported) {
    Reach& r = reach[key.to];
    r.reported = true;
    r.usable_now = r.usable_now || m.state != LinkState::kDown;
    auto [link, inserted] = links_.try_emplace(key, LinkEntry{m, now, 0});
    const LinkState before = link->second.measurement.state;
    const bool state_changed = inserted || before != m.state;
    if (state_changed) {
      topology_changed = true;
      // A first report of a working link is not news; everything else is.
      if (m.state == LinkState::kDown || !inserted) {
        const v1::EventType type = m.state == LinkState::kDown       ? v1::EVENT_TYPE_LINK_DOWN
                                   : m.state == LinkState::kDegraded ? v1::EVENT_TYPE_LINK_DEGRADED
                                                                     : v1::EVENT_TYPE_LINK_UP;
        std::string detail = linkName(key) + ": ";
        if (!inserted) detail += std::string(stateName(before)) + " -> ";
        detail += std::string(stateName(m.state)) + ", rtt " + formatMs(m.rtt_us) + ", loss " + formatPercent(m.loss);
        batch.appendEvent(makeEvent(type, node, key.to, std::move(detail)));
      }
    }
    link->second.measurement = m;
    link->second.updated_unix_ms = now;
    if (state_changed || now - link->second.persisted_unix_ms >= kLinkPersistIntervalMs) {
      batch.putLink({m, now});
      link->second.persisted_unix_ms = now;
    }
  }

  // The relay fails over by itself the moment its primary next hop is
  // unreachable; record that moment, before the controller reroutes.
  for (const auto& [neighbour, r] : reach) {
    if (!r.usable_before || r.usable_now || !r.reported) continue;
    std::size_t failed_over = 0;
    for (const TableRoute& route : entry.table) {
      if (route.primary == neighbour && route.backup != kNoNode) ++failed_over;
    }
    if (failed_over > 0) {
      batch.appendEvent(makeEvent(v1::EVENT_TYPE_FAILOVER, node, neighbour,
                                  "every link to node " + std::to_string(neighbour) + " is down: " +
                                      std::to_string(failed_over) + " destinations use their backup next hop"));
    }
  }
  if (!batch.empty()) {
    // Riding along with link writes keeps the stored last-seen time within
    // a few seconds without a write per report.
    batch.putSighting(entry.sighting);
    commitLocked(std::move(batch), Durability::kBuffered, "record report of node " + std::to_string(node));
  }
  if (topology_changed) markRoutesDirtyLocked();
}

void Controller::onDrain(NodeId node, RelayChannel& channel) {
  std::lock_guard lock(mutex_);
  const auto it = nodes_.find(node);
  if (it == nodes_.end() || it->second.session != &channel || it->second.self_drained) return;
  it->second.self_drained = true;
  ControllerStore::Batch batch;
  batch.appendEvent(makeEvent(v1::EVENT_TYPE_NODE_DRAINED, node, kNoNode,
                              "relay shutting down: carries no transit until it reconnects"));
  commitLocked(std::move(batch), Durability::kBuffered, "record self-drain of node " + std::to_string(node));
  logEvent(spdlog::level::info, "relay draining: routing transit around it", {{"node", node}});
  markRoutesDirtyLocked(Urgency::kAtOnce);
}

void Controller::onSessionEnded(NodeId node, RelayChannel& channel) {
  std::lock_guard lock(mutex_);
  const auto it = nodes_.find(node);
  if (it == nodes_.end() || it->second.session != &channel) return;
  NodeEntry& entry = it->second;
  entry.session = nullptr;
  entry.sighting.last_seen_unix_ms = clock_();
  ControllerStore::Batch batch;
  batch.putSighting(entry.sighting);
  batch.appendEvent(makeEvent(v1::EVENT_TYPE_NODE_DISCONNECTED, node, kNoNode, "session ended"));
  commitLocked(std::move(batch), Durability::kBuffered, "record end of session of node " + std::to_string(node));
  updateConnectedLocked();
  session_ended_.notify_all();
}

// ---------------------------------------------------------------- routes

bool Controller::sameNextHops(const std::vector<TableRoute>& a, const std::vector<TableRoute>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](const TableRoute& x, const TableRoute& y) {
    return x.destination == y.destination && x.primary == y.primary && x.backup == y.backup;
  });
}

Topology Controller::topologyLocked(std::int64_t now_unix_ms) const {
  Topology topology;
  for (const auto& [id, entry] : nodes_) {
    NodeInfo info;
    info.id = id;
    info.region = entry.provisioned.region;
    for (const NodeLine& line : entry.provisioned.lines) info.line_isps.push_back(line.isp);
    info.capacity_bps = entry.provisioned.capacity_bps;
    info.load = entry.load;
    info.drained = isDrained(entry);
    topology.nodes.push_back(std::move(info));
  }
  // links_ only holds links between provisioned nodes over provisioned lines.
  for (const auto& [key, link] : links_) {
    if (isFresh(link, now_unix_ms)) topology.links.push_back(link.measurement);
  }
  topology.links = agreeOnLinks(topology.links);
  return topology;
}

void Controller::recomputeRoutes() {
  Topology topology;
  std::shared_ptr<const Routes> previous;
  RoutePolicy policy;
  {
    std::lock_guard lock(mutex_);
    routes_dirty_ = false;
    topology = topologyLocked(clock_());
    previous = routes_;
    policy = settings_.routes.policy;
  }
  const auto started = std::chrono::steady_clock::now();
  auto routes = computeRoutes(topology, policy, previous.get());
  metrics_.observeRouteComputation(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  if (!routes) {
    // The topology is built from validated state only: a broken invariant.
    logEvent(spdlog::level::err, "route computation refused the topology", {{"error", routes.error().detail}});
    return;
  }
  std::lock_guard lock(mutex_);
  publishLocked(std::move(routes.value()));
}

void Controller::publishLocked(Routes routes) {
  struct Change {
    NodeEntry* entry;
    std::vector<TableRoute> table;
  };
  std::vector<Change> changes;
  const auto ids = routes.nodes();
  for (auto& [id, entry] : nodes_) {
    // Provisioned after the topology was copied: the next run covers it.
    if (!std::binary_search(ids.begin(), ids.end(), id)) continue;
    std::vector<TableRoute> table;
    for (const RelayRoute& route : routes.tableFor(id)) {
      table.push_back({route.destination, route.primary.node, route.primary.lines, route.backup.node,
                       route.backup.lines});
    }
    if (entry.table_version == 0 || !sameNextHops(table, entry.table)) {
      changes.push_back({&entry, std::move(table)});
    }
  }
  if (!changes.empty()) {
    const std::uint64_t version = route_version_ + 1;
    ControllerStore::Batch batch;
    batch.putRouteVersion(version);
    for (const Change& change : changes) {
      const NodeEntry& entry = *change.entry;
      if (entry.table_version == 0) continue;  // a first table is not a reroute
      std::map<NodeId, const TableRoute*> before;
      for (const TableRoute& route : entry.table) before[route.destination] = &route;
      std::string detail;
      std::size_t changed = 0;
      for (const TableRoute& route : change.table) {
        const auto old = before.find(route.destination);
        const NodeId old_primary = old == before.end() ? kNoNode : old->second->primary;
        if (old != before.end()) before.erase(old);
        if (old_primary == route.primary) continue;
        if (++changed <= kMaxListedChanges) {
          detail += (detail.empty() ? "" : ", ") + std::to_string(route.destination) + " via " +
                    std::to_string(route.primary) +
                    (old_primary == kNoNode ? " (new)" : " (was " + std::to_string(old_primary) + ")");
        }
      }
      for (const auto& [destination, route] : before) {
        if (++changed <= kMaxListedChanges) {
          detail += (detail.empty() ? "" : ", ") + std::to_string(destination) + " unreachable";
        }
      }
      if (changed > kMaxListedChanges) detail += ", and " + std::to_string(changed - kMaxListedChanges) + " more";
      v1::Event event = makeEvent(
          v1::EVENT_TYPE_REROUTE, entry.provisioned.id, kNoNode,
          changed == 0 ? "backups changed" : std::to_string(changed) + " primaries changed: " + detail);
      event.set_route_version(version);
      batch.appendEvent(std::move(event));
    }
    // Persisted before any relay sees the version, so it is never reused.
    if (!commitLocked(std::move(batch), Durability::kSynced, "persist route version " + std::to_string(version))) {
      return;  // nothing pushed; the next periodic run tries again
    }
    route_version_ = version;
    metrics_.setRouteVersion(version);
    std::size_t pushes = 0;
    for (Change& change : changes) {
      change.entry->table = std::move(change.table);
      change.entry->table_version = version;
      if (change.entry->session != nullptr) ++pushes;
    }
    // Counted before queueing, so a relay holding a table finds it counted.
    metrics_.countRoutePushes(pushes);
    for (const Change& change : changes) {
      if (change.entry->session != nullptr) change.entry->session->send(routeTableFor(*change.entry));
    }
    logEvent(spdlog::level::debug, "routes published",
             {{"route_version", version}, {"tables_changed", changes.size()}, {"pushed", pushes}});
  }
  routes_ = std::make_shared<const Routes>(std::move(routes));
}

void Controller::updateSettings(ControllerSettings settings) {
  std::lock_guard lock(mutex_);
  const bool relays_changed = settings.relays.probe_interval_ms != settings_.relays.probe_interval_ms ||
                              settings.relays.report_interval_ms != settings_.relays.report_interval_ms;
  settings_ = std::move(settings);
  if (relays_changed) {
    for (const auto& [id, entry] : nodes_) {
      if (entry.session != nullptr) entry.session->send(configPush());
    }
  }
  // Cheap enough to do for any change: the worker wakes, recomputes with the
  // new policy and re-reads its interval and debounce.
  markRoutesDirtyLocked(Urgency::kAtOnce);
}

void Controller::routeWorkerLoop() {
  auto next_periodic = std::chrono::steady_clock::now();
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    // Read each turn: updateSettings may change them.
    const auto interval = std::chrono::microseconds(settings_.routes.recompute_interval_us);
    const auto debounce = std::chrono::microseconds(settings_.routes.debounce_us);
    metrics_.beatRouteWorker(settings_.routes.recompute_interval_us);
    auto due = next_periodic;
    if (routes_dirty_) due = std::min(due, dirty_since_ + debounce);
    if (const auto keys_at = keys_.nextChangeAt(settings_.keys); keys_at && *keys_at * 1000 <= clock_()) {
      maintainKeysLocked();
    }
    if (const auto keys_at = keys_.nextChangeAt(settings_.keys)) {
      // Still due after maintenance: the store refused it; try again in a second.
      const std::int64_t until_ms = *keys_at * 1000 - clock_();
      const std::int64_t wait_ms = until_ms <= 0 ? 1000 : until_ms;
      due = std::min(due, std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms));
    }
    if (std::chrono::steady_clock::now() < due) {
      wake_worker_.wait_until(lock, due);
      continue;
    }
    next_periodic = std::chrono::steady_clock::now() + interval;
    lock.unlock();
    recomputeRoutes();
    lock.lock();
  }
}

}  // namespace overline::controller
