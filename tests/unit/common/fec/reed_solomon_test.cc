// ReedSolomon: encode, lose blocks, decode, compare with the original data.

#include "common/fec/reed_solomon.h"

#include <algorithm>
#include <bit>
#include <catch2/catch.hpp>
#include <cstddef>
#include <random>
#include <vector>

namespace overline::fec {
namespace {

using Bytes = std::vector<std::byte>;

struct Group {
  std::vector<Bytes> blocks;  // k data blocks, then m parity blocks
};

Group encodeRandom(const ReedSolomon& codec, std::size_t length, std::mt19937& rng) {
  const std::size_t k = codec.dataBlocks();
  const std::size_t m = codec.parityBlocks();
  Group group;
  group.blocks.assign(k + m, Bytes(length));
  std::uniform_int_distribution<int> byte(0, 255);
  for (std::size_t i = 0; i < k; ++i) {
    for (auto& b : group.blocks[i]) b = static_cast<std::byte>(byte(rng));
  }
  std::vector<std::span<const std::byte>> data(group.blocks.begin(), group.blocks.begin() + static_cast<long>(k));
  std::vector<std::span<std::byte>> parity;
  for (std::size_t j = 0; j < m; ++j) parity.emplace_back(group.blocks[k + j]);
  codec.encode(data, parity);
  return group;
}

// Decodes with the blocks whose bit is set in `present_mask`; returns the
// rebuilt data blocks (present ones copied through) or the error.
Result<std::vector<Bytes>, DecodeError> decodeWith(const ReedSolomon& codec, const Group& group,
                                                   std::uint32_t present_mask) {
  const std::size_t k = codec.dataBlocks();
  const std::size_t length = group.blocks[0].size();
  std::vector<IndexedBlock> present;
  for (std::size_t i = 0; i < group.blocks.size(); ++i) {
    if (present_mask & (1u << i)) present.push_back({i, group.blocks[i]});
  }
  std::vector<Bytes> out(k);
  std::vector<std::span<std::byte>> out_spans(k);
  for (std::size_t i = 0; i < k; ++i) {
    if (!(present_mask & (1u << i))) {
      out[i].assign(length, std::byte{0xEE});
      out_spans[i] = out[i];
    }
  }
  auto result = codec.decode(present, out_spans);
  if (!result) return Err{result.error()};
  std::size_t rebuilt = 0;
  for (std::size_t i = 0; i < k; ++i) {
    if (present_mask & (1u << i)) {
      out[i] = group.blocks[i];
    } else {
      ++rebuilt;
    }
  }
  REQUIRE(*result == rebuilt);
  return out;
}

std::vector<Bytes> dataOf(const Group& group, std::size_t k) {
  return {group.blocks.begin(), group.blocks.begin() + static_cast<long>(k)};
}

int popcount(std::uint32_t v) { return std::popcount(v); }

TEST_CASE("every erasure pattern of small codes decodes iff at most m blocks are lost") {
  std::mt19937 rng(1);
  for (std::size_t k = 1; k <= 6; ++k) {
    for (std::size_t m = 0; m <= 5; ++m) {
      const ReedSolomon codec(k, m);
      const Group group = encodeRandom(codec, 37, rng);
      const std::uint32_t all = (1u << (k + m)) - 1;
      for (std::uint32_t mask = 0; mask <= all; ++mask) {
        const auto lost = static_cast<std::size_t>(static_cast<int>(k + m) - popcount(mask));
        auto decoded = decodeWith(codec, group, mask);
        const bool all_data_present = (mask & ((1u << k) - 1)) == ((1u << k) - 1);
        if (lost <= m || all_data_present) {
          INFO("k=" << k << " m=" << m << " mask=" << mask);
          REQUIRE(decoded.ok());
          REQUIRE(*decoded == dataOf(group, k));
        } else {
          INFO("k=" << k << " m=" << m << " mask=" << mask);
          REQUIRE_FALSE(decoded.ok());
          REQUIRE(decoded.error() == DecodeError::kNotEnoughBlocks);
        }
      }
    }
  }
}

TEST_CASE("the largest code recovers random m-erasure patterns of 1,200-byte blocks") {
  std::mt19937 rng(2);
  const ReedSolomon codec(kMaxDataBlocks, kMaxParityBlocks);
  for (int trial = 0; trial < 200; ++trial) {
    const Group group = encodeRandom(codec, 1200, rng);
    std::vector<std::size_t> order(kMaxDataBlocks + kMaxParityBlocks);
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::shuffle(order.begin(), order.end(), rng);
    std::uint32_t mask = 0;
    for (std::size_t i = 0; i < kMaxDataBlocks; ++i) mask |= 1u << order[i];  // exactly k survive
    auto decoded = decodeWith(codec, group, mask);
    REQUIRE(decoded.ok());
    REQUIRE(*decoded == dataOf(group, kMaxDataBlocks));
  }
}

TEST_CASE("odd block lengths, including 1 byte, round trip") {
  std::mt19937 rng(3);
  const ReedSolomon codec(8, 4);
  for (std::size_t length : {1, 2, 15, 16, 17, 31, 33, 63, 65, 1212}) {
    const Group group = encodeRandom(codec, length, rng);
    // Lose data 0, 3, 5 and 7; keep parity 0, 1, 2 and 3.
    auto decoded = decodeWith(codec, group, 0b1111'0101'0110u);
    REQUIRE(decoded.ok());
    CHECK(*decoded == dataOf(group, 8));
  }
}

TEST_CASE("k = 1 repeats the block: any single block rebuilds it") {
  std::mt19937 rng(4);
  const ReedSolomon codec(1, 3);
  const Group group = encodeRandom(codec, 100, rng);
  for (std::size_t j = 1; j <= 3; ++j) {
    auto decoded = decodeWith(codec, group, 1u << j);
    REQUIRE(decoded.ok());
    CHECK((*decoded)[0] == group.blocks[0]);
  }
}

TEST_CASE("m = 0 has no parity: nothing to encode, nothing lost is recoverable") {
  std::mt19937 rng(5);
  const ReedSolomon codec(4, 0);
  const Group group = encodeRandom(codec, 10, rng);
  CHECK(group.blocks.size() == 4);
  CHECK(decodeWith(codec, group, 0b1111).ok());
  auto decoded = decodeWith(codec, group, 0b0111);
  REQUIRE_FALSE(decoded.ok());
  CHECK(decoded.error() == DecodeError::kNotEnoughBlocks);
}

TEST_CASE("malformed decode requests are errors") {
  std::mt19937 rng(6);
  const ReedSolomon codec(2, 2);
  const Group group = encodeRandom(codec, 20, rng);
  Bytes out0(20), out1(20), short_block(19);
  const std::vector<std::span<std::byte>> outs{out0, out1};

  const std::vector<IndexedBlock> bad_index{{2, group.blocks[2]}, {4, group.blocks[3]}};
  CHECK(codec.decode(bad_index, outs).error() == DecodeError::kBadIndex);
  const std::vector<IndexedBlock> duplicate{{2, group.blocks[2]}, {2, group.blocks[2]}};
  CHECK(codec.decode(duplicate, outs).error() == DecodeError::kDuplicateIndex);
  const std::vector<IndexedBlock> mixed{{2, group.blocks[2]}, {3, short_block}};
  CHECK(codec.decode(mixed, outs).error() == DecodeError::kLengthMismatch);
  const std::vector<IndexedBlock> good{{2, group.blocks[2]}, {3, group.blocks[3]}};
  const std::vector<std::span<std::byte>> short_out{out0, short_block};
  CHECK(codec.decode(good, short_out).error() == DecodeError::kLengthMismatch);
  CHECK(codec.decode(good, outs).ok());
}

}  // namespace
}  // namespace overline::fec
