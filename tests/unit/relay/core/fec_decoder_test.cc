// FecDecoder fed by a real FecEncoder: what it recovers, when, and what it
// counts instead of recovering.

#include "relay/core/fec_decoder.h"

#include <catch2/catch.hpp>
#include <set>
#include <vector>

#include "common/wire/fec_payload.h"
#include "fec_test_util.h"
#include "relay/core/fec_encoder.h"

namespace overline::relay {
namespace {

using namespace fec_test;

constexpr DurationUs kDelay = 10 * kMillisecond;

// One group through the encoder: the DATA packets and their FEC packets.
struct Group {
  std::vector<Bytes> data;
  std::vector<Bytes> fec;
};

Group encodeGroup(FecEncoder& encoder, std::uint32_t first, std::size_t count, std::size_t payload_bytes = 100) {
  Group group;
  std::vector<FecPacket> out;
  for (std::uint32_t s = first; s < first + count; ++s) {
    group.data.push_back(dataPacket(s, payload_bytes + s % 7));
    encoder.onDataSent(group.data.back(), 0, out);
  }
  encoder.onTick(kDelay, out);
  for (const FecPacket& packet : out) group.fec.emplace_back(packet.view().begin(), packet.view().end());
  return group;
}

std::vector<Bytes> bytesOf(const std::vector<FecPacket>& packets) {
  std::vector<Bytes> all;
  for (const FecPacket& packet : packets) all.emplace_back(packet.view().begin(), packet.view().end());
  return all;
}

struct Receiver {
  FecDecoder decoder;
  std::vector<FecPacket> recovered;

