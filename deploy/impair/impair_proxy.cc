#include "deploy/impair/impair_proxy.h"

#include <unistd.h>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace overline::impair {
namespace {

// A packet leaves at once: the line's batch is flushed per packet, so a
// refusal is known (and counted) for that packet.
bool sendNow(relay::UdpLine& line, const Endpoint& to, std::span<const std::byte> packet) {
  return line.send(to, packet) && line.flush() == 0;
}
bool sendNow(AccessPort& port, const Endpoint& to, std::span<const std::byte> packet) { return port.send(to, packet); }

constexpr LineIndex kASide = 0;
constexpr LineIndex kBSide = 1;

// Heap order for std::push_heap/pop_heap (a max-heap): "a comes later than b".
template <typename Queued>
bool later(const Queued& a, const Queued& b) {
  if (a.deliver_at_us != b.deliver_at_us) return a.deliver_at_us > b.deliver_at_us;
  return a.sequence > b.sequence;
}

std::string unknownLink(const std::string& name) { return "error: unknown link \"" + name + "\""; }
std::string unknownLine(const std::string& name) { return "error: unknown line \"" + name + "\""; }

// Switchboard pair seeds come from their own stream of the configured seed,
// far from the links' streams (2 x link index + direction), so no pair draws
// the same random numbers as a link direction.
constexpr std::uint64_t kSwitchboardSeedStream = std::uint64_t{1} << 32;

std::string_view describe(LineDirections directions) {
  switch (directions) {
    case LineDirections::kOut: return "out";
    case LineDirections::kIn: return "in";
    case LineDirections::kBoth: return "both";
  }
  return "";
}

nlohmann::ordered_json settingsJson(const impairment::ImpairmentKnobs& knobs) {
  nlohmann::ordered_json settings = nlohmann::ordered_json::object();
  for (const auto& [key, value] : impairment::knobValues(knobs)) settings[std::string(key)] = value;
  return settings;
}

// Drop counts by the model's reasons, then the proxy's own.
nlohmann::ordered_json droppedJson(const impairment::ImpairmentCounters& model, const DirectionCounters& counters) {
  nlohmann::ordered_json dropped = nlohmann::ordered_json::object();
  for (std::size_t i = 0; i < impairment::kDropReasonCount; ++i) {
    const auto reason = static_cast<impairment::DropReason>(i);
    dropped[std::string(impairment::toString(reason))] = model.droppedBy(reason);
  }
  dropped["queue_full"] = counters.queue_full;
  dropped["send_failed"] = counters.send_failed;
  return dropped;
}

}  // namespace

struct ImpairProxy::Direction {
  Direction(std::string_view direction_name, const impairment::ImpairmentKnobs& initial_knobs,
            std::uint64_t seed)
      // The config loader has checked that the knobs convert.
      : name(direction_name), knobs(initial_knobs), model(impairment::toSettings(knobs).value(), seed) {}

  std::string_view name;  // "a_to_b" or "b_to_a"
  impairment::ImpairmentKnobs knobs;  // what model's settings were made from
  impairment::LinkImpairment model;
  relay::UdpLine* out = nullptr;  // the socket packets leave from (owned by the Link)
  Endpoint to;                    // where they go
  DirectionCounters counters;
};

struct ImpairProxy::Link : relay::UdpLine::Listener {
  Link(ImpairProxy& owner, const ImpairLinkConfig& config, std::size_t index, std::uint64_t seed)
      : proxy(owner),
        name(config.name),
        a(config.a),
        b(config.b),
        a_to_b("a_to_b", config.a_to_b, impairment::deriveSeed(seed, 2 * index)),
        b_to_a("b_to_a", config.b_to_a, impairment::deriveSeed(seed, 2 * index + 1)) {}

  void onDatagram(LineIndex side, const Endpoint& from, std::span<const std::byte> datagram) override {
    proxy.onLinkDatagram(*this, side, from, datagram);
  }
  // Each packet leaves when its delay is up (deliverDue), not per batch.
  void onReceiveBatchEnd() override {}

