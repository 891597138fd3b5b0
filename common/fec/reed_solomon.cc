#include "common/fec/reed_solomon.h"

#include <isa-l/erasure_code.h>

#include <bitset>
#include <cstdlib>

#include "common/check/invariant.h"

namespace overline::fec {
namespace {

constexpr std::size_t kMaxBlocks = kMaxDataBlocks + kMaxParityBlocks;

unsigned char* mutableBytes(std::span<const std::byte> block) {
  // ISA-L takes source pointers as non-const but only reads them.
  return reinterpret_cast<unsigned char*>(const_cast<std::byte*>(block.data()));
}

}  // namespace

std::string_view toString(DecodeError error) {
  switch (error) {
    case DecodeError::kNotEnoughBlocks: return "not_enough_blocks";
    case DecodeError::kBadIndex: return "bad_index";
    case DecodeError::kDuplicateIndex: return "duplicate_index";
    case DecodeError::kLengthMismatch: return "length_mismatch";
  }
  return "unknown";
}

ReedSolomon::ReedSolomon(std::size_t k, std::size_t m)
    : k_(k), m_(m), matrix_((k + m) * k), encode_tables_(32 * k * m) {
  if (k < 1 || k > kMaxDataBlocks || m > kMaxParityBlocks) std::abort();
  gf_gen_cauchy1_matrix(matrix_.data(), static_cast<int>(k + m), static_cast<int>(k));
  if (m > 0) {
    ec_init_tables(static_cast<int>(k), static_cast<int>(m), matrix_.data() + k * k,
                   encode_tables_.data());
  }
}

void ReedSolomon::encode(std::span<const std::span<const std::byte>> data,
                         std::span<const std::span<std::byte>> parity) const {
  // Release: a caller bug leaves the parity blocks as they are.
  if (!OVERLINE_INVARIANT(data.size() == k_ && parity.size() == m_)) return;
  if (m_ == 0) return;
  const std::size_t length = data[0].size();
  if (!OVERLINE_INVARIANT(length >= 1)) return;
  std::array<unsigned char*, kMaxDataBlocks> sources{};
  for (std::size_t i = 0; i < k_; ++i) {
    if (!OVERLINE_INVARIANT(data[i].size() == length)) return;
    sources[i] = mutableBytes(data[i]);
  }
  std::array<unsigned char*, kMaxParityBlocks> outputs{};
  for (std::size_t j = 0; j < m_; ++j) {
    if (!OVERLINE_INVARIANT(parity[j].size() == length)) return;
    outputs[j] = reinterpret_cast<unsigned char*>(parity[j].data());
  }
  ec_encode_data(static_cast<int>(length), static_cast<int>(k_), static_cast<int>(m_),
                 const_cast<unsigned char*>(encode_tables_.data()), sources.data(), outputs.data());
}

Result<std::size_t, DecodeError> ReedSolomon::decode(
    std::span<const IndexedBlock> present, std::span<const std::span<std::byte>> data_out) const {
  if (!OVERLINE_INVARIANT(data_out.size() == k_)) return Err{DecodeError::kLengthMismatch};
  std::bitset<kMaxBlocks> seen;
  std::size_t length = 0;
  for (const IndexedBlock& block : present) {
    if (block.index >= k_ + m_) return Err{DecodeError::kBadIndex};
    if (seen.test(block.index)) return Err{DecodeError::kDuplicateIndex};
    seen.set(block.index);
    if (length == 0) length = block.bytes.size();
    if (block.bytes.size() != length || length == 0) return Err{DecodeError::kLengthMismatch};
  }
  std::array<std::size_t, kMaxDataBlocks> missing{};
  std::size_t missing_count = 0;
  for (std::size_t i = 0; i < k_; ++i) {
    if (!seen.test(i)) missing[missing_count++] = i;
  }
  if (missing_count == 0) return std::size_t{0};
  if (present.size() < k_) return Err{DecodeError::kNotEnoughBlocks};
  for (std::size_t e = 0; e < missing_count; ++e) {
    if (data_out[missing[e]].size() != length) return Err{DecodeError::kLengthMismatch};
  }

  // The generator rows of the first k present blocks form an invertible
  // k x k matrix B (Cauchy); B^-1 times those blocks gives the data. Only
  // the rows of B^-1 for the missing data blocks are needed.
  std::array<unsigned char, kMaxDataBlocks * kMaxDataBlocks> chosen_rows{};
  std::array<unsigned char, kMaxDataBlocks * kMaxDataBlocks> inverse{};
  std::array<unsigned char*, kMaxDataBlocks> sources{};
  for (std::size_t r = 0; r < k_; ++r) {
    const std::size_t index = present[r].index;
    for (std::size_t c = 0; c < k_; ++c) chosen_rows[r * k_ + c] = matrix_[index * k_ + c];
    sources[r] = mutableBytes(present[r].bytes);
  }
  // A singular submatrix would mean the Cauchy property is broken: a bug,
  // not bad input.
  if (gf_invert_matrix(chosen_rows.data(), inverse.data(), static_cast<int>(k_)) != 0) std::abort();

  std::array<unsigned char, kMaxDataBlocks * kMaxDataBlocks> decode_rows{};
  std::array<unsigned char*, kMaxDataBlocks> outputs{};
  for (std::size_t e = 0; e < missing_count; ++e) {
    for (std::size_t c = 0; c < k_; ++c) decode_rows[e * k_ + c] = inverse[missing[e] * k_ + c];
    outputs[e] = reinterpret_cast<unsigned char*>(data_out[missing[e]].data());
  }
  std::array<unsigned char, 32 * kMaxDataBlocks * kMaxDataBlocks> tables;
  ec_init_tables(static_cast<int>(k_), static_cast<int>(missing_count), decode_rows.data(), tables.data());
  ec_encode_data(static_cast<int>(length), static_cast<int>(k_), static_cast<int>(missing_count),
                 tables.data(), sources.data(), outputs.data());
  return missing_count;
}

}  // namespace overline::fec
