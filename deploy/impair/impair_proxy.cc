#include "deploy/impair/impair_proxy.h"

#include <unistd.h>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace overline::impair {
namespace {

constexpr LineIndex kASide = 0;
constexpr LineIndex kBSide = 1;

// Heap order for std::push_heap/pop_heap (a max-heap): "a comes later than b".
template <typename Queued>
bool later(const Queued& a, const Queued& b) {
  if (a.deliver_at_us != b.deliver_at_us) return a.deliver_at_us > b.deliver_at_us;
  return a.sequence > b.sequence;
}

std::string unknownLink(const std::string& name) { return "error: unknown link \"" + name + "\""; }

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
    proxy.onDatagram(*this, side, from, datagram);
  }

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
  for (auto& link : proxy->links_) {
    link->a_side->startReceiving(*link);
    link->b_side->startReceiving(*link);
  }
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
}

TimeUs ImpairProxy::nowUs() { return static_cast<TimeUs>(uv_hrtime() / 1000); }

void ImpairProxy::onDatagram(Link& link, LineIndex side, const Endpoint& from,
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
  const TimeUs now = nowUs();
  const impairment::Decision decision = direction.model.admit(now, datagram.size());
  if (!decision.delivered()) return;  // the model counts its drops
  if (direction.counters.queued >= delay_queue_packets_) {
    ++direction.counters.queue_full;
    return;
  }
  ++direction.counters.queued;
  queue_.push_back({decision.deliver_at_us, next_sequence_++, &direction,
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
    Direction& direction = *item.direction;
    --direction.counters.queued;
    if (direction.out->send(direction.to, item.packet)) {
      ++direction.counters.delivered;
    } else {
      ++direction.counters.send_failed;
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
    impairment::ImpairmentKnobs knobs;
    impairment::ImpairmentSettings settings;
  };
  // Check every direction before changing any: a command applies whole or not at all.
  std::vector<Update> updates;
  for (Direction* direction : select(*link, command.directions)) {
    impairment::ImpairmentKnobs knobs = direction->knobs;
    for (const auto& [key, value] : command.knobs) {
      if (auto problem = impairment::setKnob(knobs, key, value)) return "error: " + key + ": " + *problem;
    }
    auto settings = impairment::toSettings(knobs);
    if (!settings) return "error: " + settings.error();
    updates.push_back({direction, knobs, std::move(settings.value())});
  }
  for (Update& update : updates) {
    Direction& direction = *update.direction;
    update.settings.outages = direction.model.settings().outages;  // `set` does not end an outage
    direction.model.setSettings(std::move(update.settings));
    direction.knobs = update.knobs;
    std::string description;
    for (const auto& [key, value] : impairment::knobValues(direction.knobs)) {
      description += " " + std::string(key) + "=" + impairment::formatDecimal(value);
    }
    spdlog::info("link {} {}:{}", link->name, direction.name, description);
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

std::string ImpairProxy::execute(const StatsCommand& /*command*/) {
  const TimeUs now = nowUs();
  auto directionJson = [now](const Direction& direction) {
    const impairment::ImpairmentCounters& model = direction.model.counters();
    nlohmann::ordered_json dropped = nlohmann::ordered_json::object();
    for (std::size_t i = 0; i < impairment::kDropReasonCount; ++i) {
      const auto reason = static_cast<impairment::DropReason>(i);
      dropped[std::string(impairment::toString(reason))] = model.droppedBy(reason);
    }
    dropped["queue_full"] = direction.counters.queue_full;
    dropped["send_failed"] = direction.counters.send_failed;
    nlohmann::ordered_json settings = nlohmann::ordered_json::object();
    for (const auto& [key, value] : impairment::knobValues(direction.knobs)) settings[std::string(key)] = value;
    return nlohmann::ordered_json{
        {"received", direction.counters.received},
        {"delivered", direction.counters.delivered},
        {"queued", direction.counters.queued},
        {"reordered", model.reordered},
        {"dropped", std::move(dropped)},
        {"down", direction.model.isDownAt(now)},
        {"settings", std::move(settings)},
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
  return nlohmann::ordered_json{{"links", std::move(links)}}.dump();
}

std::string ImpairProxy::readyJson() const {
  nlohmann::ordered_json links = nlohmann::ordered_json::array();
  for (const auto& link : links_) {
    links.push_back({{"name", link->name},
                     {"a_side", link->a_side->localEndpoint().toString()},
                     {"b_side", link->b_side->localEndpoint().toString()}});
  }
  return nlohmann::ordered_json{{"pid", ::getpid()}, {"links", std::move(links)}}.dump();
}

}  // namespace overline::impair
