#include "relay/core/fec_decoder.h"

#include <algorithm>
#include <bit>
#include <cstring>

#include "common/check/invariant.h"
#include "common/fec/reed_solomon.h"

namespace overline::relay {
namespace {

// What every parity packet of one group shares: its header but the
// per-packet fields of wire v2 (each carries its own packet number and tag).
wire::Header groupHeader(wire::Header header) {
  header.key_epoch = 0;
  header.packet_number = 0;
  return header;
}

bool contains(std::span<const std::uint32_t> sequences, std::uint32_t sequence) {
  return std::find(sequences.begin(), sequences.end(), sequence) != sequences.end();
}

std::span<const std::uint32_t> sequencesOf(const std::array<std::uint32_t, wire::kMaxFecDataPackets>& all,
                                           std::uint8_t k) {
  return {all.data(), k};
}

}  // namespace

FecDecoder::FecDecoder(FecDecoderConfig config) : config_(config) {
  if (!OVERLINE_INVARIANT(config_.max_groups >= 1)) config_.max_groups = 1;
  if (!OVERLINE_INVARIANT(std::has_single_bit(config_.data_window))) {
    config_.data_window = std::bit_ceil(std::max<std::size_t>(config_.data_window, 1));
  }
}

void FecDecoder::activate() {
  slots_.assign(config_.data_window, DataSlot{});
  data_bytes_.assign(config_.data_window * wire::kMaxFecBlockBytes, std::byte{0});
  groups_.resize(config_.max_groups);
  scratch_.assign(wire::kMaxFecDataPackets * wire::kMaxFecBlockBytes, std::byte{0});
}

void FecDecoder::deactivate() {
  for (Group& group : groups_) {
    if (group.used) release(group);
  }
  // Swap with empties: clear() alone would keep the memory.
  std::vector<DataSlot>().swap(slots_);
  std::vector<std::byte>().swap(data_bytes_);
  std::vector<Group>().swap(groups_);
  std::vector<std::byte>().swap(scratch_);
  last_fec_at_.reset();
}

std::span<std::byte> FecDecoder::slotBytes(std::uint32_t sequence) {
  const std::size_t slot = sequence & (config_.data_window - 1);
  return std::span<std::byte>(data_bytes_).subspan(slot * wire::kMaxFecBlockBytes, wire::kMaxFecBlockBytes);
}

std::optional<std::span<const std::byte>> FecDecoder::storedBlock(std::uint32_t sequence, TimeUs now) const {
  const std::size_t index = sequence & (config_.data_window - 1);
  const DataSlot& slot = slots_[index];
  if (!slot.used || slot.sequence != sequence || expired(slot.received_at, now)) return std::nullopt;
  return std::span<const std::byte>(data_bytes_).subspan(index * wire::kMaxFecBlockBytes, slot.block_size);
}

void FecDecoder::store(const wire::PacketView& data, TimeUs now) {
  const std::uint32_t sequence = data.header.sequence;
  // Whole stride, zero-padded: any prefix of L bytes is the padded block.
  wire::writeProtectedBlock(data, slotBytes(sequence));
  DataSlot& slot = slots_[sequence & (config_.data_window - 1)];
  slot = {true, sequence, now, wire::protectedBlockSize(data)};
}

void FecDecoder::release(Group& group) {
  if (!group.done) ++counters_.groups_unrecovered;
  group.used = false;
}

FecDecoder::Group& FecDecoder::allocateGroup(TimeUs now) {
  Group* chosen = nullptr;
  for (Group& group : groups_) {
    if (!group.used) return group;
    if (expired(group.first_seen, now)) {
      release(group);
      return group;
    }
    // Prefer the oldest done group, else the oldest pending one.
    if (chosen == nullptr || (group.done && !chosen->done) ||
        (group.done == chosen->done && group.first_seen < chosen->first_seen)) {
      chosen = &group;
    }
  }
  if (!OVERLINE_INVARIANT(chosen != nullptr)) {  // only with no groups at all: make one
    groups_.resize(1);
    return groups_.front();
  }
  if (!chosen->done) ++counters_.groups_evicted;
  release(*chosen);
  return *chosen;
}

bool FecDecoder::consistent(const Group& group, const wire::PacketView& fec,
                            const wire::FecPayloadView& payload) const {
  return group.k == payload.data_count && group.m == payload.parity_count &&
         group.block_length == payload.parity.size() &&
         std::equal(group.sequences.begin(), group.sequences.begin() + group.k, payload.sequences.begin()) &&
         group.header == groupHeader(fec.header);
}

void FecDecoder::onData(const wire::PacketView& data, TimeUs now, std::vector<FecPacket>& recovered) {
  if (!active()) return;
  store(data, now);
  for (Group& group : groups_) {
    if (group.used && !group.done && !expired(group.first_seen, now) &&
        contains(sequencesOf(group.sequences, group.k), data.header.sequence)) {
      tryRecover(group, now, recovered);
    }
  }
}

void FecDecoder::onFec(const wire::PacketView& fec, TimeUs now, std::vector<FecPacket>& recovered) {
  ++counters_.fec_packets;
  auto parsed = wire::parseFecPayload(fec.payload);
  if (!parsed) {
    ++counters_.bad_payload;
    return;
  }
  const wire::FecPayloadView& payload = *parsed;
  if (!active()) activate();
  last_fec_at_ = now;

  Group* group = nullptr;
  for (Group& candidate : groups_) {
    if (candidate.used && candidate.id == fec.header.sequence) {
      if (expired(candidate.first_seen, now)) {
        release(candidate);
      } else {
        group = &candidate;
      }
      break;
    }
  }
  if (group != nullptr) {
    if (!consistent(*group, fec, payload)) {
      ++counters_.inconsistent;
      return;
    }
    if (group->done) {
      ++counters_.late_parity;
      return;
    }
    if (group->have_parity.test(payload.parity_index)) {
      ++counters_.duplicate_parity;
      return;
    }
  } else {
    group = &allocateGroup(now);
    group->used = true;
    group->done = false;
    group->id = fec.header.sequence;
    group->first_seen = now;
    group->header = groupHeader(fec.header);
    group->k = payload.data_count;
    group->m = payload.parity_count;
    group->sequences = payload.sequences;
    group->block_length = payload.parity.size();
    group->have_parity.reset();
    group->parity.resize(std::size_t{group->m} * group->block_length);
  }
  std::memcpy(group->parity.data() + payload.parity_index * group->block_length, payload.parity.data(),
              group->block_length);
  group->have_parity.set(payload.parity_index);
  tryRecover(*group, now, recovered);
}

void FecDecoder::tryRecover(Group& group, TimeUs now, std::vector<FecPacket>& recovered) {
  const std::size_t k = group.k;
  const std::size_t length = group.block_length;
  std::array<fec::IndexedBlock, wire::kMaxFecDataPackets + wire::kMaxFecParityPackets> present;
  std::size_t present_count = 0;
  std::array<std::size_t, wire::kMaxFecDataPackets> missing{};
  std::size_t missing_count = 0;
  for (std::size_t i = 0; i < k; ++i) {
    const auto block = storedBlock(group.sequences[i], now);
    if (!block) {
      missing[missing_count++] = i;
      continue;
    }
    if (block->size() > length) {  // this DATA cannot be part of the group the parity describes
      ++counters_.inconsistent;
      group.done = true;
      return;
    }
    // The slot is zero beyond the block, so its first L bytes are the padded block.
    present[present_count++] = {i, std::span<const std::byte>(block->data(), length)};
  }
  if (missing_count == 0) {
    group.done = true;
    return;
  }
  if (present_count + group.have_parity.count() < k) return;
  for (std::size_t j = 0; j < group.m; ++j) {
    if (group.have_parity.test(j)) {
      present[present_count++] = {k + j, std::span<const std::byte>(group.parity).subspan(j * length, length)};
    }
  }

  std::array<std::span<std::byte>, wire::kMaxFecDataPackets> outputs{};
  for (std::size_t e = 0; e < missing_count; ++e) {
    outputs[missing[e]] = std::span<std::byte>(scratch_).subspan(e * wire::kMaxFecBlockBytes, length);
  }
  const fec::ReedSolomon codec(k, group.m);
  const auto decoded = codec.decode(std::span(present).first(present_count), std::span(outputs).first(k));
  group.done = true;
  if (!decoded) {  // cannot happen with blocks checked above; counted rather than trusted
    ++counters_.inconsistent;
    return;
  }
  ++counters_.groups_recovered;
  for (std::size_t e = 0; e < missing_count; ++e) {
    const std::uint32_t sequence = group.sequences[missing[e]];
    FecPacket& packet = recovered.emplace_back();
    const auto size = wire::rebuildDataPacket(outputs[missing[e]], group.header, sequence, packet.bytes);
    if (!size) {
      recovered.pop_back();
      ++counters_.bad_recovered_block;
      continue;
    }
    packet.size = *size;
    // Stored like received data, so a late parity of this group or a later
    // group listing the same sequence finds it.
    const auto view = wire::parsePacket(packet.view());
    if (!OVERLINE_INVARIANT(view.ok())) {  // rebuildDataPacket builds valid packets only
      recovered.pop_back();
      ++counters_.bad_recovered_block;
      continue;
    }
    ++counters_.recovered;
    store(*view, now);
  }
}

void FecDecoder::onTick(TimeUs now) {
  if (!active()) return;
  if (now - *last_fec_at_ > config_.idle_after_us) {
    deactivate();
    return;
  }
  for (Group& group : groups_) {
    if (group.used && expired(group.first_seen, now)) release(group);
  }
}

bool FecDecoder::mayStillRepair(std::uint32_t sequence, TimeUs now) const {
  if (!active()) return false;
  for (const Group& group : groups_) {
    if (!group.used || group.done || expired(group.first_seen, now) ||
        !contains(sequencesOf(group.sequences, group.k), sequence)) {
      continue;
    }
    if (storedBlock(sequence, now)) return false;
    std::size_t missing = 0;
    for (std::size_t i = 0; i < group.k; ++i) {
      if (!storedBlock(group.sequences[i], now)) ++missing;
    }
    std::size_t highest = 0;
    for (std::size_t j = 0; j < group.m; ++j) {
      if (group.have_parity.test(j)) highest = j;
    }
    const std::size_t still_to_come = group.m - 1 - highest;
    return missing <= group.have_parity.count() + still_to_come;
  }
  return false;
}

}  // namespace overline::relay
