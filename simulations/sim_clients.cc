#include "simulations/sim_clients.h"

#include <cassert>
#include <utility>

namespace overline::sim {

// --- SimPublisher ---

SimPublisher::SimPublisher(SimNetwork& network, PublisherConfig config)
    : simulator_(network.simulator()),
      config_(std::move(config)),
      client_(network, ClientConfig{config_.edges, config_.homes, joinTime(config_.start_us)},
              ClientHooks{.on_event =
                              [this](const sdk::SessionEvent& event, TimeUs now) {
                                // Hooks run inside the core: publish right after.
                                if (event.type == sdk::SessionEventType::kConnected && stream_id_ == 0) {
                                  simulator_.schedule(now, [this] { publish(); });
                                }
                              }}),
      payload_(config_.payload_bytes, std::byte{0x5a}) {
  assert(config_.packets_per_second > 0 && config_.payload_bytes <= wire::kMaxPayloadBytes);
  simulator_.schedule(config_.start_us, [this] { sendDue(); });
}

TimeUs SimPublisher::sendTimeOf(std::uint64_t sequence) const {
  // Exact integer schedule: no drift at rates that do not divide a second.
  return config_.start_us + static_cast<TimeUs>(sequence * kSecond / config_.packets_per_second);
}

void SimPublisher::sendDue() {
  if (simulator_.now() >= config_.stop_us) return;
  ++packets_due_;
  if (stream_id_ != 0) send(packets_handed_++);
  simulator_.schedule(sendTimeOf(packets_due_), [this] { sendDue(); });
}

void SimPublisher::publish() {
  if (stream_id_ != 0) return;  // connected again after a loss: the publication stands
  const auto stream = client_.publish(config_.stream_local_id, sdk::PublishOptions{.redundant = config_.redundant});
  assert(stream.ok());  // joined, and the default budget is valid
  stream_id_ = stream.value();
  while (packets_handed_ < packets_due_) send(packets_handed_++);
}

void SimPublisher::send(std::uint64_t sequence) {
  // The core numbers DATA in the order it is handed over, from 0: this is
  // its sequence `sequence`. False (an edge move in progress) is the SDK's
  // loss, counted by the core as data_without_edge.
  client_.send(stream_id_, payload_, static_cast<std::uint64_t>(sendTimeOf(sequence)));
}

// --- Gaps ---

Gap largestGap(std::span<const Arrival> arrivals, TimeUs from_us, TimeUs to_us) {
  Gap largest;
  for (std::size_t i = 1; i < arrivals.size(); ++i) {
    const Gap gap{arrivals[i - 1].at_us, arrivals[i].at_us};
    if (gap.end_us < from_us || gap.start_us > to_us) continue;
    if (gap.lengthUs() > largest.lengthUs()) largest = gap;
  }
  return largest;
}

// --- SimSubscriber ---

SimSubscriber::SimSubscriber(SimNetwork& network, SubscriberConfig config)
    : client_(network, ClientConfig{config.edges, config.homes, joinTime(config.start_us)},
              ClientHooks{.on_arrival = [this](const sdk::DataRelease& data, TimeUs now) { onArrival(data, now); }}) {
  // Before the join completes the SDK holds the SUBSCRIBE and sends it on the join.
  network.simulator().schedule(config.start_us, [this, stream = config.stream] {
    [[maybe_unused]] const auto subscribed = client_.subscribe(stream, sdk::SubscriptionConfig{.arrivals = true});
    assert(subscribed.ok());  // the default config is valid
  });
}

void SimSubscriber::onArrival(const sdk::DataRelease& data, TimeUs now) {
  ++data_received_;
  const std::uint64_t unique_before = stats_.uniqueCount();
  stats_.onPacket(data.header.sequence, data.header.timestamp_us, static_cast<std::uint64_t>(now));
  if (stats_.uniqueCount() > unique_before) arrivals_.push_back(Arrival{now, data.header.sequence});
}

}  // namespace overline::sim
