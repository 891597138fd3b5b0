#include "simulations/sim_clients.h"

#include <algorithm>
#include <array>
#include <cassert>

namespace overline::sim {
namespace {

std::array<std::byte, wire::kHeaderBytes> controlPacket(wire::PacketType type, StreamId stream) {
  wire::Header header;
  header.type = type;
  header.stream_id = stream;
  std::array<std::byte, wire::kHeaderBytes> packet;
  wire::encodePacket(header, {}, packet);
  return packet;
}


}  // namespace

TimeUs joinTime(TimeUs start_us) { return start_us - std::min(start_us, kJoinLeadUs); }

// --- SimPublisher ---

SimPublisher::SimPublisher(SimNetwork& network, PublisherConfig config)
    : network_(network),
      config_(config),
      stream_id_(makeStreamId(config.edge, config.stream_local_id)),
      client_(network.addClient(config.edge, config.edge_line,
                                [this](std::span<const std::byte> datagram, TimeUs) {
                                  const auto parsed = wire::parsePacket(datagram);
                                  if (!parsed) return;
                                  const bool was_joined = session_.joined();
                                  session_.onAnswer(*parsed);
                                  if (!was_joined && session_.joined()) {
                                    for (const auto& waiting : waiting_) session_.send(waiting);
                                    waiting_.clear();
                                  }
                                  if (parsed->header.type == wire::PacketType::kHello ||
                                      parsed->header.type == wire::PacketType::kWelcome) {
                                    edge_answered_ = true;
                                  }
                                })),
      session_(network, client_),
      payload_(config.payload_bytes, std::byte{0x5a}),
      packet_(wire::kHeaderBytes + config.payload_bytes) {
  assert(config_.packets_per_second > 0 && config_.payload_bytes <= wire::kMaxPayloadBytes);
  Simulator& simulator = network_.simulator();
  simulator.schedulePeriodic(joinTime(config_.start_us), config_.keepalive_interval_us, [this] {
    if (network_.simulator().now() >= config_.stop_us) return false;
    session_.sendHello();
    return true;
  });
  simulator.schedule(config_.start_us, [this] { sendNext(); });
}

TimeUs SimPublisher::sendTimeOf(std::uint64_t sequence) const {
  // Exact integer schedule: no drift at rates that do not divide a second.
  return config_.start_us + static_cast<TimeUs>(sequence * kSecond / config_.packets_per_second);
}

bool SimPublisher::sendNext() {
  Simulator& simulator = network_.simulator();
  if (simulator.now() >= config_.stop_us) return false;
  wire::Header header;
  header.type = wire::PacketType::kData;
  header.flags = config_.redundant ? wire::kFlagRedundant : 0;
  header.stream_id = stream_id_;
  header.sequence = static_cast<std::uint32_t>(packets_sent_);
  header.timestamp_us = static_cast<std::uint64_t>(simulator.now());
  const std::size_t size = wire::encodePacket(header, payload_, packet_);
  // Until the join completes the packet waits (sdk::Client::connect returns
  // only once joined, so an application's first packets wait the same way).
  if (session_.joined()) {
    session_.send(std::span(packet_.data(), size));
  } else if (waiting_.size() < kMaxWaiting) {
    waiting_.emplace_back(packet_.begin(), packet_.begin() + static_cast<std::ptrdiff_t>(size));
  } else {
    ++packets_before_join_;
  }
  ++packets_sent_;
  simulator.schedule(sendTimeOf(packets_sent_), [this] { sendNext(); });
  return true;
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
    : network_(network),
      config_(config),
      client_(network.addClient(config.edge, config.edge_line,
                                [this](std::span<const std::byte> datagram, TimeUs now) {
                                  onDatagram(datagram, now);
                                })),
      session_(network, client_) {
  Simulator& simulator = network_.simulator();
  // HELLO first: the edge admits SUBSCRIBE only from a joined client.
  simulator.schedulePeriodic(joinTime(config_.start_us), config_.keepalive_interval_us, [this] {
    sendControl(wire::PacketType::kHello);
    return true;
  });
  simulator.schedulePeriodic(config_.start_us, config_.refresh_interval_us, [this] {
    sendControl(wire::PacketType::kSubscribe);
    return true;
  });
}

void SimSubscriber::sendControl(wire::PacketType type) {
  if (type == wire::PacketType::kHello) {
    session_.sendHello();
    return;
  }
  session_.send(controlPacket(type, config_.stream));
}

void SimSubscriber::onDatagram(std::span<const std::byte> datagram, TimeUs now) {
  const auto parsed = wire::parsePacket(datagram);
  if (!parsed) return;
  const wire::Header& header = parsed->header;
  const bool was_joined = session_.joined();
  if (session_.onAnswer(*parsed)) {
    // Joined late: subscribe at once rather than at the next refresh.
    if (!was_joined && session_.joined()) {
      edge_answered_ = true;
      if (now >= config_.start_us) sendControl(wire::PacketType::kSubscribe);
    }
    return;
  }
  if (header.type == wire::PacketType::kHello) {
    edge_answered_ = true;
    return;
  }
  if (header.type != wire::PacketType::kData || header.stream_id != config_.stream) return;
  ++data_received_;
  const std::uint64_t unique_before = stats_.uniqueCount();
  stats_.onPacket(header.sequence, header.timestamp_us, static_cast<std::uint64_t>(now));
  if (stats_.uniqueCount() > unique_before) arrivals_.push_back(Arrival{now, header.sequence});
}

}  // namespace overline::sim