  ImpairProxy& proxy;
  std::string name;
  Endpoint a;
  Endpoint b;
  std::unique_ptr<relay::UdpLine> a_side;
  std::unique_ptr<relay::UdpLine> b_side;
  Direction a_to_b;
  Direction b_to_a;
  std::uint64_t foreign_at_a_side = 0;  // packets on a_side not from A
  std::uint64_t foreign_at_b_side = 0;  // packets on b_side not from B
};

Result<std::unique_ptr<ImpairProxy>, std::string> ImpairProxy::start(uv_loop_t& loop, const ImpairConfig& config) {
  std::unique_ptr<ImpairProxy> proxy(new ImpairProxy(loop, config.delay_queue_packets));
  for (std::size_t i = 0; i < config.links.size(); ++i) {
    const ImpairLinkConfig& link_config = config.links[i];
    auto link = std::make_unique<Link>(*proxy, link_config, i, config.seed);
    auto a_side = relay::UdpLine::open(loop, kASide, {link_config.name + " a_side", link_config.a_side},
                                       config.socket_buffer_bytes);
    if (!a_side) return Err(a_side.error());  // ~ImpairProxy closes what is already open
    link->a_side = std::move(a_side.value());
    auto b_side = relay::UdpLine::open(loop, kBSide, {link_config.name + " b_side", link_config.b_side},
                                       config.socket_buffer_bytes);
    if (!b_side) return Err(b_side.error());
    link->b_side = std::move(b_side.value());
    link->a_to_b.out = link->b_side.get();
    link->a_to_b.to = link->b;
    link->b_to_a.out = link->a_side.get();
    link->b_to_a.to = link->a;
    proxy->links_.push_back(std::move(link));
  }
  if (config.switchboard) {
    const SwitchboardConfig& switchboard = *config.switchboard;
    proxy->switchboard_ =
        std::make_unique<Switchboard>(switchboard, impairment::deriveSeed(config.seed, kSwitchboardSeedStream));
    for (std::size_t i = 0; i < switchboard.lines.size(); ++i) {
      const SwitchboardLineConfig& line = switchboard.lines[i];
      // The config loader caps lines at kMaxSwitchboardLines, which LineIndex holds.
      auto stand_in = relay::UdpLine::open(loop, static_cast<LineIndex>(i),
                                           {line.name + " stand_in", line.stand_in},
                                           config.socket_buffer_bytes);
      if (!stand_in) return Err(stand_in.error());
      proxy->stand_ins_.push_back(std::move(stand_in.value()));
    }
  }
  for (auto& link : proxy->links_) {
    link->a_side->startReceiving(*link);
    link->b_side->startReceiving(*link);
  }
  for (auto& stand_in : proxy->stand_ins_) stand_in->startReceiving(*proxy);
  return proxy;
}

ImpairProxy::ImpairProxy(uv_loop_t& loop, std::size_t delay_queue_packets)
    : loop_(loop), delay_queue_packets_(delay_queue_packets), timer_(loop, [this] { deliverDue(); }) {}

ImpairProxy::~ImpairProxy() { close(); }

void ImpairProxy::close() {
  if (closed_) return;
  closed_ = true;
  timer_.close();
  if (!queue_.empty()) spdlog::info("discarding {} queued packets", queue_.size());
  queue_.clear();
  for (auto& link : links_) {
    link->a_to_b.counters.queued = 0;
    link->b_to_a.counters.queued = 0;
    if (link->a_side) link->a_side->close();
    if (link->b_side) link->b_side->close();
  }
  if (switchboard_) {
    for (Switchboard::Pair* pair : switchboard_->pairs()) pair->counters.queued = 0;
    if (AccessClients* access = switchboard_->access()) {
      for (std::size_t i = 0; i < access->size(); ++i) {
        access->client(i).up_counters.queued = 0;
        access->client(i).down_counters.queued = 0;
      }
    }
  }
  for (auto& stand_in : stand_ins_) stand_in->close();
  for (auto& port : client_ports_) {
    if (port) port->close();
  }
}

