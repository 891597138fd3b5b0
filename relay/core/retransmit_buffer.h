#pragma once
// RetransmitBuffer: the DATA packets this relay recently forwarded to
// neighbour relays, kept so that a downstream's NACK can be answered.
// Pure and single-threaded; time comes in as `now`.
//
// What is kept: the packet's bytes exactly as forwarded (after
// rewriteHopFields, kFlagRetransmit clear), its stream and sequence, and
// until when it may still be retransmitted (`expires_at_us`: the time it was
// forwarded plus its latency budget; the relay measures the budget from its
// own first sight of the packet, since it shares no clock with the publisher).
//
// Bounds:
//  * relay-wide memory: slot_count = max(1, bytes_cap / kMaxPacketBytes)
//    fixed-size slots (a packet of any size takes one), allocated once and
//    reused oldest-first (FIFO over all streams), so memory never grows past
//    the cap and, once every slot has been used, nothing is allocated per
//    packet. The slab is not touched before use, so an idle relay does not
//    pay for it;
//  * per stream: at most `per_stream_packets` sequences, indexed by
//    sequence % per_stream_packets: storing a sequence evicts whatever sat in
//    its index position. A stream's index (4 bytes per position) is
//    allocated when it stores its first packet;
//  * age: a packet past expires_at_us is never returned (find() reports it
//    as expired) and its slot is simply reused later.
// A packet pushed out by either count bound before its expiry is an
// eviction (evictions()): the buffer was too small for the traffic.

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

#include "common/types.h"
#include "common/wire/packet.h"

namespace overline::relay {

class RetransmitBuffer {
 public:
  // `per_stream_packets` >= 1, `bytes_cap` >= 1 (asserted).
  RetransmitBuffer(std::size_t per_stream_packets, std::size_t bytes_cap);

  // Keeps a copy of `packet` (<= wire::kMaxPacketBytes; asserted) as
  // `sequence` of `stream` until `expires_at_us`. A packet already kept for
  // that (stream, sequence) is replaced.
  void store(StreamId stream, std::uint32_t sequence, std::span<const std::byte> packet, TimeUs now,
             TimeUs expires_at_us);

  enum class Lookup : std::uint8_t { kFound, kExpired, kMissing };
  struct Entry {
    std::span<const std::byte> packet;  // valid until the next store()
    TimeUs stored_at_us = 0;
    TimeUs expires_at_us = 0;
  };
  // The packet kept for (stream, sequence) if it has not expired at `now`.
  Lookup find(StreamId stream, std::uint32_t sequence, TimeUs now, Entry& entry) const;

  // Retransmission pacing per (packet, neighbour): true, recording `now`, if
  // the packet kept for (stream, sequence) was not retransmitted to
  // `neighbour` within the last `spacing_us`; false otherwise or if the
  // packet is not kept. The last kPacedNeighbours neighbours are remembered.
  bool takeRetransmitTurn(StreamId stream, std::uint32_t sequence, NodeId neighbour, TimeUs now,
                          DurationUs spacing_us);

  // Forgets the stream's index (its slots are reused in FIFO order later).
  void forgetStream(StreamId stream);

  std::uint64_t evictions() const { return evictions_; }
  std::size_t slotCount() const { return slot_count_; }

  static constexpr std::size_t kPacedNeighbours = 4;

 private:
  static constexpr std::uint32_t kNoSlot = 0xFFFFFFFFu;
  struct Turn {
    NodeId neighbour = kNoNode;
    TimeUs at_us = 0;
  };
  struct Slot {
    StreamId stream = 0;
    std::uint32_t sequence = 0;
    std::uint16_t size = 0;
    bool used = false;
    TimeUs stored_at_us = 0;
    TimeUs expires_at_us = 0;
    std::array<Turn, kPacedNeighbours> turns{};
  };
  using StreamIndex = std::vector<std::uint32_t>;  // sequence % per_stream_packets_ -> slot

  // The slot holding (stream, sequence), or nullptr.
  const Slot* slotOf(StreamId stream, std::uint32_t sequence, std::uint32_t* slot_index = nullptr) const;
  // Empties slot `index`, unlinking it from its stream's index.
  void release(std::uint32_t index, TimeUs now);
  std::byte* bytesOf(std::uint32_t index) const { return storage_.get() + std::size_t{index} * wire::kMaxPacketBytes; }

  std::size_t per_stream_packets_;
  std::size_t slot_count_;
  std::unique_ptr<std::byte[]> storage_;  // slot_count_ * kMaxPacketBytes, default-initialised
  std::vector<Slot> slots_;               // grows up to slot_count_, then reused
  std::uint32_t next_slot_ = 0;           // FIFO cursor once slots_ is full
  std::unordered_map<StreamId, StreamIndex> streams_;
  std::uint64_t evictions_ = 0;
};

}  // namespace overline::relay
