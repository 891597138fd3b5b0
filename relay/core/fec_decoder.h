#pragma once
// FecDecoder: rebuilds lost DATA packets of ONE hop, i.e. one (stream,
// upstream neighbour) pair, from the FEC groups the upstream's FecEncoder
// sends (wire layout in common/wire/fec_payload.h).
//
// RelayCore calls onData() with every DATA packet of the stream accepted
// from that upstream (retransmissions too: they can complete a group),
// onFec() with every FEC packet from it, and onTick() from its timer.
// Recovered packets come back as full DATA wire packets carrying the FEC
// packet's sender and hop_limit, to be handled exactly like a DATA packet
// received from that upstream (dedup, forwarding, NACK bookkeeping).
//
// How it works:
//  * Parity arrives after the data it protects, so the decoder keeps the
//    protected blocks of the last data_window DATA packets (a ring indexed
//    by sequence). It does so only while FEC is active on the hop - an FEC
//    packet seen within idle_after_us - so a hop without FEC costs no copy
//    and no memory; data that arrived before the first FEC packet cannot be
//    used.
//  * A group (named by the FEC header's sequence) is pending from its first
//    parity packet on. Whenever it holds >= k of its k + m blocks with data
//    missing, the missing data are decoded, emitted and stored like received
//    data, and the group is done. A group with every data packet present is
//    done too, without output.
//  * Bounded memory: at most max_groups groups (a new group evicts a done
//    one, else the oldest pending one, counted), the data ring, and one
//    scratch area; all allocated when FEC turns active, freed when it goes
//    idle. A group or stored block older than max_age_us (the stream's
//    latency budget: a repair after that is useless) is dropped.
//  * Counted, never fatal: malformed FEC payloads, parity that contradicts
//    the group's first parity packet (k, m, sequence list, L or hop
//    fields), a duplicate parity index, parity for a group already done,
//    stored data longer than the group's L, and decoded blocks that are not
//    a valid DATA block. A restarted upstream reuses group numbers; its
//    groups count as inconsistent until the old ones age out.
//
// Pure: time comes in as `now` (monotonic, non-decreasing), no I/O.

#include <array>
#include <bitset>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "common/types.h"
#include "common/wire/fec_payload.h"
#include "common/wire/packet.h"
#include "relay/core/fec_types.h"

namespace overline::relay {

struct FecDecoderConfig {
  std::size_t max_groups = 32;
  std::size_t data_window = 128;  // DATA blocks kept; a power of two
  DurationUs max_age_us = 400 * kMillisecond;
  DurationUs idle_after_us = 2 * kSecond;
};

struct FecDecoderCounters {
  std::uint64_t fec_packets = 0;         // FEC packets handed to onFec()
  std::uint64_t bad_payload = 0;         // FEC payload failed parseFecPayload
  std::uint64_t inconsistent = 0;        // parity or data contradicting its group
  std::uint64_t duplicate_parity = 0;    // parity index already held
  std::uint64_t late_parity = 0;         // parity for a group already done
  std::uint64_t recovered = 0;           // DATA packets rebuilt and emitted
  std::uint64_t bad_recovered_block = 0; // decoded block not a valid DATA block
  std::uint64_t groups_recovered = 0;    // groups that needed and got a decode
  std::uint64_t groups_unrecovered = 0;  // groups dropped (aged out or evicted) with data still missing
  std::uint64_t groups_evicted = 0;      // pending groups pushed out by max_groups
};

class FecDecoder {
 public:
  // config.data_window must be a power of two and max_groups >= 1 (asserted).
  explicit FecDecoder(FecDecoderConfig config = {});

  // The stream's latency budget (from its DATA headers) as the age limit.
  void setMaxAge(DurationUs max_age_us) { config_.max_age_us = max_age_us; }

  // A DATA packet of the stream from the upstream (view of a valid DATA
  // packet). Appends the packets this lets the decoder recover to `recovered`.
  void onData(const wire::PacketView& data, TimeUs now, std::vector<FecPacket>& recovered);
  // An FEC packet of the stream from the upstream (view of a valid packet
  // of type kFec). Appends recovered DATA packets to `recovered`.
  void onFec(const wire::PacketView& fec, TimeUs now, std::vector<FecPacket>& recovered);
  // Ages out groups and data; frees everything once FEC has been idle.
  void onTick(TimeUs now);

  // True when `sequence` is missing from a pending group that may still
  // repair it: the group's missing data do not exceed the parity it holds
  // plus the parity that can still arrive (the encoder sends parity in
  // index order, so indices below the highest one held that have not
  // arrived are taken as lost). A NACK tracker can hold its request while
  // this is true. Before a group's first parity packet arrives this is
  // false; active() then tells whether parity is to be expected at all.
  bool mayStillRepair(std::uint32_t sequence, TimeUs now) const;
  // Whether FEC is active on this hop (parity seen within idle_after_us).
  bool active() const { return !slots_.empty(); }

  const FecDecoderCounters& counters() const { return counters_; }

 private:
  struct DataSlot {
    bool used = false;
    std::uint32_t sequence = 0;
    TimeUs received_at = 0;
    std::size_t block_size = 0;
  };
  struct Group {
    bool used = false;
    bool done = false;
    std::uint32_t id = 0;
    TimeUs first_seen = 0;
    wire::Header header;  // of the first parity packet
    std::uint8_t k = 0;
    std::uint8_t m = 0;
    std::array<std::uint32_t, wire::kMaxFecDataPackets> sequences{};
    std::size_t block_length = 0;
    std::bitset<wire::kMaxFecParityPackets> have_parity;
    std::vector<std::byte> parity;  // m blocks of block_length; capacity reused
  };

  void activate();
  void deactivate();
  bool expired(TimeUs since, TimeUs now) const { return now - since > config_.max_age_us; }
  // The stored block of `sequence` if held and fresh, else nullopt.
  std::optional<std::span<const std::byte>> storedBlock(std::uint32_t sequence, TimeUs now) const;
  std::span<std::byte> slotBytes(std::uint32_t sequence);
  void store(const wire::PacketView& data, TimeUs now);
  Group& allocateGroup(TimeUs now);
  void release(Group& group);
  bool consistent(const Group& group, const wire::PacketView& fec, const wire::FecPayloadView& payload) const;
  void tryRecover(Group& group, TimeUs now, std::vector<FecPacket>& recovered);

  FecDecoderConfig config_;
  std::optional<TimeUs> last_fec_at_;
  // Allocated while active; empty otherwise.
  std::vector<DataSlot> slots_;
  std::vector<std::byte> data_bytes_;  // data_window x kMaxFecBlockBytes
  std::vector<Group> groups_;
  std::vector<std::byte> scratch_;  // kMaxFecDataPackets x kMaxFecBlockBytes: decode output
  FecDecoderCounters counters_;
};

}  // namespace overline::relay
