#include "bench/relay_hop_neighbour.h"

#include <chrono>
#include <optional>

namespace overline::bench {
namespace {

// A probe is never forwarded (relay/core's kProbeHopLimit).
constexpr std::uint8_t kProbeHopLimit = 1;

// The wall clock for the sending key's activation time (every key here is
// active at once, so only its presence matters).
std::optional<TimeUs> wallNowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Result<std::unique_ptr<FakeNeighbour>, std::string> FakeNeighbour::open(NodeId self, const MeshAuth& auth) {
  auto socket = BenchSocket::open(ArrivalInfo::kDropsAndKernelTime);
  if (!socket) return Err(socket.error());
  return std::unique_ptr<FakeNeighbour>(new FakeNeighbour(self, auth, std::move(socket.value())));
}

FakeNeighbour::FakeNeighbour(NodeId self, const MeshAuth& auth, std::unique_ptr<BenchSocket> socket)
    : self_(self), socket_(std::move(socket)), auth_(self, auth.enabled, /*packet_number_base=*/1) {
  if (auth.enabled) auth_.setMeshKeys({relay::MeshKey{1, auth.secret, 0}});
}

void FakeNeighbour::attachTo(NodeId relay, const Endpoint& relay_line) {
  const std::lock_guard lock(auth_mutex_);
  relay_ = relay;
  relay_line_ = relay_line;
  const NodeId neighbours[] = {relay};
  auth_.setNeighbours(neighbours);
}

std::size_t FakeNeighbour::build(wire::Header header, std::span<const std::byte> payload, wire::PacketBuffer& out) {
  header.sender_node_id = self_;
  const std::size_t size = wire::encodePacket(header, payload, out);
  const std::lock_guard lock(auth_mutex_);
  return auth_.seal(relay_, out, size, wallNowUs());
}

void FakeNeighbour::buildBatch(std::size_t count, const std::function<void(std::size_t, wire::Header&)>& fill,
                               std::span<const std::byte> payload, std::span<wire::PacketBuffer> out,
                               std::span<std::size_t> sizes) {
  const std::optional<TimeUs> wall_now_us = wallNowUs();
  const std::lock_guard lock(auth_mutex_);
  for (std::size_t i = 0; i < count; ++i) {
    wire::Header header;
    fill(i, header);
    header.sender_node_id = self_;
    const std::size_t size = wire::encodePacket(header, payload, out[i]);
    sizes[i] = auth_.seal(relay_, out[i], size, wall_now_us);
  }
}

bool FakeNeighbour::accepts(const wire::PacketView& packet) {
  const std::lock_guard lock(auth_mutex_);
  return auth_.check(relay_, packet) == relay::NeighbourAuth::Verdict::kOk;
}

bool FakeNeighbour::answerProbe(const wire::Header& probe, const Endpoint& to) {
  wire::Header ack;
  ack.type = wire::PacketType::kProbeAck;
  ack.hop_limit = kProbeHopLimit;
  ack.sequence = probe.sequence;
  ack.timestamp_us = probe.timestamp_us;
  wire::PacketBuffer packet;
  const std::size_t size = build(ack, {}, packet);
  return size != 0 && socket_->sendTo(std::span<const std::byte>(packet.data(), size), to);
}

std::size_t FakeNeighbour::subscribe(std::span<const StreamId> streams) {
  std::vector<wire::PacketBuffer> packets(std::min(streams.size(), kBatchSize));
  std::vector<std::size_t> sizes(packets.size());
  std::vector<std::span<const std::byte>> datagrams;
  std::size_t sent = 0;
  for (std::size_t first = 0; first < streams.size(); first += packets.size()) {
    const std::size_t count = std::min(packets.size(), streams.size() - first);
    buildBatch(
        count,
        [&](std::size_t i, wire::Header& header) {
          header.type = wire::PacketType::kSubscribe;
          header.stream_id = streams[first + i];
        },
        {}, packets, sizes);
    datagrams.clear();
    for (std::size_t i = 0; i < count; ++i) {
      if (sizes[i] != 0) datagrams.emplace_back(packets[i].data(), sizes[i]);
    }
    sent += socket_->sendBatch(datagrams, relay_line_);
  }
  return sent;
}

}  // namespace overline::bench
