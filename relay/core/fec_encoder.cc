#include "relay/core/fec_encoder.h"

#include <algorithm>

#include "common/check/invariant.h"
#include "common/fec/reed_solomon.h"

namespace overline::relay {

static_assert(wire::kMaxFecDataPackets == fec::kMaxDataBlocks);
static_assert(wire::kMaxFecParityPackets == fec::kMaxParityBlocks);

FecEncoder::FecEncoder(DurationUs max_group_delay_us) : max_group_delay_us_(max_group_delay_us) {}
FecEncoder::~FecEncoder() = default;
FecEncoder::FecEncoder(FecEncoder&&) noexcept = default;
FecEncoder& FecEncoder::operator=(FecEncoder&&) noexcept = default;

void FecEncoder::setProtection(FecProtection protection) {
  if (protection.m == 0) {
    protection_ = {};
    state_.reset();
    return;
  }
  protection_.k = std::clamp<std::uint8_t>(protection.k, 1, wire::kMaxFecDataPackets);
  protection_.m = std::min<std::uint8_t>(protection.m, wire::kMaxFecParityPackets);
  if (!state_) {
    state_ = std::make_unique<State>();
    state_->blocks.resize(wire::kMaxFecDataPackets * wire::kMaxFecBlockBytes);
  }
}

void FecEncoder::onDataSent(std::span<const std::byte> data_packet, TimeUs now, std::vector<FecPacket>& out) {
  if (!state_) return;
  auto parsed = wire::parsePacket(data_packet);
  if (!parsed) {
    ++counters_.ignored_not_data;
    return;
  }
  onDataSent(*parsed, now, out);
}

void FecEncoder::onDataSent(const wire::PacketView& data, TimeUs now, std::vector<FecPacket>& out) {
  if (!state_) return;
  if (data.header.type != wire::PacketType::kData) {
    ++counters_.ignored_not_data;
    return;
  }
  if ((data.header.flags & wire::kFlagRetransmit) != 0) {
    ++counters_.ignored_retransmits;
    return;
  }
  std::optional<OpenGroup>& group = state_->group;
  if (group && (group->header.stream_id != data.header.stream_id ||
                group->header.sender_node_id != data.header.sender_node_id ||
                group->header.hop_limit != data.header.hop_limit)) {
    closeGroup(out);
  }
  if (group) {
    const std::uint32_t* begin = group->sequences.data();
    const std::uint32_t* end = begin + group->count;
    if (std::find(begin, end, data.header.sequence) != end) {
      ++counters_.ignored_duplicates;
      return;
    }
  } else {
    group = OpenGroup{};  // not emplace(): clang 14 sees OpenGroup incomplete there
    group->protection = protection_;
    group->header.type = wire::PacketType::kFec;
    group->header.hop_limit = data.header.hop_limit;
    group->header.sender_node_id = data.header.sender_node_id;
    group->header.stream_id = data.header.stream_id;
    group->header.sequence = next_group_sequence_++;
    group->opened_at = now;
  }
  const std::size_t slot = group->count++;
  group->sequences[slot] = data.header.sequence;
  group->block_length = std::max(group->block_length, wire::protectedBlockSize(data));
  wire::writeProtectedBlock(
      data, std::span<std::byte>(state_->blocks).subspan(slot * wire::kMaxFecBlockBytes, wire::kMaxFecBlockBytes));
  ++counters_.data_packets;
  if (group->count >= group->protection.k) closeGroup(out);
}

void FecEncoder::onTick(TimeUs now, std::vector<FecPacket>& out) {
  if (state_ && state_->group && now - state_->group->opened_at >= max_group_delay_us_) closeGroup(out);
}

std::optional<TimeUs> FecEncoder::flushDueAt() const {
  if (!state_ || !state_->group) return std::nullopt;
  return state_->group->opened_at + max_group_delay_us_;
}

const fec::ReedSolomon& FecEncoder::codecFor(std::size_t k, std::size_t m) {
  std::unique_ptr<fec::ReedSolomon>& codec = state_->codec;
  if (!codec || codec->dataBlocks() != k || codec->parityBlocks() != m) {
    codec = std::make_unique<fec::ReedSolomon>(k, m);
  }
  return *codec;
}

void FecEncoder::closeGroup(std::vector<FecPacket>& out) {
  if (!OVERLINE_INVARIANT(state_ && state_->group)) return;  // no open group: nothing to close
  const OpenGroup group = *state_->group;
  state_->group.reset();

  const std::size_t k = group.count;
  const std::size_t full_k = group.protection.k;
  // Same parity per data packet for a partial group, at least one.
  const std::size_t m = std::max<std::size_t>(1, (group.protection.m * k + full_k - 1) / full_k);
  const std::size_t length = group.block_length;
  const fec::ReedSolomon& codec = codecFor(k, m);

  std::array<std::span<const std::byte>, wire::kMaxFecDataPackets> data;
  for (std::size_t i = 0; i < k; ++i) {
    data[i] = std::span<const std::byte>(state_->blocks).subspan(i * wire::kMaxFecBlockBytes, length);
  }
  state_->parity.resize(m * length);
  std::array<std::span<std::byte>, wire::kMaxFecParityPackets> parity;
  for (std::size_t j = 0; j < m; ++j) parity[j] = std::span<std::byte>(state_->parity).subspan(j * length, length);
  codec.encode(std::span(data).first(k), std::span(parity).first(m));

  const std::span<const std::uint32_t> sequences(group.sequences.data(), k);
  std::array<std::byte, wire::kMaxFecPayloadBytes> payload;
  for (std::size_t j = 0; j < m; ++j) {
    const std::size_t payload_size = wire::encodeFecPayload(static_cast<std::uint8_t>(m), static_cast<std::uint8_t>(j),
                                                            sequences, parity[j], payload);
    FecPacket& packet = out.emplace_back();
    packet.size = wire::encodePacket(group.header, std::span(payload).first(payload_size), packet.bytes);
    ++counters_.fec_packets;
    counters_.fec_bytes += packet.size;
  }
  ++counters_.groups;
  if (k < full_k) ++counters_.partial_groups;
}

}  // namespace overline::relay
