#include "relay/core/retransmit_buffer.h"

#include <catch2/catch.hpp>
#include <vector>

namespace overline::relay {
namespace {

using Bytes = std::vector<std::byte>;

constexpr StreamId kStream = 7;
constexpr StreamId kOther = 8;
constexpr TimeUs kNow = 1000 * kSecond;
constexpr DurationUs kBudget = 400 * kMillisecond;

Bytes packetBytes(std::uint32_t sequence, std::size_t size = 100) {
  Bytes bytes(size);
  for (std::size_t i = 0; i < size; ++i) bytes[i] = static_cast<std::byte>(sequence + i);
  return bytes;
}

Bytes found(const RetransmitBuffer& buffer, StreamId stream, std::uint32_t sequence, TimeUs now) {
  RetransmitBuffer::Entry entry;
  if (buffer.find(stream, sequence, now, entry) != RetransmitBuffer::Lookup::kFound) return {};
  return Bytes(entry.packet.begin(), entry.packet.end());
}

TEST_CASE("The retransmit buffer returns what it kept until the packet's budget has passed") {
  RetransmitBuffer buffer(16, 1 << 20);
  buffer.store(kStream, 5, packetBytes(5, 1232), kNow, kNow + kBudget);
  CHECK(found(buffer, kStream, 5, kNow + kBudget - 1) == packetBytes(5, 1232));

  RetransmitBuffer::Entry entry;
  CHECK(buffer.find(kStream, 5, kNow + kBudget, entry) == RetransmitBuffer::Lookup::kExpired);
  CHECK(buffer.find(kStream, 6, kNow, entry) == RetransmitBuffer::Lookup::kMissing);
  CHECK(buffer.find(kOther, 5, kNow, entry) == RetransmitBuffer::Lookup::kMissing);
  CHECK(buffer.evictions() == 0);
}

TEST_CASE("A stream keeps at most per_stream_packets sequences; pushing one out early is an eviction") {
  RetransmitBuffer buffer(4, 1 << 20);
  for (std::uint32_t s = 0; s < 6; ++s) buffer.store(kStream, s, packetBytes(s), kNow, kNow + kBudget);
  CHECK(found(buffer, kStream, 0, kNow).empty());
  CHECK(found(buffer, kStream, 1, kNow).empty());
  for (std::uint32_t s = 2; s < 6; ++s) CHECK(found(buffer, kStream, s, kNow) == packetBytes(s));
  CHECK(buffer.evictions() == 2);

  // Replacing packets whose budget had passed is no eviction.
  for (std::uint32_t s = 6; s < 10; ++s) buffer.store(kStream, s, packetBytes(s), kNow + kBudget, kNow + 2 * kBudget);
  CHECK(buffer.evictions() == 2);
}

TEST_CASE("The relay-wide byte cap reuses the oldest slot of any stream") {
  RetransmitBuffer buffer(1024, 3 * wire::kMaxPacketBytes);
  REQUIRE(buffer.slotCount() == 3);
  buffer.store(kStream, 1, packetBytes(1), kNow, kNow + kBudget);
  buffer.store(kOther, 1, packetBytes(2), kNow + 1, kNow + kBudget);
  buffer.store(kStream, 2, packetBytes(3), kNow + 2, kNow + kBudget);
  buffer.store(kOther, 2, packetBytes(4), kNow + 3, kNow + kBudget);  // takes stream 7's sequence 1's slot
  CHECK(found(buffer, kStream, 1, kNow + 3).empty());
  CHECK(found(buffer, kOther, 1, kNow + 3) == packetBytes(2));
  CHECK(found(buffer, kStream, 2, kNow + 3) == packetBytes(3));
  CHECK(found(buffer, kOther, 2, kNow + 3) == packetBytes(4));
  CHECK(buffer.evictions() == 1);
}

TEST_CASE("A forgotten stream's packets are gone and its slots are reused") {
  RetransmitBuffer buffer(8, 2 * wire::kMaxPacketBytes);
  buffer.store(kStream, 1, packetBytes(1), kNow, kNow + kBudget);
  buffer.forgetStream(kStream);
  CHECK(found(buffer, kStream, 1, kNow).empty());
  buffer.store(kOther, 1, packetBytes(2), kNow, kNow + kBudget);
  buffer.store(kOther, 2, packetBytes(3), kNow, kNow + kBudget);
  buffer.store(kOther, 3, packetBytes(4), kNow, kNow + kBudget);
  CHECK(found(buffer, kOther, 3, kNow) == packetBytes(4));
  CHECK(found(buffer, kOther, 2, kNow) == packetBytes(3));
}

TEST_CASE("Retransmissions of one packet to one neighbour are spaced; other neighbours have their own turn") {
  RetransmitBuffer buffer(16, 1 << 20);
  buffer.store(kStream, 5, packetBytes(5), kNow, kNow + kBudget);
  const DurationUs spacing = 10 * kMillisecond;
  CHECK(buffer.takeRetransmitTurn(kStream, 5, 2, kNow, spacing));
  CHECK_FALSE(buffer.takeRetransmitTurn(kStream, 5, 2, kNow + spacing - 1, spacing));
  CHECK(buffer.takeRetransmitTurn(kStream, 5, 3, kNow + 1, spacing));
  CHECK(buffer.takeRetransmitTurn(kStream, 5, 2, kNow + spacing, spacing));
  CHECK_FALSE(buffer.takeRetransmitTurn(kStream, 6, 2, kNow, spacing));  // not kept
  // A new packet in the slot starts with fresh turns.
  buffer.store(kStream, 5, packetBytes(5), kNow + spacing, kNow + kBudget);
  CHECK(buffer.takeRetransmitTurn(kStream, 5, 2, kNow + spacing + 1, spacing));
}

}  // namespace
}  // namespace overline::relay
