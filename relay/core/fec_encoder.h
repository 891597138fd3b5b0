#pragma once
// FecEncoder: builds FEC groups for ONE hop, i.e. one (stream, downstream
// neighbour) pair, and produces their parity packets (wire layout in
// common/wire/fec_payload.h).
//
// RelayCore calls onDataSent() with every DATA packet exactly as it went out
// to that neighbour (hop fields already rewritten) - once per packet, not
// once per link in redundant mode - and onTick() from its timer. The
// returned FEC packets go to the same neighbour, on whichever link RelayCore
// chooses; they need no further rewriting.
//
// Groups:
//  * A group closes when it holds k packets (k of the protection in force
//    when it opened), or, at onTick(), when its first packet is
//    max_group_delay_us old, so a slow stream is still protected within a
//    bounded delay. A partial group of k' < k packets gets
//    m' = ceil(m x k' / k) parity packets: the same overhead ratio.
//  * A packet whose stream, sender or hop_limit differs from the open
//    group's (a route change) closes the open group first: a group has one
//    header, which recovered packets inherit.
//  * Ignored (counted): retransmissions (kFlagRetransmit; they repair a
//    loss the group already accounts for), a sequence already in the open
//    group, and anything that is not a valid DATA packet.
//  * Each group is named by the FEC header's sequence, a counter per
//    encoder starting at 0.
//
// setProtection() applies from the next group. m = 0 turns FEC off: the
// open group is discarded without parity and all buffers are freed, so an
// unprotected hop costs neither bytes on the wire nor memory beyond this
// object.
//
// Pure: no clock, no I/O. Memory while on: 16 blocks of 1,212 bytes plus m
// parity blocks, allocated when FEC turns on and reused.

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "common/types.h"
#include "common/wire/fec_payload.h"
#include "relay/core/fec_types.h"

namespace overline::fec {
class ReedSolomon;
}

namespace overline::relay {

struct FecEncoderCounters {
  std::uint64_t groups = 0;          // groups closed with parity sent
  std::uint64_t partial_groups = 0;  // of those, closed by the timer or a route change before k packets
  std::uint64_t data_packets = 0;    // DATA packets added to groups
  std::uint64_t fec_packets = 0;     // parity packets produced
  std::uint64_t fec_bytes = 0;       // their wire bytes (header included)
  std::uint64_t ignored_retransmits = 0;
  std::uint64_t ignored_duplicates = 0;
  std::uint64_t ignored_not_data = 0;
};

class FecEncoder {
 public:
  explicit FecEncoder(DurationUs max_group_delay_us);
  ~FecEncoder();
  FecEncoder(FecEncoder&&) noexcept;
  FecEncoder& operator=(FecEncoder&&) noexcept;

  // `protection.k` in 1..16 and `protection.m` in 0..16 (m = 0: off;
  // values beyond are clamped). Applies from the next group.
  void setProtection(FecProtection protection);
  FecProtection protection() const { return protection_; }

  // A DATA packet as sent to the neighbour at `now`. Appends the parity
  // packets of any group this closes to `out`.
  void onDataSent(std::span<const std::byte> data_packet, TimeUs now, std::vector<FecPacket>& out);
  // The same for a packet the caller has parsed (or built) already: `data`
  // must describe the packet exactly as it went out.
  void onDataSent(const wire::PacketView& data, TimeUs now, std::vector<FecPacket>& out);
  // Closes the open group if it has waited max_group_delay_us; appends its
  // parity packets to `out`.
  void onTick(TimeUs now, std::vector<FecPacket>& out);
  // When onTick() will next close a group; nullopt while no group is open.
  std::optional<TimeUs> flushDueAt() const;

  const FecEncoderCounters& counters() const { return counters_; }

 private:
  struct OpenGroup {
    FecProtection protection;  // k: target size of this group
    wire::Header header;       // the FEC packets' header
    TimeUs opened_at = 0;
    std::size_t count = 0;
    std::size_t block_length = 0;  // L: max protected block size so far
    std::array<std::uint32_t, wire::kMaxFecDataPackets> sequences{};
  };
  // Buffers allocated while FEC is on.
  struct State {
    // Protected blocks, one per kMaxFecBlockBytes stride, zero beyond each
    // block, so any prefix of L bytes is the zero-padded block.
    std::vector<std::byte> blocks;
    std::vector<std::byte> parity;  // m blocks of L bytes
    std::optional<OpenGroup> group;
    std::unique_ptr<fec::ReedSolomon> codec;  // for the last (k', m') used
  };

  void closeGroup(std::vector<FecPacket>& out);
  const fec::ReedSolomon& codecFor(std::size_t k, std::size_t m);

  DurationUs max_group_delay_us_;
  FecProtection protection_;
  std::unique_ptr<State> state_;  // null while FEC is off
  std::uint32_t next_group_sequence_ = 0;
  FecEncoderCounters counters_;
};

}  // namespace overline::relay