  explicit Receiver(FecDecoderConfig config = {}) : decoder(config) {}
  void data(const Bytes& packet, TimeUs now = 0) { decoder.onData(view(packet), now, recovered); }
  void fec(const Bytes& packet, TimeUs now = 0) { decoder.onFec(view(packet), now, recovered); }
  // Activates the decoder as an earlier group's parity would; the packet
  // that parity recovers is not part of the test.
  void warmUp(FecEncoder& encoder, TimeUs now = 0) {
    const Group earlier = encodeGroup(encoder, 1000, 1);
    fec(earlier.fec[0], now);
    recovered.clear();
  }
};

TEST_CASE("lost data packets come back byte for byte once k blocks are in") {
  FecEncoder encoder(kDelay);
  encoder.setProtection({4, 2});
  Receiver rx;
  rx.warmUp(encoder);
  const Group group = encodeGroup(encoder, 0, 4);
  REQUIRE(group.fec.size() == 2);
  rx.data(group.data[0]);
  rx.data(group.data[2]);  // 1 and 3 lost
  rx.fec(group.fec[0]);
  CHECK(rx.recovered.empty());  // 3 of the 6 blocks
  CHECK(rx.decoder.mayStillRepair(1, 0));
  const FecDecoderCounters before = rx.decoder.counters();
  rx.fec(group.fec[1]);
  CHECK(bytesOf(rx.recovered) == std::vector<Bytes>{group.data[1], group.data[3]});
  CHECK(rx.decoder.counters().recovered == before.recovered + 2);
  CHECK(rx.decoder.counters().groups_recovered == before.groups_recovered + 1);
  CHECK_FALSE(rx.decoder.mayStillRepair(1, 0));
}

TEST_CASE("parity ahead of its data: recovery happens on the data that completes k") {
  FecEncoder encoder(kDelay);
  encoder.setProtection({4, 1});
  Receiver rx;
  rx.warmUp(encoder);
  const Group group = encodeGroup(encoder, 0, 4);
  rx.fec(group.fec[0]);
  rx.data(group.data[3]);
  rx.data(group.data[0]);
  CHECK(rx.recovered.empty());
  rx.data(group.data[1]);  // data 2 lost
  CHECK(bytesOf(rx.recovered) == std::vector<Bytes>{group.data[2]});
}

TEST_CASE("nothing is recovered when nothing is missing, and late parity is counted") {
  FecEncoder encoder(kDelay);
  encoder.setProtection({3, 2});
  Receiver rx;
  rx.warmUp(encoder);
  const Group group = encodeGroup(encoder, 0, 3);
  for (const Bytes& d : group.data) rx.data(d);
  rx.fec(group.fec[0]);
  rx.fec(group.fec[1]);
  CHECK(rx.recovered.empty());
  CHECK(rx.decoder.counters().late_parity == 1);
}

TEST_CASE("more losses than parity: waits, and a retransmission completes the group") {
  FecEncoder encoder(kDelay);
  encoder.setProtection({4, 1});
  Receiver rx;
  rx.warmUp(encoder);
  const Group group = encodeGroup(encoder, 0, 4);
  rx.data(group.data[0]);
  rx.data(group.data[1]);  // 2 and 3 lost
  rx.fec(group.fec[0]);
  CHECK(rx.recovered.empty());
  CHECK_FALSE(rx.decoder.mayStillRepair(2, 0));  // two missing, one parity, none to come
  Bytes retransmitted = group.data[3];
  wire::setRetransmitFlag(retransmitted, true);
  rx.data(retransmitted);
  CHECK(bytesOf(rx.recovered) == std::vector<Bytes>{group.data[2]});
}

TEST_CASE("mayStillRepair counts parity still to come, and takes skipped indices as lost") {
  FecEncoder encoder(kDelay);
  encoder.setProtection({4, 3});
  Receiver rx;
  rx.warmUp(encoder);
  const Group group = encodeGroup(encoder, 0, 4);
  rx.data(group.data[0]);
  rx.data(group.data[1]);  // 2 and 3 lost
  CHECK_FALSE(rx.decoder.mayStillRepair(2, 0));  // no parity of this group seen yet
  rx.fec(group.fec[0]);
  CHECK(rx.decoder.mayStillRepair(2, 0));  // 2 missing <= 1 held + 2 to come
  CHECK(rx.decoder.mayStillRepair(3, 0));
  CHECK_FALSE(rx.decoder.mayStillRepair(1, 0));  // not missing
  CHECK_FALSE(rx.decoder.mayStillRepair(99, 0));  // in no group
  CHECK_FALSE(rx.decoder.mayStillRepair(2, 400 * kMillisecond + 1));  // group too old

  Receiver skipped;
  skipped.warmUp(encoder);
  const Group next = encodeGroup(encoder, 10, 4);
  skipped.data(next.data[0]);
  skipped.data(next.data[1]);
  skipped.fec(next.fec[2]);  // parity 0 and 1 lost: 2 missing > 1 held + 0 to come
  CHECK_FALSE(skipped.decoder.mayStillRepair(12, 0));
}

TEST_CASE("data seen before FEC turned active cannot be used") {
  FecEncoder encoder(kDelay);
  encoder.setProtection({4, 2});
  Receiver rx;  // never saw parity
  const Group group = encodeGroup(encoder, 0, 4);
  rx.data(group.data[0]);
  rx.data(group.data[1]);
  rx.data(group.data[2]);  // 3 lost
  CHECK_FALSE(rx.decoder.active());
  rx.fec(group.fec[0]);
  CHECK(rx.decoder.active());
  CHECK(rx.recovered.empty());  // only one block held
  rx.fec(group.fec[1]);
  CHECK(rx.recovered.empty());
}

TEST_CASE("duplicate, contradicting and malformed parity is counted, not used") {
  FecEncoder encoder(kDelay);
  encoder.setProtection({4, 2});
  Receiver rx;
  rx.warmUp(encoder);
  const Group group = encodeGroup(encoder, 0, 4);
  rx.fec(group.fec[0]);
  rx.fec(group.fec[0]);
  CHECK(rx.decoder.counters().duplicate_parity == 1);

  // The same group number with another sequence list: a restarted upstream.
  FecEncoder restarted(kDelay);
  restarted.setProtection({4, 2});
  encodeGroup(restarted, 500, 1);  // uses up group number 0
  const Group other = encodeGroup(restarted, 50, 4);
  Bytes contradicting = other.fec[1];
  rx.fec(contradicting);  // group number 1 as well, but sequences 50..53
  CHECK(rx.decoder.counters().inconsistent == 1);

  Bytes malformed = group.fec[1];
  malformed[wire::kHeaderBytes] = std::byte{0};  // k = 0
  rx.fec(malformed);
  CHECK(rx.decoder.counters().bad_payload == 1);
  CHECK(rx.recovered.empty());
}

TEST_CASE("a DATA block longer than the group's L marks the group inconsistent") {
  FecEncoder encoder(kDelay);
  encoder.setProtection({2, 1});
  Receiver rx;
  rx.warmUp(encoder);
  const Group group = encodeGroup(encoder, 0, 2, 20);
  rx.fec(group.fec[0]);
  rx.data(dataPacket(0, 500));  // claims sequence 0 but is far larger than any block of the group
  CHECK(rx.decoder.counters().inconsistent == 1);
  CHECK(rx.recovered.empty());
}

TEST_CASE("parity that decodes to nonsense yields no packet") {
  FecEncoder encoder(kDelay);
  encoder.setProtection({1, 1});
  Receiver rx;
  const Group group = encodeGroup(encoder, 5, 1);
  Bytes garbage = group.fec[0];
  const std::size_t parity_at = wire::kHeaderBytes + 4 + 4;
  for (std::size_t i = parity_at; i < garbage.size(); ++i) garbage[i] = std::byte{0xFF};
  rx.fec(garbage);
  CHECK(rx.recovered.empty());
  CHECK(rx.decoder.counters().bad_recovered_block == 1);
}

TEST_CASE("groups older than the budget are dropped and counted") {
  FecEncoder encoder(kDelay);
  encoder.setProtection({4, 2});
  FecDecoderConfig config;
  config.max_age_us = 100 * kMillisecond;
  Receiver rx(config);
  rx.warmUp(encoder);
  const Group group = encodeGroup(encoder, 0, 4);
  rx.data(group.data[0]);
  rx.data(group.data[1]);
  rx.fec(group.fec[0], 0);
  rx.decoder.onTick(100 * kMillisecond + 1);
  CHECK(rx.decoder.counters().groups_unrecovered == 1);
  // Its last parity after the budget starts a fresh group; the stored data
  // are too old to combine with it.
  rx.fec(group.fec[1], 100 * kMillisecond + 2);
  CHECK(rx.recovered.empty());
}

TEST_CASE("at most max_groups groups are kept: the oldest pending one is evicted") {
  FecEncoder encoder(kDelay);
  encoder.setProtection({2, 2});
  FecDecoderConfig config;
  config.max_groups = 2;
  Receiver rx(config);
  std::vector<Group> groups;
  for (std::uint32_t g = 0; g < 3; ++g) groups.push_back(encodeGroup(encoder, 10 * g, 2));
  for (std::uint32_t g = 0; g < 3; ++g) rx.fec(groups[g].fec[0], g);  // each: both data lost, 1 of 2 parity
  CHECK(rx.decoder.counters().groups_evicted == 1);
  CHECK(rx.decoder.counters().groups_unrecovered == 1);
  rx.fec(groups[0].fec[1], 3);  // the evicted group starts over with one block
  CHECK(rx.recovered.empty());
  rx.fec(groups[2].fec[1], 4);
  CHECK(bytesOf(rx.recovered) == std::vector<Bytes>{groups[2].data[0], groups[2].data[1]});
}

TEST_CASE("without parity for idle_after_us the decoder goes inactive and frees its buffers") {
  FecEncoder encoder(kDelay);
  encoder.setProtection({2, 1});
  Receiver rx;
  rx.warmUp(encoder, 0);
  rx.decoder.onTick(2 * kSecond);
  CHECK(rx.decoder.active());
  rx.decoder.onTick(2 * kSecond + 1);
  CHECK_FALSE(rx.decoder.active());
}

TEST_CASE("recovered packets are stored: a late parity of an evicted group recovers nothing twice") {
  FecEncoder encoder(kDelay);
  encoder.setProtection({2, 2});
  FecDecoderConfig config;
  config.max_groups = 1;
  Receiver rx(config);
  const Group first = encodeGroup(encoder, 0, 2);
  const Group second = encodeGroup(encoder, 2, 2);
  rx.fec(first.fec[0]);  // activates
  rx.data(first.data[0]);
  REQUIRE(bytesOf(rx.recovered) == std::vector<Bytes>{first.data[1]});
  rx.fec(second.fec[0]);  // takes the only group slot
  rx.fec(first.fec[1]);   // late parity of the first group: a new group, its data all held
  CHECK(rx.recovered.size() == 1);
  CHECK(rx.decoder.counters().groups_evicted == 1);  // the second group, still pending
}

}  // namespace
}  // namespace overline::relay
