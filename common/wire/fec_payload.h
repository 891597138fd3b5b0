#pragma once
// Payload of an FEC (PacketType::kFec) packet, and the "protected block" a
// DATA packet contributes to an FEC group. Pure, bounds-checked byte code:
// the erasure arithmetic itself lives in common/fec.
//
// An FEC group is up to 16 DATA packets of one stream sent on one hop; the
// sender adds 1..16 parity packets computed over their protected blocks, so
// the receiving relay can rebuild any lost DATA of the group from any k of
// the group's k + m packets.
//
// FEC payload (all integers big-endian):
//
//   offset   size   field
//   0        1      k             data packets in the group, 1..16
//   1        1      m             parity packets of the group, 1..16
//   2        1      parity_index  which parity this is, 0..m-1
//   3        1      reserved      must be 0
//   4        4 x k  sequences     the DATA sequence numbers of the group in
//                                 group order (need not be consecutive; no
//                                 repeats): data block i is sequences[i]
//   4 + 4k   L      parity        parity block parity_index; L is the
//                                 group's block length, 12..1212
//
// Protected block of one DATA packet (block length L, the same for the
// whole group = max over the group of 12 + payload_length):
//
//   0        8      timestamp_us    as in the DATA header
//   8        1      flags           as sent, with kFlagRetransmit cleared
//   9        1      latency_budget  as in the DATA header
//   10       2      payload_length
//   12       n      payload bytes
//   12 + n   ...    zeros up to L
//
// The FEC packet's own header: type FEC, stream_id of the group,
// sender_node_id = the sending relay, hop_limit = the hop_limit the
// protected DATA went out with, sequence = a group counter per (stream,
// downstream neighbour) that names the group on that hop, timestamp_us 0,
// flags 0, byte 5 (latency budget) 0. All m parity packets of a group carry
// the same header and the same k, m and sequence list.
//
// A DATA packet recovered from a block is rebuilt as a full wire packet:
// type DATA, sender_node_id and hop_limit of the FEC packet, its stream_id,
// the sequence from the list, and timestamp, flags, latency budget and
// payload from the block. The largest FEC payload is 4 + 64 + 1212 = 1280
// bytes <= kMaxFecPayloadBytes, so every group fits.

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "common/result.h"
#include "common/wire/packet.h"

namespace overline::wire {

constexpr std::size_t kMaxFecDataPackets = 16;    // k
constexpr std::size_t kMaxFecParityPackets = 16;  // m
constexpr std::size_t kFecBlockHeaderBytes = 12;
constexpr std::size_t kMinFecBlockBytes = kFecBlockHeaderBytes;
constexpr std::size_t kMaxFecBlockBytes = kFecBlockHeaderBytes + kMaxPayloadBytes;
constexpr std::size_t kFecPayloadFixedBytes = 4;
static_assert(kFecPayloadFixedBytes + 4 * kMaxFecDataPackets + kMaxFecBlockBytes <= kMaxFecPayloadBytes);

enum class FecPayloadError : std::uint8_t {
  kTooShort,           // shorter than the fixed part, the sequence list or a minimal block
  kBadDataCount,       // k outside 1..16
  kBadParityCount,     // m outside 1..16
  kBadParityIndex,     // parity_index >= m
  kReservedNotZero,    // byte 3 set
  kDuplicateSequence,  // a sequence twice in the list
  kBlockTooLong,       // L > kMaxFecBlockBytes
};
std::string_view toString(FecPayloadError error);

struct FecPayloadView {
  std::uint8_t data_count = 0;    // k
  std::uint8_t parity_count = 0;  // m
  std::uint8_t parity_index = 0;
  std::array<std::uint32_t, kMaxFecDataPackets> sequences{};  // the first data_count are valid
  std::span<const std::byte> parity;                          // points into the parsed payload

  std::span<const std::uint32_t> sequenceList() const { return {sequences.data(), data_count}; }
};

// Validates an FEC packet's payload (PacketView::payload) and returns a view.
Result<FecPayloadView, FecPayloadError> parseFecPayload(std::span<const std::byte> payload);

// Bytes of the payload for a group of `data_count` packets and block length
// `block_length`.
constexpr std::size_t fecPayloadSize(std::size_t data_count, std::size_t block_length) {
  return kFecPayloadFixedBytes + 4 * data_count + block_length;
}

// Writes an FEC payload into `out` and returns its size. Preconditions
// (asserted, a caller bug otherwise): 1..16 sequences, 1 <= parity_count <=
// 16, parity_index < parity_count, parity of 12..1212 bytes, out large
// enough.
std::size_t encodeFecPayload(std::uint8_t parity_count, std::uint8_t parity_index,
                             std::span<const std::uint32_t> sequences, std::span<const std::byte> parity,
                             std::span<std::byte> out);

// The protected block length of a DATA packet: 12 + payload_length.
constexpr std::size_t protectedBlockSize(const PacketView& data) {
  return kFecBlockHeaderBytes + data.payload.size();
}

// Writes the protected block of a (valid) DATA packet into `out`, the whole
// group block of L bytes: the block, then zeros up to out.size().
// Precondition (asserted): out.size() >= protectedBlockSize(data).
void writeProtectedBlock(const PacketView& data, std::span<std::byte> out);

enum class FecBlockError : std::uint8_t {
  kTooShort,         // fewer than 12 bytes
  kBadFlags,         // an unknown flag, or kFlagRetransmit
  kPayloadTooLarge,  // payload_length > kMaxPayloadBytes or beyond the block
  kBadPadding,       // a non-zero byte after the payload
};
std::string_view toString(FecBlockError error);

// Rebuilds the full DATA packet that the recovered `block` stands for, with
// header fields from `fec_header` and `sequence` (see above), into `out`
// (at least kHeaderBytes + kMaxPayloadBytes bytes, asserted). Returns the
// packet's size. A block that decodes to nonsense (the parity did not match
// the data it was combined with) is an error, never a packet.
Result<std::size_t, FecBlockError> rebuildDataPacket(std::span<const std::byte> block, const Header& fec_header,
                                                     std::uint32_t sequence, std::span<std::byte> out);

}  // namespace overline::wire
