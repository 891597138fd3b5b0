#pragma once
// ReedSolomon: a systematic erasure code over GF(2^8) on equal-length byte
// blocks. k data blocks give m parity blocks; any k of the k + m blocks give
// back every data block. Block i < k is data block i unchanged (systematic);
// block k + j is parity j.
//
// The generator is ISA-L's Cauchy matrix (identity on top, 1 / (i ^ j)
// below), so every k x k submatrix is invertible: decoding never depends on
// which blocks were lost, only on how many. The arithmetic is ISA-L's
// (ec_encode_data picks the SIMD kernel of the running CPU).
//
// Immutable after construction and thread-safe to share; encode() and
// decode() allocate nothing except decode()'s per-call tables on the stack.

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace overline::fec {

constexpr std::size_t kMaxDataBlocks = 16;
constexpr std::size_t kMaxParityBlocks = 16;

// One received block: its index in 0..k+m-1 (data < k, parity >= k) and its
// bytes, of the group's block length.
struct IndexedBlock {
  std::size_t index = 0;
  std::span<const std::byte> bytes;
};

enum class DecodeError : std::uint8_t {
  kNotEnoughBlocks,   // fewer than k distinct blocks: more than m erasures
  kBadIndex,          // a block index >= k + m
  kDuplicateIndex,    // the same index twice
  kLengthMismatch,    // blocks (or outputs) of different lengths
};
std::string_view toString(DecodeError error);

class ReedSolomon {
 public:
  // 1 <= k <= kMaxDataBlocks, 0 <= m <= kMaxParityBlocks; anything else is a
  // caller bug and aborts.
  ReedSolomon(std::size_t k, std::size_t m);

  std::size_t dataBlocks() const { return k_; }
  std::size_t parityBlocks() const { return m_; }

  // Computes the m parity blocks of `data`. Preconditions (asserted): k data
  // spans and m parity spans, all of one length L >= 1. With m = 0 this does
  // nothing.
  void encode(std::span<const std::span<const std::byte>> data,
              std::span<const std::span<std::byte>> parity) const;

  // Rebuilds the data blocks missing from `present` into `data_out`, which
  // holds k spans: entry i is written iff data block i is not in `present`,
  // and must then be L bytes long (entries of present blocks are not
  // touched and may be empty). Blocks beyond the first k distinct ones are
  // not needed and ignored. Returns how many data blocks were rebuilt (0
  // when every data block was present).
  Result<std::size_t, DecodeError> decode(std::span<const IndexedBlock> present,
                                          std::span<const std::span<std::byte>> data_out) const;

 private:
  std::size_t k_;
  std::size_t m_;
  // (k + m) x k generator, row-major: identity, then the Cauchy rows.
  std::vector<unsigned char> matrix_;
  // ec_init_tables() output for the m parity rows: 32 * k * m bytes.
  std::vector<unsigned char> encode_tables_;
};

}  // namespace overline::fec