TimeUs ImpairProxy::nowUs() { return static_cast<TimeUs>(uv_hrtime() / 1000); }

void ImpairProxy::onLinkDatagram(Link& link, LineIndex side, const Endpoint& from,
                                 std::span<const std::byte> datagram) {
  if (closed_) return;
  const bool from_a = side == kASide;
  if (from != (from_a ? link.a : link.b)) {
    ++(from_a ? link.foreign_at_a_side : link.foreign_at_b_side);
    spdlog::debug("link {}: dropped a packet from {} on {}", link.name, from.toString(),
                  from_a ? "a_side" : "b_side");
    return;
  }
  Direction& direction = from_a ? link.a_to_b : link.b_to_a;
  ++direction.counters.received;
  direction.counters.received_bytes += datagram.size();
  const TimeUs now = nowUs();
  const impairment::Decision decision = direction.model.admit(now, datagram.size());
  if (!decision.delivered()) return;  // the model counts its drops
  enqueue(now, decision.deliver_at_us, direction.out, direction.to, direction.counters, datagram);
}

void ImpairProxy::onDatagram(LineIndex line, const Endpoint& from, std::span<const std::byte> datagram) {
  if (closed_) return;
  const TimeUs now = nowUs();
  const Switchboard::Verdict verdict = switchboard_->admit(line, from, now, datagram.size());
  if (verdict.client != nullptr) {
    AccessClients::Client& client = *verdict.client;
    if (verdict.new_client) openClientPort(client);
    if (!verdict.deliver) return;  // the client's model counts its drops
    AccessPort* port = client_ports_[client.index].get();
    if (port == nullptr) {
      ++client.up_counters.send_failed;
      return;
    }
    enqueue(now, verdict.deliver_at_us, port, switchboard_->line(line).real, client.up_counters, datagram);
    return;
  }
  if (verdict.pair == nullptr) {
    spdlog::debug("switchboard line {}: dropped a packet from {}", switchboard_->line(line).name, from.toString());
    return;
  }
  if (!verdict.deliver) return;  // the switchboard counts its drops
  Switchboard::Pair& pair = *verdict.pair;
  enqueue(now, verdict.deliver_at_us, stand_ins_[pair.from].get(), switchboard_->line(pair.to).real, pair.counters,
          datagram);
}

void ImpairProxy::onClientPortDatagram(std::size_t client_index, const Endpoint& from,
                                       std::span<const std::byte> datagram) {
  if (closed_) return;
  const TimeUs now = nowUs();
  const Switchboard::ClientVerdict verdict = switchboard_->admitToClient(client_index, from, now, datagram.size());
  AccessClients::Client& client = switchboard_->access()->client(client_index);
  if (!verdict.from_line) {
    spdlog::debug("access port of client {}: dropped a packet from {}", client.endpoint.toString(), from.toString());
    return;
  }
  if (!verdict.deliver) return;  // the client's model counts its drops
  enqueue(now, verdict.deliver_at_us, stand_ins_[*verdict.from_line].get(), client.endpoint, client.down_counters,
          datagram);
}

void ImpairProxy::openClientPort(const AccessClients::Client& client) {
  if (client_ports_.size() <= client.index) client_ports_.resize(client.index + 1);
  // The client's own IP, so a relay sees the address a join token was issued for.
  const std::size_t index = client.index;
  auto port = AccessPort::open(loop_, client.endpoint.address(),
                               [this, index](const Endpoint& from, std::span<const std::byte> datagram) {
                                 onClientPortDatagram(index, from, datagram);
                               });
  if (!port) {
    spdlog::warn("client {}: {}", client.endpoint.toString(), port.error());
    return;
  }
  spdlog::info("client {}: access port {}", client.endpoint.toString(), port.value()->localEndpoint().toString());
  client_ports_[index] = std::move(port.value());
}

