// NeighbourAuth (relay/core/neighbour_auth.h): two relays' instances
// exchange sealed packets; verdicts, lab mode, key rotation and reloads.

#include "relay/core/neighbour_auth.h"

#include <catch2/catch.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "common/crypto/key_derivation.h"
#include "common/crypto/packet_auth.h"
#include "common/wire/packet.h"

namespace overline::relay {
namespace {

using Verdict = NeighbourAuth::Verdict;

constexpr TimeUs kRotateAt = 1'700'000'000'000'000;  // unix us of epoch 2's activation

std::vector<std::uint8_t> secretOf(std::uint8_t fill) { return std::vector<std::uint8_t>(kMinMeshSecretBytes, fill); }

MeshKey meshKey(std::uint32_t epoch, TimeUs activate_at = 0) {
  return MeshKey{epoch, secretOf(static_cast<std::uint8_t>(0x10 + epoch)), activate_at};
}

// A relay's NeighbourAuth with its neighbours and keys installed, as
// RelayCore sets it up.
NeighbourAuth makeAuth(NodeId self, std::vector<NodeId> neighbours, std::vector<MeshKey> keys,
                       std::uint64_t base = 1, bool enabled = true) {
  NeighbourAuth auth(self, enabled, base);
  auth.setMeshKeys(std::move(keys));
  auth.setNeighbours(neighbours);
  return auth;
}

// A datagram as it left a relay: encoded with `sender` and sealed for `to`.
struct Datagram {
  std::vector<std::byte> bytes;
  wire::PacketView view() const {
    const auto parsed = wire::parsePacket(bytes);
    REQUIRE(parsed.ok());
    return parsed.value();
  }
  wire::Header header() const { return view().header; }
};

Datagram sealFrom(NeighbourAuth& auth, NodeId sender, NodeId to, std::optional<TimeUs> wall = std::nullopt,
                  std::uint32_t sequence = 0) {
  wire::Header header;
  header.type = wire::PacketType::kSubscribe;
  header.sender_node_id = sender;
  header.stream_id = makeStreamId(sender, 1);
  header.sequence = sequence;
  wire::PacketBuffer buffer{};
  const std::size_t size = wire::encodePacket(header, {}, buffer);
  const std::size_t sealed = auth.seal(to, buffer, size, wall);
  REQUIRE(sealed != 0);
  return Datagram{{buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(sealed)}};
}

TEST_CASE("NeighbourAuth: a sealed packet checks kOk once, then kReplayed", "[auth]") {
  NeighbourAuth one = makeAuth(1, {2}, {meshKey(1)});
  NeighbourAuth two = makeAuth(2, {1}, {meshKey(1)});

  const Datagram first = sealFrom(one, 1, 2);
  CHECK(first.header().key_epoch == 1);
  CHECK(first.bytes.size() == wire::kHeaderBytes + wire::kTagBytes);
  CHECK(two.check(1, first.view()) == Verdict::kOk);
  CHECK(two.check(1, first.view()) == Verdict::kReplayed);

  // Both directions, several packets, delivered out of order.
  std::vector<Datagram> sent;
  for (int i = 0; i < 5; ++i) sent.push_back(sealFrom(one, 1, 2));
  for (const int i : {4, 0, 2, 1, 3}) CHECK(two.check(1, sent[static_cast<std::size_t>(i)].view()) == Verdict::kOk);
  for (const Datagram& d : sent) CHECK(two.check(1, d.view()) == Verdict::kReplayed);
  const Datagram back = sealFrom(two, 2, 1);
  CHECK(one.check(2, back.view()) == Verdict::kOk);
  CHECK(one.check(2, back.view()) == Verdict::kReplayed);
}

TEST_CASE("NeighbourAuth: a sender id other than the neighbour's is kBadTag", "[auth]") {
  NeighbourAuth one = makeAuth(1, {2}, {meshKey(1)});
  NeighbourAuth two = makeAuth(2, {1, 3}, {meshKey(1)});
  NeighbourAuth three = makeAuth(3, {2}, {meshKey(1)});

  // Node 3's genuine packet arriving on node 1's line.
  const Datagram from_three = sealFrom(three, 3, 2);
  CHECK(two.check(1, from_three.view()) == Verdict::kBadTag);
  CHECK(two.check(3, from_three.view()) == Verdict::kOk);  // on its own line: fine, nothing recorded before

  // Node 3 claiming to be node 1 (sender field 1, tagged with the 2-3 key).
  const Datagram forged = sealFrom(three, 1, 2);
  CHECK(two.check(1, forged.view()) == Verdict::kBadTag);
  // Node 1's packet with its sender id rewritten after sealing (its packet
  // number, 2, is fresh in node 2's window for node 3, which saw 1).
  (void)sealFrom(one, 1, 2);
  Datagram rewritten = sealFrom(one, 1, 2);
  REQUIRE(rewritten.header().packet_number == 2);
  rewritten.bytes[11] = std::byte{3};
  CHECK(two.check(3, rewritten.view()) == Verdict::kBadTag);
  // A neighbour this relay does not have.
  NeighbourAuth four = makeAuth(4, {2}, {meshKey(1)});
  CHECK(two.check(4, sealFrom(four, 4, 2).view()) == Verdict::kBadTag);
}

TEST_CASE("NeighbourAuth: a refused packet does not move the window", "[auth]") {
  NeighbourAuth one = makeAuth(1, {2}, {meshKey(1)});
  NeighbourAuth two = makeAuth(2, {1}, {meshKey(1)});
  Datagram good = sealFrom(one, 1, 2);
  Datagram tampered = good;
  tampered.bytes[20] ^= std::byte{0x01};  // sequence
  CHECK(two.check(1, tampered.view()) == Verdict::kBadTag);
  CHECK(two.check(1, good.view()) == Verdict::kOk);
}

TEST_CASE("NeighbourAuth: untagged is kUntagged, an unknown epoch kBadTag", "[auth]") {
  NeighbourAuth two = makeAuth(2, {1}, {meshKey(1)});
  wire::Header header;
  header.type = wire::PacketType::kProbe;
  header.sender_node_id = 1;
  wire::PacketBuffer buffer{};
  const std::size_t size = wire::encodePacket(header, {}, buffer);
  const auto untagged = wire::parsePacket(std::span<const std::byte>(buffer.data(), size));
  REQUIRE(untagged.ok());
  CHECK(two.check(1, untagged.value()) == Verdict::kUntagged);

  // Node 1 only knows epoch 5 (same secret rule, another epoch).
  NeighbourAuth one_epoch5 = makeAuth(1, {2}, {meshKey(5)});
  CHECK(two.check(1, sealFrom(one_epoch5, 1, 2).view()) == Verdict::kBadTag);
  // Epoch 1 but from another mesh secret.
  NeighbourAuth one_other = makeAuth(1, {2}, {MeshKey{1, secretOf(0x99), 0}});
  CHECK(two.check(1, sealFrom(one_other, 1, 2).view()) == Verdict::kBadTag);
}

TEST_CASE("NeighbourAuth: the tag is the pair key's over header and payload", "[auth]") {
  // What a neighbour outside this code base would compute.
  NeighbourAuth one = makeAuth(1, {2}, {meshKey(3)});
  const Datagram d = sealFrom(one, 1, 2);
  const crypto::Gmac pair(crypto::derivePairKey(secretOf(0x13), 3, 2, 1));
  CHECK(crypto::verifyPacket(pair, d.view()));
}

TEST_CASE("NeighbourAuth: insecure lab mode tags and checks nothing", "[auth]") {
  NeighbourAuth lab = makeAuth(2, {1}, {}, 1, /*enabled=*/false);
  CHECK_FALSE(lab.enabled());
  wire::Header header;
  header.type = wire::PacketType::kSubscribe;
  header.sender_node_id = 2;
  wire::PacketBuffer buffer{};
  const std::size_t size = wire::encodePacket(header, {}, buffer);
  CHECK(lab.seal(1, buffer, size, std::nullopt) == size);
  const auto parsed = wire::parsePacket(std::span<const std::byte>(buffer.data(), size));
  REQUIRE(parsed.ok());
  CHECK_FALSE(parsed->header.tagged());
  CHECK(lab.check(1, parsed.value()) == Verdict::kOk);
  CHECK(lab.check(1, parsed.value()) == Verdict::kOk);  // no replay window either
  CHECK(lab.check(7, parsed.value()) == Verdict::kOk);  // nor a sender check

  // Even with keys installed.
  NeighbourAuth lab_keys = makeAuth(2, {1}, {meshKey(1)}, 1, false);
  CHECK(lab_keys.seal(1, buffer, size, std::nullopt) == size);
}

TEST_CASE("NeighbourAuth: a key rotation refuses no packet at any step", "[auth]") {
  // Step 0: both on epoch 1.
  NeighbourAuth one = makeAuth(1, {2}, {meshKey(1)});
  NeighbourAuth two = makeAuth(2, {1}, {meshKey(1)});
  const auto exchange = [&](std::optional<TimeUs> wall, std::uint32_t expected_one, std::uint32_t expected_two) {
    const Datagram a = sealFrom(one, 1, 2, wall);
    const Datagram b = sealFrom(two, 2, 1, wall);
    CHECK(a.header().key_epoch == expected_one);
    CHECK(b.header().key_epoch == expected_two);
    CHECK(two.check(1, a.view()) == Verdict::kOk);
    CHECK(one.check(2, b.view()) == Verdict::kOk);
    return a;
  };
  exchange(kRotateAt - kSecond, 1, 1);

  // Step 1: epoch 2 installed with an activation time ahead, at node 2
  // first, then at node 1; nobody sends with it before the time.
  two.setMeshKeys({meshKey(1), meshKey(2, kRotateAt)});
  exchange(kRotateAt - kSecond, 1, 1);
  exchange(std::nullopt, 1, 1);  // without a wall clock: the oldest key
  one.setMeshKeys({meshKey(1), meshKey(2, kRotateAt)});
  CHECK(one.sendingEpoch(2, kRotateAt - 1) == 1);
  CHECK(one.sendingEpoch(2, kRotateAt) == 2);
  CHECK(one.sendingEpoch(2, std::nullopt) == 1);
  CHECK(one.sendingEpoch(9, kRotateAt) == 0);  // not a neighbour
  const Datagram late_epoch1 = exchange(kRotateAt - 1, 1, 1);

  // Step 2: the time passes: both send with epoch 2 and accept both.
  exchange(kRotateAt, 2, 2);
  exchange(kRotateAt + kSecond, 2, 2);
  // An epoch 1 packet sealed before the switch and delivered after it.
  const Datagram in_flight = sealFrom(one, 1, 2, kRotateAt - 1);
  exchange(kRotateAt + 2 * kSecond, 2, 2);
  CHECK(two.check(1, in_flight.view()) == Verdict::kOk);
  CHECK(two.check(1, late_epoch1.view()) == Verdict::kReplayed);

  // Step 3: epoch 1 removed, at node 1 first.
  one.setMeshKeys({meshKey(2, kRotateAt)});
  exchange(kRotateAt + 3 * kSecond, 2, 2);
  two.setMeshKeys({meshKey(2, kRotateAt)});
  exchange(kRotateAt + 4 * kSecond, 2, 2);
  // Only epoch 2 now: it is sent even before its time (the only key).
  CHECK(one.sendingEpoch(2, kRotateAt - kSecond) == 2);
  // And an epoch 1 packet is refused.
  NeighbourAuth old_one = makeAuth(1, {2}, {meshKey(1)}, 1'000'000);
  CHECK(two.check(1, sealFrom(old_one, 1, 2).view()) == Verdict::kBadTag);
}

TEST_CASE("NeighbourAuth: setMeshKeys keeps the replay window of a kept epoch", "[auth]") {
  NeighbourAuth one = makeAuth(1, {2}, {meshKey(1)});
  NeighbourAuth two = makeAuth(2, {1}, {meshKey(1)});
  const Datagram before = sealFrom(one, 1, 2);
  CHECK(two.check(1, before.view()) == Verdict::kOk);

  two.setMeshKeys({meshKey(1), meshKey(2, kRotateAt)});
  CHECK(two.check(1, before.view()) == Verdict::kReplayed);
  two.setMeshKeys({meshKey(1)});  // a reload with the same keys
  CHECK(two.check(1, before.view()) == Verdict::kReplayed);
  // The sender's numbers go on as well: its next packet is fresh.
  one.setMeshKeys({meshKey(1)});
  const Datagram after = sealFrom(one, 1, 2);
  CHECK(after.header().packet_number == before.header().packet_number + 1);
  CHECK(two.check(1, after.view()) == Verdict::kOk);
}

TEST_CASE("NeighbourAuth: setNeighbours keeps kept neighbours' numbers and windows", "[auth]") {
  NeighbourAuth one = makeAuth(1, {2}, {meshKey(1)});
  NeighbourAuth two = makeAuth(2, {1}, {meshKey(1)}, 500);
  std::vector<Datagram> sent;
  for (int i = 0; i < 3; ++i) sent.push_back(sealFrom(two, 2, 1));
  CHECK(sent.back().header().packet_number == 502);
  CHECK(one.check(2, sent[0].view()) == Verdict::kOk);

  const std::vector<NodeId> more{1, 3};
  two.setNeighbours(more);
  CHECK(sealFrom(two, 2, 1).header().packet_number == 503);
  CHECK(sealFrom(two, 2, 3).header().packet_number == 500);  // a new neighbour starts at the base

  // The receiving side: its window for node 2 survives a neighbour change.
  const std::vector<NodeId> more_for_one{2, 4};
  one.setNeighbours(more_for_one);
  CHECK(one.check(2, sent[0].view()) == Verdict::kReplayed);
  CHECK(one.check(2, sent[1].view()) == Verdict::kOk);
  // A neighbour left out is forgotten: its packets are refused.
  const std::vector<NodeId> only_four{4};
  one.setNeighbours(only_four);
  CHECK(one.check(2, sent[2].view()) == Verdict::kBadTag);
}

TEST_CASE("NeighbourAuth: packet numbers start at packet_number_base", "[auth]") {
  NeighbourAuth big = makeAuth(1, {2, 3}, {meshKey(1)}, 1'700'000'000'123'456'789ull);
  CHECK(sealFrom(big, 1, 2).header().packet_number == 1'700'000'000'123'456'789ull);
  CHECK(sealFrom(big, 1, 2).header().packet_number == 1'700'000'000'123'456'790ull);
  CHECK(sealFrom(big, 1, 3).header().packet_number == 1'700'000'000'123'456'789ull);
  // 0 is never a packet number: a base of 0 starts at 1.
  NeighbourAuth zero = makeAuth(1, {2}, {meshKey(1)}, 0);
  CHECK(sealFrom(zero, 1, 2).header().packet_number == 1);
  // Neighbours added before the keys get them too.
  NeighbourAuth late_keys(1, true, 7);
  const std::vector<NodeId> ids{2};
  late_keys.setNeighbours(ids);
  late_keys.setMeshKeys({meshKey(1)});
  const Datagram d = sealFrom(late_keys, 1, 2);
  CHECK(d.header().packet_number == 7);
  NeighbourAuth two = makeAuth(2, {1}, {meshKey(1)});
  CHECK(two.check(1, d.view()) == Verdict::kOk);
}

TEST_CASE("NeighbourAuth: controller-pushed pair keys", "[auth]") {
  const crypto::Key128 key{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  NeighbourAuth one(1, true, 1);
  NeighbourAuth two(2, true, 1);
  const std::vector<NodeId> to_two{2};
  const std::vector<NodeId> to_one{1};
  one.setNeighbours(to_two);
  two.setNeighbours(to_one);
  const PairKey pushed{4, key, 0};
  one.setPairKeys(2, std::span(&pushed, 1));
  two.setPairKeys(1, std::span(&pushed, 1));
  const Datagram d = sealFrom(one, 1, 2);
  CHECK(d.header().key_epoch == 4);
  CHECK(two.check(1, d.view()) == Verdict::kOk);
  two.setPairKeys(1, std::span(&pushed, 1));  // the same key again keeps its window
  CHECK(two.check(1, d.view()) == Verdict::kReplayed);
}

TEST_CASE("NeighbourAuth: pushed keys replace the mesh keys per neighbour, and stay over mesh reloads", "[auth]") {
  const crypto::Key128 key{9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2, 3, 4, 5, 6};
  const PairKey pushed{5, key, 0};
  NeighbourAuth one = makeAuth(1, {2, 3}, {meshKey(1)});
  NeighbourAuth two_pushed = makeAuth(2, {1}, {});
  NeighbourAuth three_mesh = makeAuth(3, {1}, {meshKey(1)});
  two_pushed.setPairKeys(1, std::span(&pushed, 1));
  CHECK(one.wouldHaveKey({}));
  CHECK_FALSE(two_pushed.wouldHaveKey({}));  // no mesh keys: a neighbour needs pushed ones
  CHECK(two_pushed.wouldHaveKey(std::span(&pushed, 1)));
  CHECK(NeighbourAuth(1, false, 1).wouldHaveKey({}));  // lab mode needs none

  // Relay 2 gets pushed keys; relay 3 stays on the mesh keys.
  one.setPairKeys(2, std::span(&pushed, 1));
  one.setPairKeys(3, {});
  CHECK(one.sendingEpoch(2, std::nullopt) == 5);
  CHECK(one.sendingEpoch(3, std::nullopt) == 1);
  CHECK(two_pushed.check(1, sealFrom(one, 1, 2).view()) == Verdict::kOk);
  CHECK(three_mesh.check(1, sealFrom(one, 1, 3).view()) == Verdict::kOk);

  // A mesh key reload re-derives relay 3's keys only.
  one.setMeshKeys({meshKey(1), meshKey(2)});
  CHECK(one.sendingEpoch(2, std::nullopt) == 5);
  CHECK(one.sendingEpoch(3, std::nullopt) == 2);
  CHECK(two_pushed.check(1, sealFrom(one, 1, 2).view()) == Verdict::kOk);

  // A neighbour set that keeps relay 2 keeps its pushed keys.
  const std::vector<NodeId> ids{2, 3};
  one.setNeighbours(ids);
  CHECK(one.sendingEpoch(2, std::nullopt) == 5);

  // No pushed keys any more: back to the mesh keys' pair keys.
  one.setPairKeys(2, {});
  CHECK(one.sendingEpoch(2, std::nullopt) == 2);
}

}  // namespace
}  // namespace overline::relay
