#include "sdk/core/subscription_set.h"

namespace overline::sdk {
namespace {

void add(PlayoutCounters& sum, const PlayoutCounters& more) {
  sum.delivered += more.delivered;
  sum.reordered += more.reordered;
  sum.lost += more.lost;
  sum.late += more.late;
  sum.duplicates += more.duplicates;
  sum.overflows += more.overflows;
  sum.resyncs += more.resyncs;
}

}  // namespace

// Hands what a subscription's PlayoutBuffer releases to the sink.
class SubscriptionSet::Release final : public PlayoutBuffer::Listener {
 public:
  Release(SubscriptionSet& set, std::uint64_t subscription, StreamId stream)
      : set_(set), subscription_(subscription), stream_(stream) {}

  void onRelease(const PlayoutPacket& packet) override {
    ++set_.delivered_;
    set_.sink_.onDelivery(DataRelease{subscription_, stream_, packet.header, packet.payload, packet.arrival_us});
  }

 private:
  SubscriptionSet& set_;
  const std::uint64_t subscription_;
  const StreamId stream_;
};

Result<std::uint64_t, std::string> SubscriptionSet::subscribe(StreamId stream, const SubscriptionConfig& config) {
  if (const auto budget = encodeLatencyBudget(config.default_latency_budget_us); !budget) {
    return Err{"default " + budget.error()};
  }
  unsubscribe(stream);
  const std::uint64_t id = next_id_++;
  Subscription& subscription = subscriptions_.try_emplace(stream, Subscription{id, config, std::nullopt}).first->second;
  if (config.playout) {
    subscription.playout.emplace(PlayoutConfig{.default_budget_us = config.default_latency_budget_us,
                                               .max_held_packets = config.max_held_packets});
  }
  return id;
}

bool SubscriptionSet::unsubscribe(StreamId stream) {
  const auto it = subscriptions_.find(stream);
  if (it == subscriptions_.end()) return false;
  retire(it->second);
  subscriptions_.erase(it);
  return true;
}

std::vector<StreamId> SubscriptionSet::streams() const {
  std::vector<StreamId> out;
  out.reserve(subscriptions_.size());
  for (const auto& [stream, subscription] : subscriptions_) out.push_back(stream);
  return out;
}

bool SubscriptionSet::deliver(const wire::PacketView& packet, TimeUs now, std::uint64_t arrival_us) {
  const StreamId stream = packet.header.stream_id;
  const auto it = subscriptions_.find(stream);
  if (it == subscriptions_.end()) return false;
  Subscription& subscription = it->second;
  const DataRelease data{subscription.id, stream, packet.header, packet.payload, arrival_us};
  if (subscription.config.arrivals) sink_.onArrival(data);
  if (!subscription.playout) {
    ++delivered_;
    sink_.onDelivery(data);
    return true;
  }
  Release release(*this, subscription.id, stream);
  subscription.playout->onPacket(packet.header, packet.payload, arrival_us, now, release);
  return true;
}

void SubscriptionSet::onTick(TimeUs now) {
  for (auto& [stream, subscription] : subscriptions_) {
    if (!subscription.playout) continue;
    const auto deadline = subscription.playout->nextDeadline();
    if (!deadline || *deadline > now) continue;
    Release release(*this, subscription.id, stream);
    subscription.playout->onTimer(now, release);
  }
}

std::optional<TimeUs> SubscriptionSet::nextDeadline() const {
  std::optional<TimeUs> earliest;
  for (const auto& [stream, subscription] : subscriptions_) {
    if (!subscription.playout) continue;
    const auto deadline = subscription.playout->nextDeadline();
    if (deadline && (!earliest || *deadline < *earliest)) earliest = deadline;
  }
  return earliest;
}

void SubscriptionSet::retire(const Subscription& subscription) {
  if (subscription.playout) add(retired_playout_, subscription.playout->counters());
}

void SubscriptionSet::addCountersTo(SessionCounters& out) const {
  PlayoutCounters playout = retired_playout_;
  std::uint64_t held = 0;
  for (const auto& [stream, subscription] : subscriptions_) {
    if (!subscription.playout) continue;
    add(playout, subscription.playout->counters());
    held += subscription.playout->heldCount();
  }
  out.data_delivered = delivered_;
  out.playout_lost = playout.lost;
  out.playout_late = playout.late;
  out.playout_duplicates = playout.duplicates;
  out.playout_reordered = playout.reordered;
  out.playout_overflows = playout.overflows;
  out.playout_resyncs = playout.resyncs;
  out.playout_held = held;
}

}  // namespace overline::sdk