void ImpairProxy::enqueue(TimeUs now, TimeUs deliver_at_us, Outlet out, const Endpoint& to,
                          DirectionCounters& counters, std::span<const std::byte> datagram) {
  if (counters.queued >= delay_queue_packets_) {
    ++counters.queue_full;
    return;
  }
  ++counters.queued;
  queue_.push_back({deliver_at_us, next_sequence_++, out, to, &counters,
                    std::vector<std::byte>(datagram.begin(), datagram.end())});
  std::push_heap(queue_.begin(), queue_.end(), later<Queued>);
  // Even an undelayed packet goes through the queue, behind any earlier
  // packet that is due but not yet sent, so the order stays as decided.
  if (queue_.front().deliver_at_us <= now) {
    deliverDue();
  } else {
    armTimer(now);
  }
}

void ImpairProxy::deliverDue() {
  if (closed_) return;
  const TimeUs now = nowUs();
  while (!queue_.empty() && queue_.front().deliver_at_us <= now) {
    std::pop_heap(queue_.begin(), queue_.end(), later<Queued>);
    Queued item = std::move(queue_.back());
    queue_.pop_back();
    DirectionCounters& counters = *item.counters;
    --counters.queued;
    if (std::visit([&](auto* socket) { return sendNow(*socket, item.to, item.packet); }, item.out)) {
      ++counters.delivered;
      counters.delivered_bytes += item.packet.size();
    } else {
      ++counters.send_failed;
    }
  }
  armTimer(now);
}

void ImpairProxy::armTimer(TimeUs now) {
  if (queue_.empty()) {
    timer_.disarm();
    return;
  }
  // Timers count from the loop's cached time; refresh it so the wait is
  // measured from now. Rounding up keeps packets from leaving early.
  uv_update_time(&loop_);
  const DurationUs wait_us = std::max<DurationUs>(0, queue_.front().deliver_at_us - now);
  timer_.arm(static_cast<std::uint64_t>((wait_us + kMillisecond - 1) / kMillisecond));
}

ImpairProxy::Link* ImpairProxy::findLink(const std::string& name) {
  for (auto& link : links_) {
    if (link->name == name) return link.get();
  }
  return nullptr;
}

std::optional<std::size_t> ImpairProxy::findLine(const std::string& name) const {
  if (!switchboard_) return std::nullopt;
  return switchboard_->findLine(name);
}

std::vector<ImpairProxy::Direction*> ImpairProxy::select(Link& link, Directions selection) {
  switch (selection) {
    case Directions::kAToB: return {&link.a_to_b};
    case Directions::kBToA: return {&link.b_to_a};
    case Directions::kBoth: return {&link.a_to_b, &link.b_to_a};
  }
  return {};
}

std::string ImpairProxy::execute(const SetCommand& command) {
  Link* link = findLink(command.link);
  if (link == nullptr) return unknownLink(command.link);
  struct Update {
    Direction* direction;
    KnobUpdate update;
  };
  // Check every direction before changing any: a command applies whole or not at all.
  std::vector<Update> updates;
  for (Direction* direction : select(*link, command.directions)) {
    auto update = applyKnobChanges(direction->knobs, command.knobs);
    if (!update) return "error: " + update.error();
    updates.push_back({direction, std::move(update.value())});
  }
  for (Update& update : updates) {
    Direction& direction = *update.direction;
    update.update.settings.outages = direction.model.settings().outages;  // `set` does not end an outage
    direction.model.setSettings(std::move(update.update.settings));
    direction.knobs = update.update.knobs;
    spdlog::info("link {} {}:{}", link->name, direction.name, describeKnobs(direction.knobs));
  }
  return "ok";
}

std::string ImpairProxy::execute(const DownCommand& command) {
  Link* link = findLink(command.link);
  if (link == nullptr) return unknownLink(command.link);
  for (Direction* direction : select(*link, command.directions)) {
    direction->model.setDown(true);
    spdlog::info("link {} {}: down", link->name, direction->name);
  }
  return "ok";
}

std::string ImpairProxy::execute(const UpCommand& command) {
  Link* link = findLink(command.link);
  if (link == nullptr) return unknownLink(command.link);
  for (Direction* direction : select(*link, command.directions)) {
    direction->model.setDown(false);
    direction->model.clearOutages();
    spdlog::info("link {} {}: up", link->name, direction->name);
  }
  return "ok";
}

