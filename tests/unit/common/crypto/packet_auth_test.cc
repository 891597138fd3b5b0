// Tagging wire v2 packets (common/crypto/packet_auth.h): a sealed packet
// parses and verifies, and its tag covers every byte of header and payload.

#include "common/crypto/packet_auth.h"

#include <catch2/catch.hpp>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/wire/packet.h"

namespace overline::crypto {
namespace {

const Key128 kKey{0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f};

wire::Header dataHeader() {
  wire::Header h;
  h.type = wire::PacketType::kData;
  h.flags = wire::kFlagRedundant;
  h.hop_limit = 9;
  h.latency_budget = 40;
  h.sender_node_id = 0x01020304;
  h.stream_id = 0x0000000700000001ull;
  h.sequence = 0x21222324;
  h.timestamp_us = 0x3132333435363738ull;
  h.age_us = 1500;
  return h;
}

std::vector<std::byte> payloadOf(std::size_t size) {
  std::vector<std::byte> payload(size);
  for (std::size_t i = 0; i < size; ++i) payload[i] = static_cast<std::byte>(i * 7 + 3);
  return payload;
}

// Encodes `header` with `payload` and seals it; returns the datagram.
std::vector<std::byte> sealed(const Gmac& key, const wire::Header& header, std::span<const std::byte> payload,
                              std::uint32_t epoch, std::uint64_t packet_number) {
  wire::PacketBuffer buffer{};
  const std::size_t size = wire::encodePacket(header, payload, buffer);
  const std::size_t tagged = sealPacket(key, epoch, packet_number, buffer, size);
  REQUIRE(tagged == size + wire::kTagBytes);
  return {buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(tagged)};
}

// Whether `datagram` parses and its tag verifies under `key`.
bool parsesAndVerifies(const Gmac& key, std::span<const std::byte> datagram) {
  const auto parsed = wire::parsePacket(datagram);
  return parsed.ok() && verifyPacket(key, parsed.value());
}

TEST_CASE("sealPacket then parsePacket and verifyPacket: a round trip", "[crypto][packet_auth]") {
  const Gmac key(kKey);
  const std::vector<std::byte> payload = payloadOf(100);
  const std::vector<std::byte> datagram = sealed(key, dataHeader(), payload, 7, 0x1122334455667788ull);

  const auto parsed = wire::parsePacket(datagram);
  REQUIRE(parsed.ok());
  wire::Header expected = dataHeader();
  expected.payload_length = 100;
  expected.key_epoch = 7;
  expected.packet_number = 0x1122334455667788ull;
  CHECK(parsed->header == expected);
  CHECK(parsed->header.tagged());
  CHECK(std::equal(parsed->payload.begin(), parsed->payload.end(), payload.begin(), payload.end()));
  CHECK(parsed->authenticated.size() == wire::kHeaderBytes + payload.size());
  CHECK(parsed->tag.size() == wire::kTagBytes);
  CHECK(verifyPacket(key, parsed.value()));

  // Another key does not verify it.
  Key128 other = kKey;
  other[0] ^= 0x80;
  CHECK_FALSE(verifyPacket(Gmac(other), parsed.value()));
}

TEST_CASE("sealPacket: header-only packets and the largest FEC packet", "[crypto][packet_auth]") {
  const Gmac key(kKey);
  wire::Header subscribe;
  subscribe.type = wire::PacketType::kSubscribe;
  subscribe.sender_node_id = 3;
  subscribe.stream_id = 0x0000000500000002ull;
  const std::vector<std::byte> header_only = sealed(key, subscribe, {}, 1, 1);
  CHECK(header_only.size() == wire::kHeaderBytes + wire::kTagBytes);
  CHECK(parsesAndVerifies(key, header_only));

  wire::Header fec;
  fec.type = wire::PacketType::kFec;
  fec.sender_node_id = 3;
  const std::vector<std::byte> largest = sealed(key, fec, payloadOf(wire::kMaxFecPayloadBytes), 1, 2);
  CHECK(largest.size() == wire::kMaxPacketBytes);
  CHECK(parsesAndVerifies(key, largest));
}

TEST_CASE("sealPacket: the nonce is sender id and packet number", "[crypto][packet_auth]") {
  const Gmac key(kKey);
  const std::vector<std::byte> payload = payloadOf(10);
  const std::vector<std::byte> a = sealed(key, dataHeader(), payload, 1, 5);
  const std::vector<std::byte> b = sealed(key, dataHeader(), payload, 1, 6);
  const auto tagOf = [](const std::vector<std::byte>& d) {
    return std::vector<std::byte>(d.end() - static_cast<std::ptrdiff_t>(wire::kTagBytes), d.end());
  };
  CHECK(tagOf(a) != tagOf(b));
  // Sealing the same packet with the same number again gives the same tag (deterministic).
  CHECK(tagOf(a) == tagOf(sealed(key, dataHeader(), payload, 1, 5)));
}

TEST_CASE("verifyPacket: the tag covers every header and payload byte", "[crypto][packet_auth]") {
  const Gmac key(kKey);
  const std::vector<std::byte> payload = payloadOf(37);
  const std::vector<std::byte> datagram = sealed(key, dataHeader(), payload, 3, 1000);
  REQUIRE(parsesAndVerifies(key, datagram));
  // Every byte of the datagram, the tag included, in turn: one flipped bit
  // and another value, so each byte is changed in two ways.
  for (std::size_t i = 0; i < datagram.size(); ++i) {
    for (const std::uint8_t mask : {0x01, 0x80}) {
      std::vector<std::byte> changed = datagram;
      changed[i] ^= std::byte{mask};
      CAPTURE(i, mask);
      CHECK_FALSE(parsesAndVerifies(key, changed));
    }
  }
}

TEST_CASE("verifyPacket: an untagged packet never verifies", "[crypto][packet_auth]") {
  const Gmac key(kKey);
  wire::PacketBuffer buffer{};
  const std::size_t size = wire::encodePacket(dataHeader(), payloadOf(12), buffer);
  const auto parsed = wire::parsePacket(std::span<const std::byte>(buffer.data(), size));
  REQUIRE(parsed.ok());
  REQUIRE_FALSE(parsed->header.tagged());
  CHECK(parsed->tag.empty());
  CHECK_FALSE(verifyPacket(key, parsed.value()));

  // A tagged packet whose key fields are zeroed is untagged and no longer
  // the right size: it does not parse.
  std::vector<std::byte> datagram = sealed(key, dataHeader(), payloadOf(12), 1, 1);
  wire::writeKeyFields(datagram, 0, 0);
  CHECK_FALSE(wire::parsePacket(datagram).ok());
  // Cut the tag off as well: it parses, untagged, and does not verify.
  const auto stripped = wire::parsePacket(std::span(datagram).first(datagram.size() - wire::kTagBytes));
  REQUIRE(stripped.ok());
  CHECK_FALSE(verifyPacket(key, stripped.value()));
}

}  // namespace
}  // namespace overline::crypto
