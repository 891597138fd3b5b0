// FecEncoder alone: which groups close when, what the FEC packets carry, and
// that their parity rebuilds the data (checked with the codec directly).

#include "relay/core/fec_encoder.h"

#include <catch2/catch.hpp>
#include <vector>

#include "common/fec/reed_solomon.h"
#include "common/wire/fec_payload.h"
#include "fec_test_util.h"

namespace overline::relay {
namespace {

using namespace fec_test;

constexpr DurationUs kDelay = 10 * kMillisecond;

struct Parsed {
  wire::PacketView packet;
  wire::FecPayloadView fec;
};

Parsed parseFec(const FecPacket& packet) {
  auto view = wire::parsePacket(packet.view());
  REQUIRE(view.ok());
  REQUIRE(view->header.type == wire::PacketType::kFec);
  auto fec = wire::parseFecPayload(view->payload);
  REQUIRE(fec.ok());
  return {*view, *fec};
}

TEST_CASE("with FEC off nothing is produced and nothing is kept") {
  FecEncoder encoder(kDelay);
  std::vector<FecPacket> out;
  for (std::uint32_t s = 0; s < 50; ++s) encoder.onDataSent(dataPacket(s, 100), s * 1000, out);
  encoder.onTick(1'000'000, out);
  CHECK(out.empty());
  CHECK_FALSE(encoder.flushDueAt());
  CHECK(encoder.counters().data_packets == 0);
}

TEST_CASE("a full group yields m parity packets describing it") {
  FecEncoder encoder(kDelay);
  encoder.setProtection({4, 2});
  std::vector<FecPacket> out;
  const std::size_t sizes[] = {100, 300, 0, 50};
  for (std::uint32_t s = 0; s < 3; ++s) encoder.onDataSent(dataPacket(10 + s, sizes[s]), s, out);
  CHECK(out.empty());
  CHECK(encoder.flushDueAt() == TimeUs{kDelay});
  encoder.onDataSent(dataPacket(13, sizes[3]), 3, out);
  REQUIRE(out.size() == 2);
  CHECK_FALSE(encoder.flushDueAt());
  for (std::size_t j = 0; j < 2; ++j) {
    const Parsed p = parseFec(out[j]);
    CHECK(p.packet.header.stream_id == kStream);
    CHECK(p.packet.header.sender_node_id == kSender);
    CHECK(p.packet.header.hop_limit == kHop);
    CHECK(p.packet.header.sequence == 0);  // first group
    CHECK(p.packet.header.timestamp_us == 0);
    CHECK(p.packet.header.flags == 0);
    CHECK(p.packet.header.latency_budget == 0);
    CHECK(p.fec.data_count == 4);
    CHECK(p.fec.parity_count == 2);
    CHECK(p.fec.parity_index == j);
    CHECK(std::vector<std::uint32_t>(p.fec.sequenceList().begin(), p.fec.sequenceList().end()) ==
          std::vector<std::uint32_t>{10, 11, 12, 13});
    CHECK(p.fec.parity.size() == 12 + 300);  // L = the largest block
  }
  CHECK(encoder.counters().groups == 1);
  CHECK(encoder.counters().fec_packets == 2);
  CHECK(encoder.counters().fec_bytes == 2 * (wire::kHeaderBytes + 4 + 16 + 312));  // untagged: each hop tags what it sends

  // The next group is numbered 1.
  out.clear();
  for (std::uint32_t s = 14; s < 18; ++s) encoder.onDataSent(dataPacket(s, 10), s, out);
  REQUIRE(out.size() == 2);
  CHECK(parseFec(out[0]).packet.header.sequence == 1);
}

TEST_CASE("the parity rebuilds any two lost packets of the group") {
  FecEncoder encoder(kDelay);
  encoder.setProtection({4, 2});
  std::vector<Bytes> sent;
  std::vector<FecPacket> out;
  for (std::uint32_t s = 0; s < 4; ++s) {
    sent.push_back(dataPacket(s, 40 + 100 * s, s == 1 ? wire::kFlagRedundant : 0));
    encoder.onDataSent(sent.back(), s, out);
  }
  REQUIRE(out.size() == 2);
  const Parsed p0 = parseFec(out[0]);
  const Parsed p1 = parseFec(out[1]);
  const std::size_t length = p0.fec.parity.size();

  // Lose data 1 and 3; keep 0, 2 and both parity blocks.
  std::vector<Bytes> blocks(4, Bytes(length));
  for (std::uint32_t s : {0u, 2u}) wire::writeProtectedBlock(view(sent[s]), blocks[s]);
  const std::vector<fec::IndexedBlock> present{{0, blocks[0]}, {2, blocks[2]}, {4, p0.fec.parity}, {5, p1.fec.parity}};
  const std::vector<std::span<std::byte>> outputs{{}, blocks[1], {}, blocks[3]};
  const fec::ReedSolomon codec(4, 2);
  REQUIRE(codec.decode(present, outputs).value() == 2);
  for (std::uint32_t s : {1u, 3u}) {
    wire::PacketBuffer rebuilt;
    auto size = wire::rebuildDataPacket(blocks[s], p0.packet.header, s, rebuilt);
    REQUIRE(size.ok());
    CHECK(Bytes(rebuilt.begin(), rebuilt.begin() + static_cast<long>(*size)) == sent[s]);
  }
}

TEST_CASE("the timer flushes a partial group with proportional parity") {
  FecEncoder encoder(kDelay);
  encoder.setProtection({8, 4});
  std::vector<FecPacket> out;
  encoder.onDataSent(dataPacket(1, 100), 1000, out);
  encoder.onDataSent(dataPacket(2, 100), 3000, out);
  encoder.onTick(1000 + kDelay - 1, out);
  CHECK(out.empty());
  encoder.onTick(1000 + kDelay, out);
  REQUIRE(out.size() == 1);  // ceil(4 x 2 / 8)
  const Parsed p = parseFec(out[0]);
  CHECK(p.fec.data_count == 2);
  CHECK(p.fec.parity_count == 1);
  CHECK(encoder.counters().partial_groups == 1);
  out.clear();
  encoder.onTick(1'000'000, out);
  CHECK(out.empty());
}

TEST_CASE("retransmissions, repeats and non-DATA packets are not added to groups") {
  FecEncoder encoder(kDelay);
  encoder.setProtection({2, 1});
  std::vector<FecPacket> out;
  encoder.onDataSent(dataPacket(1, 10), 0, out);
  encoder.onDataSent(dataPacket(1, 10), 0, out);                            // the same packet again
  encoder.onDataSent(dataPacket(0, 10, wire::kFlagRetransmit), 0, out);     // a retransmission
  encoder.onDataSent(Bytes(5), 0, out);                                     // not a packet at all
  CHECK(out.empty());
  encoder.onDataSent(dataPacket(2, 10), 0, out);
  REQUIRE(out.size() == 1);
  const Parsed p = parseFec(out[0]);
  CHECK(p.fec.sequences[0] == 1);
  CHECK(p.fec.sequences[1] == 2);
  CHECK(encoder.counters().ignored_duplicates == 1);
  CHECK(encoder.counters().ignored_retransmits == 1);
  CHECK(encoder.counters().ignored_not_data == 1);
}

TEST_CASE("a new hop_limit closes the open group first") {
  FecEncoder encoder(kDelay);
  encoder.setProtection({4, 2});
  std::vector<FecPacket> out;
  encoder.onDataSent(dataPacket(1, 10, 0, 15), 0, out);
  encoder.onDataSent(dataPacket(2, 10, 0, 15), 0, out);
  encoder.onDataSent(dataPacket(3, 10, 0, 12), 0, out);  // route change upstream: fewer hops left
  REQUIRE(out.size() == 1);
  const Parsed p = parseFec(out[0]);
  CHECK(p.packet.header.hop_limit == 15);
  CHECK(p.fec.data_count == 2);
  out.clear();
  encoder.onTick(kDelay, out);
  REQUIRE(out.size() == 1);
  CHECK(parseFec(out[0]).packet.header.hop_limit == 12);
}

TEST_CASE("new protection applies from the next group; m = 0 drops the open group") {
  FecEncoder encoder(kDelay);
  encoder.setProtection({2, 1});
  std::vector<FecPacket> out;
  encoder.onDataSent(dataPacket(1, 10), 0, out);
  encoder.setProtection({3, 3});
  encoder.onDataSent(dataPacket(2, 10), 0, out);
  REQUIRE(out.size() == 1);  // the open group kept k = 2, m = 1
  out.clear();
  for (std::uint32_t s = 3; s < 6; ++s) encoder.onDataSent(dataPacket(s, 10), 0, out);
  CHECK(out.size() == 3);
  out.clear();
  encoder.onDataSent(dataPacket(6, 10), 0, out);
  encoder.setProtection({8, 0});
  CHECK_FALSE(encoder.flushDueAt());
  encoder.onTick(1'000'000, out);
  for (std::uint32_t s = 7; s < 40; ++s) encoder.onDataSent(dataPacket(s, 10), 0, out);
  CHECK(out.empty());
}

TEST_CASE("the largest group of full-size packets fits one FEC packet") {
  FecEncoder encoder(kDelay);
  encoder.setProtection({16, 16});
  std::vector<FecPacket> out;
  for (std::uint32_t s = 0; s < 16; ++s) encoder.onDataSent(dataPacket(s, wire::kMaxPayloadBytes), 0, out);
  REQUIRE(out.size() == 16);
  for (const FecPacket& packet : out) {
    CHECK(packet.size == wire::kHeaderBytes + 1280);
    CHECK(parseFec(packet).fec.parity.size() == wire::kMaxFecBlockBytes);
  }
}

}  // namespace
}  // namespace overline::relay
