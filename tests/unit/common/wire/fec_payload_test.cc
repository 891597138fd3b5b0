// Byte-level tests of the FEC payload and the protected block: the expected
// arrays are written by hand from the layout in common/wire/fec_payload.h.

#include "common/wire/fec_payload.h"

#include <catch2/catch.hpp>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <vector>

#include "tests/unit/common/wire/hand_written_bytes.h"

namespace overline::wire {
namespace {

using testing::Bytes;
using testing::bytes;

Bytes concat(Bytes head, const Bytes& tail) {
  head.insert(head.end(), tail.begin(), tail.end());
  return head;
}

// k = 2, m = 3, parity 1; sequences 0x01020304 and 0x0A0B0C0D; a 13-byte block.
const Bytes kPayload = concat(bytes({0x02, 0x03, 0x01, 0x00,  //
                                     0x01, 0x02, 0x03, 0x04,  //
                                     0x0A, 0x0B, 0x0C, 0x0D}),
                              Bytes(13, std::byte{0x5A}));

TEST_CASE("an FEC payload parses into k, m, index, sequences and parity") {
  auto view = parseFecPayload(kPayload);
  REQUIRE(view.ok());
  CHECK(view->data_count == 2);
  CHECK(view->parity_count == 3);
  CHECK(view->parity_index == 1);
  CHECK(std::vector<std::uint32_t>(view->sequenceList().begin(), view->sequenceList().end()) ==
        std::vector<std::uint32_t>{0x01020304, 0x0A0B0C0D});
  CHECK(view->parity.size() == 13);
  CHECK(view->parity.data() == kPayload.data() + 12);
}

TEST_CASE("encodeFecPayload writes the documented bytes") {
  const std::vector<std::uint32_t> sequences{0x01020304, 0x0A0B0C0D};
  const Bytes parity(13, std::byte{0x5A});
  Bytes out(fecPayloadSize(2, 13));
  CHECK(encodeFecPayload(3, 1, sequences, parity, out) == 25);
  CHECK(out == kPayload);
}

TEST_CASE("the largest group fits an FEC packet") {
  std::vector<std::uint32_t> sequences(kMaxFecDataPackets);
  for (std::size_t i = 0; i < sequences.size(); ++i) sequences[i] = static_cast<std::uint32_t>(i * 7);
  const Bytes parity(kMaxFecBlockBytes, std::byte{1});
  Bytes out(kMaxFecPayloadBytes);
  const std::size_t size = encodeFecPayload(16, 15, sequences, parity, out);
  CHECK(size == 1280);
  auto view = parseFecPayload(std::span<const std::byte>(out).first(size));
  REQUIRE(view.ok());
  CHECK(view->data_count == 16);
  CHECK(view->sequences[15] == 105);
}

TEST_CASE("malformed FEC payloads are errors, never a view") {
  auto error = [](Bytes payload) {
    auto view = parseFecPayload(payload);
    REQUIRE_FALSE(view.ok());
    return view.error();
  };
  CHECK(error({}) == FecPayloadError::kTooShort);
  CHECK(error(bytes({0x01, 0x01, 0x00})) == FecPayloadError::kTooShort);
  auto with = [](std::size_t offset, int value) {
    Bytes p = kPayload;
    p[offset] = static_cast<std::byte>(value);
    return p;
  };
  CHECK(error(with(0, 0)) == FecPayloadError::kBadDataCount);
  CHECK(error(with(0, 17)) == FecPayloadError::kBadDataCount);
  CHECK(error(with(1, 0)) == FecPayloadError::kBadParityCount);
  CHECK(error(with(1, 17)) == FecPayloadError::kBadParityCount);
  CHECK(error(with(2, 3)) == FecPayloadError::kBadParityIndex);
  CHECK(error(with(3, 1)) == FecPayloadError::kReservedNotZero);
  // Second sequence equal to the first.
  Bytes duplicate = kPayload;
  std::copy(duplicate.begin() + 4, duplicate.begin() + 8, duplicate.begin() + 8);
  CHECK(error(duplicate) == FecPayloadError::kDuplicateSequence);
  // Block shorter than a block header (11 bytes), or the sequence list cut.
  CHECK(error(Bytes(kPayload.begin(), kPayload.end() - 2)) == FecPayloadError::kTooShort);
  CHECK(error(Bytes(kPayload.begin(), kPayload.begin() + 10)) == FecPayloadError::kTooShort);
  // k = 16 claimed with only two sequences' worth of bytes.
  CHECK(error(with(0, 16)) == FecPayloadError::kTooShort);
  // A block longer than 12 + 1200 bytes.
  Bytes too_long = concat(bytes({0x01, 0x01, 0x00, 0x00, 0, 0, 0, 1}), Bytes(kMaxFecBlockBytes + 1));
  CHECK(error(too_long) == FecPayloadError::kBlockTooLong);
  CHECK(parseFecPayload(std::span<const std::byte>(too_long).first(too_long.size() - 1)).ok());
}

TEST_CASE("every truncation of a valid payload is an error, never a crash") {
  for (std::size_t size = 0; size < 4 + 8 + 12; ++size) {
    CHECK_FALSE(parseFecPayload(std::span<const std::byte>(kPayload).first(size)).ok());
  }
}

// DATA flags redundant|retransmit, hop 9, budget 40 (400 ms), payload AA BB CC,
// sender 0x01020304, stream 0x1112131415161718, sequence 7, timestamp 0x3132333435363738.
PacketView dataView(const Bytes& payload, Header& header) {
  header.type = PacketType::kData;
  header.flags = kFlagRedundant | kFlagRetransmit;
  header.hop_limit = 9;
  header.latency_budget = 40;
  header.sender_node_id = 0x01020304;
  header.stream_id = 0x1112131415161718;
  header.sequence = 7;
  header.timestamp_us = 0x3132333435363738;
  header.payload_length = static_cast<std::uint16_t>(payload.size());
  PacketView view;
  view.header = header;
  view.payload = payload;
  return view;
}

TEST_CASE("a protected block is timestamp, flags without retransmit, budget, length, payload, zeros") {
  const Bytes payload = bytes({0xAA, 0xBB, 0xCC});
  Header header;
  const PacketView data = dataView(payload, header);
  CHECK(protectedBlockSize(data) == 15);
  Bytes block(18, std::byte{0x77});
  writeProtectedBlock(data, block);
  CHECK(block == bytes({0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38,  // timestamp_us
                        0x01, 0x28, 0x00, 0x03,                          // flags budget length
                        0xAA, 0xBB, 0xCC, 0x00, 0x00, 0x00}));
}

TEST_CASE("a block rebuilds the DATA packet with the FEC packet's hop fields") {
  const Bytes payload = bytes({0xAA, 0xBB, 0xCC});
  Header header;
  const PacketView data = dataView(payload, header);
  Bytes block(20);
  writeProtectedBlock(data, block);

  Header fec;
  fec.type = PacketType::kFec;
  fec.hop_limit = 5;
  fec.sender_node_id = 0x0000AB00;
  fec.stream_id = 0x1112131415161718;
  fec.sequence = 99;  // group counter, not the DATA sequence
  PacketBuffer out;
  auto size = rebuildDataPacket(block, fec, 0x21222324, out);
  REQUIRE(size.ok());
  CHECK(Bytes(out.begin(), out.begin() + static_cast<long>(*size)) ==
        bytes({0x4F, 0x02, 0x01, 0x01, 0x05, 0x28, 0x00, 0x03,  // DATA, redundant, hop 5, budget 40
               0x00, 0x00, 0xAB, 0x00,                          // sender from the FEC packet
               0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18,  //
               0x21, 0x22, 0x23, 0x24,                          // sequence from the list
               0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38,  //
               0x00, 0x00, 0x00, 0x00,                          // age: the receiving hop adds its own
               0x00, 0x00, 0x00, 0x00,                          // key epoch 0: untagged until sent
               0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // packet number
               0xAA, 0xBB, 0xCC}));
  auto parsed = parsePacket(std::span<const std::byte>(out).first(*size));
  REQUIRE(parsed.ok());
  CHECK(parsed->header.flags == kFlagRedundant);
}

TEST_CASE("a block that decoded to nonsense is an error, never a packet") {
  const Bytes payload = bytes({0xAA, 0xBB, 0xCC});
  Header header;
  const PacketView data = dataView(payload, header);
  Bytes block(20);
  writeProtectedBlock(data, block);
  Header fec;
  PacketBuffer out;
  auto error = [&](const Bytes& b) {
    auto size = rebuildDataPacket(b, fec, 1, out);
    REQUIRE_FALSE(size.ok());
    return size.error();
  };
  CHECK(error(Bytes(block.begin(), block.begin() + 11)) == FecBlockError::kTooShort);
  Bytes bad = block;
  bad[8] = std::byte{0x04};
  CHECK(error(bad) == FecBlockError::kBadFlags);
  bad[8] = std::byte{kFlagRetransmit};
  CHECK(error(bad) == FecBlockError::kBadFlags);
  bad = block;
  bad[11] = std::byte{9};  // payload_length 9 > 20 - 12
  CHECK(error(bad) == FecBlockError::kPayloadTooLarge);
  Bytes big(kMaxFecBlockBytes + 10);
  big[10] = std::byte{0x04};
  big[11] = std::byte{0xB1};  // 1201
  CHECK(error(big) == FecBlockError::kPayloadTooLarge);
  bad = block;
  bad[19] = std::byte{1};
  CHECK(error(bad) == FecBlockError::kBadPadding);
  // An empty payload in a bare 12-byte block is fine.
  Bytes empty(12);
  CHECK(rebuildDataPacket(empty, fec, 1, out).ok());
}

}  // namespace
}  // namespace overline::wire