std::string ImpairProxy::execute(const OutageCommand& command) {
  Link* link = findLink(command.link);
  if (link == nullptr) return unknownLink(command.link);
  const TimeUs now = nowUs();
  for (Direction* direction : select(*link, command.directions)) {
    direction->model.addOutage({now, command.duration_us});
    spdlog::info("link {} {}: outage for {} ms", link->name, direction->name,
                 impairment::formatDecimal(static_cast<double>(command.duration_us) / kMillisecond));
  }
  return "ok";
}

std::string ImpairProxy::execute(const LineSetCommand& command) {
  const auto line = findLine(command.line);
  if (!line) return unknownLine(command.line);
  if (auto problem = switchboard_->setLineKnobs(*line, command.directions, command.knobs); !problem.empty()) {
    return "error: " + problem;
  }
  std::string changes;
  for (const auto& [key, value] : command.knobs) changes += " " + key + "=" + value;
  spdlog::info("line {} {}:{}", command.line, describe(command.directions), changes);
  return "ok";
}

std::string ImpairProxy::execute(const LineDownCommand& command) {
  const auto line = findLine(command.line);
  if (!line) return unknownLine(command.line);
  switchboard_->setLineDown(*line, true);
  spdlog::info("line {}: down", command.line);
  return "ok";
}

std::string ImpairProxy::execute(const LineUpCommand& command) {
  const auto line = findLine(command.line);
  if (!line) return unknownLine(command.line);
  switchboard_->setLineDown(*line, false);
  spdlog::info("line {}: up", command.line);
  return "ok";
}

std::string ImpairProxy::execute(const LineOutageCommand& command) {
  const auto line = findLine(command.line);
  if (!line) return unknownLine(command.line);
  switchboard_->addLineOutage(*line, nowUs(), command.duration_us);
  spdlog::info("line {}: outage for {} ms", command.line,
               impairment::formatDecimal(static_cast<double>(command.duration_us) / kMillisecond));
  return "ok";
}

std::string ImpairProxy::execute(const PairSetCommand& command) {
  const auto from = findLine(command.from);
  if (!from) return unknownLine(command.from);
  const auto to = findLine(command.to);
  if (!to) return unknownLine(command.to);
  if (auto problem = switchboard_->setPairKnobs(*from, *to, command.knobs); !problem.empty()) {
    return "error: " + problem;
  }
  std::string changes;
  for (const auto& [key, value] : command.knobs) changes += " " + key + "=" + value;
  spdlog::info("pair {} -> {}:{}", command.from, command.to, changes);
  return "ok";
}

