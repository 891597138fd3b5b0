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

bool isHelloReply(std::span<const std::byte> datagram) {
  const auto parsed = wire::parsePacket(datagram);
  return parsed && parsed->header.type == wire::PacketType::kHello;
}

}  // namespace

// --- SimPublisher ---

SimPublisher::SimPublisher(SimNetwork& network, PublisherConfig config)
    : network_(network),
      config_(config),
      stream_id_(makeStreamId(config.edge, config.stream_local_id)),
      client_(network.addClient(config.edge, config.edge_line,
                                [this](std::span<const std::byte> datagram, TimeUs) {
                                  if (isHelloReply(datagram)) edge_answered_ = true;
                                })),
      payload_(config.payload_bytes, std::byte{0x5a}),
      packet_(wire::kHeaderBytes + config.payload_bytes) {
  assert(config_.packets_per_second > 0 && config_.payload_bytes <= wire::kMaxPayloadBytes);
  Simulator& simulator = network_.simulator();
  simulator.schedulePeriodic(config_.start_us, config_.keepalive_interval_us, [this] {
    if (network_.simulator().now() >= config_.stop_us) return false;
    network_.sendFromClient(client_, controlPacket(wire::PacketType::kHello, 0));
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
  network_.sendFromClient(client_, std::span(packet_.data(), size));
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
                                })) {
  Simulator& simulator = network_.simulator();
  // HELLO first: the edge admits SUBSCRIBE only from a joined client.
  simulator.schedulePeriodic(config_.start_us, config_.keepalive_interval_us, [this] {
    sendControl(wire::PacketType::kHello);
    return true;
  });
  simulator.schedulePeriodic(config_.start_us, config_.refresh_interval_us, [this] {
    sendControl(wire::PacketType::kSubscribe);
    return true;
  });
}

void SimSubscriber::sendControl(wire::PacketType type) {
  network_.sendFromClient(client_, controlPacket(type, type == wire::PacketType::kHello ? 0 : config_.stream));
}

void SimSubscriber::onDatagram(std::span<const std::byte> datagram, TimeUs now) {
  const auto parsed = wire::parsePacket(datagram);
  if (!parsed) return;
  const wire::Header& header = parsed->header;
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
