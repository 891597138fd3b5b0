#include "common/wire/nack_payload.h"

#include "common/check/invariant.h"
#include "common/wire/byte_order.h"

namespace overline::wire {

std::string_view toString(NackError error) {
  switch (error) {
    case NackError::kEmpty: return "empty";
    case NackError::kNotMultipleOf4: return "not_multiple_of_4";
    case NackError::kTooMany: return "too_many";
  }
  return "unknown";
}

Result<NackList, NackError> parseNackPayload(std::span<const std::byte> payload) {
  if (payload.empty()) return Err{NackError::kEmpty};
  if (payload.size() % kNackSequenceBytes != 0) return Err{NackError::kNotMultipleOf4};
  if (payload.size() > kMaxNackPayloadBytes) return Err{NackError::kTooMany};
  NackList list;
  list.count = payload.size() / kNackSequenceBytes;
  for (std::size_t i = 0; i < list.count; ++i) {
    list.sequences[i] = readBigEndian<std::uint32_t>(payload, i * kNackSequenceBytes);
  }
  return list;
}

std::size_t encodeNackPayload(std::span<const std::uint32_t> sequences, std::span<std::byte> out) {
  // Release: a caller bug writes nothing and returns 0.
  if (!OVERLINE_INVARIANT(!sequences.empty() && sequences.size() <= kMaxNackSequences) ||
      !OVERLINE_INVARIANT(out.size() >= sequences.size() * kNackSequenceBytes)) {
    return 0;
  }
  for (std::size_t i = 0; i < sequences.size(); ++i) {
    writeBigEndian<std::uint32_t>(out, i * kNackSequenceBytes, sequences[i]);
  }
  return sequences.size() * kNackSequenceBytes;
}

}  // namespace overline::wire
