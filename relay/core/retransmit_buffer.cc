#include "relay/core/retransmit_buffer.h"

#include <algorithm>
#include <cstring>

#include "common/check/invariant.h"

namespace overline::relay {

RetransmitBuffer::RetransmitBuffer(std::size_t per_stream_packets, std::size_t bytes_cap)
    : per_stream_packets_(per_stream_packets),
      slot_count_(std::max<std::size_t>(1, bytes_cap / wire::kMaxPacketBytes)),
      storage_(new std::byte[slot_count_ * wire::kMaxPacketBytes]) {
  if (!OVERLINE_INVARIANT(per_stream_packets >= 1)) per_stream_packets_ = 1;
  // storage_ holds slot_count_ slots, so fewer are safe to use.
  if (!OVERLINE_INVARIANT(slot_count_ < kNoSlot)) slot_count_ = kNoSlot - 1;
}

void RetransmitBuffer::store(StreamId stream, std::uint32_t sequence, std::span<const std::byte> packet, TimeUs now,
                             TimeUs expires_at_us) {
  if (!OVERLINE_INVARIANT(packet.size() <= wire::kMaxPacketBytes)) return;  // not kept: a NACK for it misses
  StreamIndex& index = streams_[stream];
  if (index.empty()) index.assign(per_stream_packets_, kNoSlot);
  const std::size_t position = sequence % per_stream_packets_;

  std::uint32_t slot_index = index[position];
  if (slot_index != kNoSlot) {
    // The position's previous packet (an older sequence, or this one again):
    // reuse its slot in place.
    release(slot_index, now);
  } else if (slots_.size() < slot_count_) {
    slot_index = static_cast<std::uint32_t>(slots_.size());
    slots_.emplace_back();
  } else {
    slot_index = next_slot_;
    next_slot_ = static_cast<std::uint32_t>((next_slot_ + 1) % slot_count_);
    release(slot_index, now);
  }
  Slot& slot = slots_[slot_index];
  slot = Slot{stream, sequence, static_cast<std::uint16_t>(packet.size()), true, now, expires_at_us, {}};
  std::memcpy(bytesOf(slot_index), packet.data(), packet.size());
  index[position] = slot_index;
}

void RetransmitBuffer::release(std::uint32_t index, TimeUs now) {
  Slot& slot = slots_[index];
  if (!slot.used) return;
  slot.used = false;
  if (now < slot.expires_at_us) ++evictions_;
  const auto it = streams_.find(slot.stream);
  if (it == streams_.end()) return;
  std::uint32_t& entry = it->second[slot.sequence % per_stream_packets_];
  if (entry == index) entry = kNoSlot;
}

const RetransmitBuffer::Slot* RetransmitBuffer::slotOf(StreamId stream, std::uint32_t sequence,
                                                       std::uint32_t* slot_index) const {
  const auto it = streams_.find(stream);
  if (it == streams_.end()) return nullptr;
  const std::uint32_t index = it->second[sequence % per_stream_packets_];
  if (index == kNoSlot) return nullptr;
  const Slot& slot = slots_[index];
  if (!slot.used || slot.stream != stream || slot.sequence != sequence) return nullptr;
  if (slot_index != nullptr) *slot_index = index;
  return &slot;
}

RetransmitBuffer::Lookup RetransmitBuffer::find(StreamId stream, std::uint32_t sequence, TimeUs now,
                                                Entry& entry) const {
  std::uint32_t index = 0;
  const Slot* slot = slotOf(stream, sequence, &index);
  if (slot == nullptr) return Lookup::kMissing;
  if (now >= slot->expires_at_us) return Lookup::kExpired;
  entry = Entry{std::span<const std::byte>(bytesOf(index), slot->size), slot->stored_at_us, slot->expires_at_us};
  return Lookup::kFound;
}

bool RetransmitBuffer::takeRetransmitTurn(StreamId stream, std::uint32_t sequence, NodeId neighbour, TimeUs now,
                                          DurationUs spacing_us) {
  std::uint32_t index = 0;
  if (slotOf(stream, sequence, &index) == nullptr) return false;
  Slot& slot = slots_[index];
  Turn* oldest = &slot.turns[0];
  for (Turn& turn : slot.turns) {
    if (turn.neighbour == neighbour) {
      if (now - turn.at_us < spacing_us) return false;
      turn.at_us = now;
      return true;
    }
    if (turn.neighbour == kNoNode || turn.at_us < oldest->at_us) oldest = &turn;
    if (oldest->neighbour == kNoNode) break;
  }
  *oldest = Turn{neighbour, now};
  return true;
}

void RetransmitBuffer::forgetStream(StreamId stream) { streams_.erase(stream); }

}  // namespace overline::relay
