#include "common/wire/fec_payload.h"

#include <algorithm>
#include <cstring>

#include "common/check/invariant.h"
#include "common/wire/byte_order.h"

namespace overline::wire {
namespace {

constexpr std::size_t kOffDataCount = 0;
constexpr std::size_t kOffParityCount = 1;
constexpr std::size_t kOffParityIndex = 2;
constexpr std::size_t kOffReserved = 3;

constexpr std::size_t kBlockOffTimestamp = 0;
constexpr std::size_t kBlockOffFlags = 8;
constexpr std::size_t kBlockOffLatencyBudget = 9;
constexpr std::size_t kBlockOffPayloadLength = 10;
static_assert(kBlockOffPayloadLength + 2 == kFecBlockHeaderBytes);

std::uint8_t byteAt(std::span<const std::byte> in, std::size_t offset) {
  return std::to_integer<std::uint8_t>(in[offset]);
}

}  // namespace

std::string_view toString(FecPayloadError error) {
  switch (error) {
    case FecPayloadError::kTooShort: return "too_short";
    case FecPayloadError::kBadDataCount: return "bad_data_count";
    case FecPayloadError::kBadParityCount: return "bad_parity_count";
    case FecPayloadError::kBadParityIndex: return "bad_parity_index";
    case FecPayloadError::kReservedNotZero: return "reserved_not_zero";
    case FecPayloadError::kDuplicateSequence: return "duplicate_sequence";
    case FecPayloadError::kBlockTooLong: return "block_too_long";
  }
  return "unknown";
}

std::string_view toString(FecBlockError error) {
  switch (error) {
    case FecBlockError::kTooShort: return "too_short";
    case FecBlockError::kBadFlags: return "bad_flags";
    case FecBlockError::kPayloadTooLarge: return "payload_too_large";
    case FecBlockError::kBadPadding: return "bad_padding";
  }
  return "unknown";
}

Result<FecPayloadView, FecPayloadError> parseFecPayload(std::span<const std::byte> payload) {
  if (payload.size() < kFecPayloadFixedBytes) return Err{FecPayloadError::kTooShort};
  FecPayloadView view;
  view.data_count = byteAt(payload, kOffDataCount);
  view.parity_count = byteAt(payload, kOffParityCount);
  view.parity_index = byteAt(payload, kOffParityIndex);
  if (view.data_count < 1 || view.data_count > kMaxFecDataPackets) return Err{FecPayloadError::kBadDataCount};
  if (view.parity_count < 1 || view.parity_count > kMaxFecParityPackets) {
    return Err{FecPayloadError::kBadParityCount};
  }
  if (view.parity_index >= view.parity_count) return Err{FecPayloadError::kBadParityIndex};
  if (byteAt(payload, kOffReserved) != 0) return Err{FecPayloadError::kReservedNotZero};
  const std::size_t list_end = kFecPayloadFixedBytes + 4 * std::size_t{view.data_count};
  if (payload.size() < list_end + kMinFecBlockBytes) return Err{FecPayloadError::kTooShort};
  if (payload.size() - list_end > kMaxFecBlockBytes) return Err{FecPayloadError::kBlockTooLong};
  for (std::size_t i = 0; i < view.data_count; ++i) {
    const auto sequence = readBigEndian<std::uint32_t>(payload, kFecPayloadFixedBytes + 4 * i);
    if (std::find(view.sequences.begin(), view.sequences.begin() + i, sequence) != view.sequences.begin() + i) {
      return Err{FecPayloadError::kDuplicateSequence};
    }
    view.sequences[i] = sequence;
  }
  view.parity = payload.subspan(list_end);
  return view;
}

std::size_t encodeFecPayload(std::uint8_t parity_count, std::uint8_t parity_index,
                             std::span<const std::uint32_t> sequences, std::span<const std::byte> parity,
                             std::span<std::byte> out) {
  // Release: a caller bug writes nothing and returns 0.
  if (!OVERLINE_INVARIANT(!sequences.empty() && sequences.size() <= kMaxFecDataPackets) ||
      !OVERLINE_INVARIANT(parity_count >= 1 && parity_count <= kMaxFecParityPackets && parity_index < parity_count) ||
      !OVERLINE_INVARIANT(parity.size() >= kMinFecBlockBytes && parity.size() <= kMaxFecBlockBytes)) {
    return 0;
  }
  const std::size_t size = fecPayloadSize(sequences.size(), parity.size());
  if (!OVERLINE_INVARIANT(out.size() >= size)) return 0;
  out[kOffDataCount] = std::byte{static_cast<std::uint8_t>(sequences.size())};
  out[kOffParityCount] = std::byte{parity_count};
  out[kOffParityIndex] = std::byte{parity_index};
  out[kOffReserved] = std::byte{0};
  for (std::size_t i = 0; i < sequences.size(); ++i) {
    writeBigEndian<std::uint32_t>(out, kFecPayloadFixedBytes + 4 * i, sequences[i]);
  }
  std::memcpy(out.data() + kFecPayloadFixedBytes + 4 * sequences.size(), parity.data(), parity.size());
  return size;
}

void writeProtectedBlock(const PacketView& data, std::span<std::byte> out) {
  const std::size_t size = protectedBlockSize(data);
  if (!OVERLINE_INVARIANT(out.size() >= size)) return;  // release: nothing written
  writeBigEndian<std::uint64_t>(out, kBlockOffTimestamp, data.header.timestamp_us);
  out[kBlockOffFlags] = std::byte{static_cast<std::uint8_t>(data.header.flags & ~kFlagRetransmit)};
  out[kBlockOffLatencyBudget] = std::byte{data.header.latency_budget};
  writeBigEndian<std::uint16_t>(out, kBlockOffPayloadLength, static_cast<std::uint16_t>(data.payload.size()));
  if (!data.payload.empty()) {
    std::memcpy(out.data() + kFecBlockHeaderBytes, data.payload.data(), data.payload.size());
  }
  std::fill(out.begin() + static_cast<std::ptrdiff_t>(size), out.end(), std::byte{0});
}

Result<std::size_t, FecBlockError> rebuildDataPacket(std::span<const std::byte> block, const Header& fec_header,
                                                     std::uint32_t sequence, std::span<std::byte> out) {
  // Release: refused as if the block were too large for `out`.
  if (!OVERLINE_INVARIANT(out.size() >= kHeaderBytes + kMaxPayloadBytes)) return Err{FecBlockError::kPayloadTooLarge};
  if (block.size() < kFecBlockHeaderBytes) return Err{FecBlockError::kTooShort};
  const std::uint8_t flags = byteAt(block, kBlockOffFlags);
  if ((flags & ~kKnownFlags) != 0 || (flags & kFlagRetransmit) != 0) return Err{FecBlockError::kBadFlags};
  const std::size_t payload_length = readBigEndian<std::uint16_t>(block, kBlockOffPayloadLength);
  if (payload_length > kMaxPayloadBytes || kFecBlockHeaderBytes + payload_length > block.size()) {
    return Err{FecBlockError::kPayloadTooLarge};
  }
  const auto padding = block.subspan(kFecBlockHeaderBytes + payload_length);
  if (std::any_of(padding.begin(), padding.end(), [](std::byte b) { return b != std::byte{0}; })) {
    return Err{FecBlockError::kBadPadding};
  }
  Header header;
  header.type = PacketType::kData;
  header.flags = flags;
  header.hop_limit = fec_header.hop_limit;
  header.latency_budget = byteAt(block, kBlockOffLatencyBudget);
  header.sender_node_id = fec_header.sender_node_id;
  header.stream_id = fec_header.stream_id;
  header.sequence = sequence;
  header.timestamp_us = readBigEndian<std::uint64_t>(block, kBlockOffTimestamp);
  return encodePacket(header, block.subspan(kFecBlockHeaderBytes, payload_length), out);
}

}  // namespace overline::wire