std::string ImpairProxy::execute(const StatsCommand& /*command*/) {
  const TimeUs now = nowUs();
  auto directionJson = [now](const Direction& direction) {
    const impairment::ImpairmentCounters& model = direction.model.counters();
    return nlohmann::ordered_json{
        {"received", direction.counters.received},
        {"delivered", direction.counters.delivered},
        {"received_bytes", direction.counters.received_bytes},
        {"delivered_bytes", direction.counters.delivered_bytes},
        {"queued", direction.counters.queued},
        {"reordered", model.reordered},
        {"dropped", droppedJson(model, direction.counters)},
        {"down", direction.model.isDownAt(now)},
        {"settings", settingsJson(direction.knobs)},
    };
  };
  nlohmann::ordered_json links = nlohmann::ordered_json::array();
  for (const auto& link : links_) {
    links.push_back({
        {"name", link->name},
        {"a_to_b", directionJson(link->a_to_b)},
        {"b_to_a", directionJson(link->b_to_a)},
        {"foreign_dropped", {{"a_side", link->foreign_at_a_side}, {"b_side", link->foreign_at_b_side}}},
    });
  }
  nlohmann::ordered_json stats{{"links", std::move(links)}};
  if (!switchboard_) return stats.dump();

  nlohmann::ordered_json lines = nlohmann::ordered_json::array();
  for (std::size_t i = 0; i < switchboard_->lineCount(); ++i) {
    const SwitchboardLineConfig& line = switchboard_->line(i);
    const Switchboard::LineTotals totals = switchboard_->lineTotals(i);
    lines.push_back({
        {"name", line.name},
        {"real", line.real.toString()},
        {"stand_in", stand_ins_[i]->localEndpoint().toString()},
        {"down", switchboard_->isLineDownAt(i, now)},
        {"sent", totals.sent},
        {"received", totals.received},
        {"dropped", totals.dropped},
        {"sent_bytes", totals.sent_bytes},
        {"received_bytes", totals.received_bytes},
        {"foreign", totals.foreign},
    });
  }
  nlohmann::ordered_json pairs = nlohmann::ordered_json::array();
  for (const Switchboard::Pair* pair : switchboard_->pairs()) {
    const impairment::ImpairmentCounters& model = pair->model.counters();
    nlohmann::ordered_json dropped = droppedJson(model, pair->counters);
    dropped["line_down"] = pair->line_down;
    pairs.push_back({
        {"from", switchboard_->line(pair->from).name},
        {"to", switchboard_->line(pair->to).name},
        {"received", pair->counters.received},
        {"delivered", pair->counters.delivered},
        {"received_bytes", pair->counters.received_bytes},
        {"delivered_bytes", pair->counters.delivered_bytes},
        {"queued", pair->counters.queued},
        {"reordered", model.reordered},
        {"dropped", std::move(dropped)},
        {"settings", settingsJson(pair->knobs)},
    });
  }
  stats["switchboard"] = {{"lines", std::move(lines)}, {"pairs", std::move(pairs)}};
  if (AccessClients* access = switchboard_->access()) {
    const auto accessDirectionJson = [](const impairment::LinkImpairment& model, const DirectionCounters& counters) {
      return nlohmann::ordered_json{
          {"received", counters.received},
          {"delivered", counters.delivered},
          {"received_bytes", counters.received_bytes},
          {"delivered_bytes", counters.delivered_bytes},
          {"queued", counters.queued},
          {"dropped", droppedJson(model.counters(), counters)},
      };
    };
    nlohmann::ordered_json clients = nlohmann::ordered_json::array();
    for (std::size_t i = 0; i < access->size(); ++i) {
      const AccessClients::Client& client = access->client(i);
      const AccessPort* port = i < client_ports_.size() ? client_ports_[i].get() : nullptr;
      clients.push_back({
          {"client", client.endpoint.toString()},
          {"port", port != nullptr ? nlohmann::ordered_json(port->localEndpoint().toString())
                                   : nlohmann::ordered_json(nullptr)},
          {"up", accessDirectionJson(client.up, client.up_counters)},
          {"down", accessDirectionJson(client.down, client.down_counters)},
          {"foreign", client.foreign},
      });
    }
    stats["switchboard"]["access"] = {
        {"settings", settingsJson(access->knobs())},
        {"refused", access->refused()},
        {"clients", std::move(clients)},
    };
  }
  return stats.dump();
}

std::string ImpairProxy::readyJson() const {
  nlohmann::ordered_json links = nlohmann::ordered_json::array();
  for (const auto& link : links_) {
    links.push_back({{"name", link->name},
                     {"a_side", link->a_side->localEndpoint().toString()},
                     {"b_side", link->b_side->localEndpoint().toString()}});
  }
  nlohmann::ordered_json ready{{"pid", ::getpid()}, {"links", std::move(links)}};
  if (switchboard_) {
    nlohmann::ordered_json lines = nlohmann::ordered_json::array();
    for (std::size_t i = 0; i < switchboard_->lineCount(); ++i) {
      lines.push_back({{"name", switchboard_->line(i).name},
                       {"real", switchboard_->line(i).real.toString()},
                       {"stand_in", stand_ins_[i]->localEndpoint().toString()}});
    }
    ready["switchboard"] = std::move(lines);
  }
  return ready.dump();
}

}  // namespace overline::impair
