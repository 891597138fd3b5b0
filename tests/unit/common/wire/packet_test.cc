// Byte-level tests of the v2 wire codec: the expected arrays below are written
// by hand from the layout table in common/wire/packet.h, never produced by the
// encoder under test.

#include "common/wire/packet.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <set>
#include <string>
#include <vector>

#include "tests/unit/common/wire/hand_written_bytes.h"

namespace overline::wire {
namespace {

using testing::Bytes;
using testing::bytes;

Bytes filled(std::size_t size, int value) { return Bytes(size, static_cast<std::byte>(value)); }

Bytes concat(Bytes head, const Bytes& tail) {
  head.insert(head.end(), tail.begin(), tail.end());
  return head;
}

Bytes slice(const Bytes& from, std::size_t begin, std::size_t end) {
  return Bytes(from.begin() + static_cast<std::ptrdiff_t>(begin), from.begin() + static_cast<std::ptrdiff_t>(end));
}

// A stand-in tag: E0 E1 ... EF. The codec never looks inside the tag (that is
// common/crypto/packet_auth.h's job), so any 16 bytes do.
const Bytes kTag = bytes({0xE0, 0xE1, 0xE2, 0xE3, 0xE4, 0xE5, 0xE6, 0xE7,  //
                          0xE8, 0xE9, 0xEA, 0xEB, 0xEC, 0xED, 0xEE, 0xEF});

// DATA, hop_limit 16, payload AA BB CC, sender 0x01020304,
// stream 0x1112131415161718, sequence 0x21222324, timestamp 0x3132333435363738,
// age 0x41424344 us, untagged (key_epoch 0, packet_number 0).
const Bytes kDataPacket = bytes({
    0x4F, 0x02, 0x01, 0x00, 0x10, 0x00, 0x00, 0x03,  // magic version type flags hop budget len
    0x01, 0x02, 0x03, 0x04,                          // sender_node_id
    0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18,  // stream_id
    0x21, 0x22, 0x23, 0x24,                          // sequence
    0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38,  // timestamp_us
    0x41, 0x42, 0x43, 0x44,                          // age_us
    0x00, 0x00, 0x00, 0x00,                          // key_epoch
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // packet_number
    0xAA, 0xBB, 0xCC,                                // payload
});

// kDataPacket tagged: key_epoch 0x51525354, packet_number 0x6162636465666768,
// then kTag after the payload.
const Bytes kTaggedDataPacket = bytes({
    0x4F, 0x02, 0x01, 0x00, 0x10, 0x00, 0x00, 0x03,  // magic version type flags hop budget len
    0x01, 0x02, 0x03, 0x04,                          // sender_node_id
    0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18,  // stream_id
    0x21, 0x22, 0x23, 0x24,                          // sequence
    0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38,  // timestamp_us
    0x41, 0x42, 0x43, 0x44,                          // age_us
    0x51, 0x52, 0x53, 0x54,                          // key_epoch
    0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68,  // packet_number
    0xAA, 0xBB, 0xCC,                                // payload
    0xE0, 0xE1, 0xE2, 0xE3, 0xE4, 0xE5, 0xE6, 0xE7,  // tag
    0xE8, 0xE9, 0xEA, 0xEB, 0xEC, 0xED, 0xEE, 0xEF,  //
});

// Header-only SUBSCRIBE from an SDK client (sender 0), hop_limit 1,
// stream 0x00000007_00000001, every other field 0; untagged.
const Bytes kSubscribePacket = bytes({
    0x4F, 0x02, 0x04, 0x00, 0x01, 0x00, 0x00, 0x00,  //
    0x00, 0x00, 0x00, 0x00,                          //
    0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00, 0x01,  //
    0x00, 0x00, 0x00, 0x00,                          //
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  //
    0x00, 0x00, 0x00, 0x00,                          //
    0x00, 0x00, 0x00, 0x00,                          //
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  //
});

Header dataHeader() {
  Header h;
  h.type = PacketType::kData;
  h.hop_limit = 16;
  h.sender_node_id = 0x01020304;
  h.stream_id = 0x1112131415161718;
  h.sequence = 0x21222324;
  h.timestamp_us = 0x3132333435363738;
  h.age_us = 0x41424344;
  return h;
}

// kSubscribePacket with its type byte set to `type`, followed by
// `payload_bytes` zero bytes and payload_length set to match. Well-formed
// only where the type allows that payload.
Bytes headerOnly(int type, std::size_t payload_bytes = 0) {
  Bytes packet = kSubscribePacket;
  packet[2] = static_cast<std::byte>(type);
  packet[6] = static_cast<std::byte>(payload_bytes >> 8);
  packet[7] = static_cast<std::byte>(payload_bytes & 0xff);
  packet.resize(kHeaderBytes + payload_bytes, std::byte{0});
  return packet;
}

// The payload size a well-formed packet of `type` may have that is smallest:
// CHALLENGE and WELCOME carry exactly their fields, every other type may be
// header-only.
std::size_t smallestPayload(PacketType type) {
  if (type == PacketType::kChallenge) return 16;
  if (type == PacketType::kWelcome) return 22;
  return 0;
}

// The smallest well-formed untagged packet of `type` (zero payload bytes).
Bytes minimal(PacketType type) { return headerOnly(static_cast<int>(type), smallestPayload(type)); }

// Writes key_epoch (bytes 36..39) and packet_number (40..47) by hand,
// big-endian, and appends `tag_bytes` bytes of kTag (repeated if longer).
Bytes withKeyFields(Bytes packet, std::uint32_t key_epoch, std::uint64_t packet_number,
                    std::size_t tag_bytes = kTagBytes) {
  for (int i = 0; i < 4; ++i) packet[36 + i] = static_cast<std::byte>((key_epoch >> (24 - 8 * i)) & 0xff);
  for (int i = 0; i < 8; ++i) packet[40 + i] = static_cast<std::byte>((packet_number >> (56 - 8 * i)) & 0xff);
  for (std::size_t i = 0; i < tag_bytes; ++i) packet.push_back(kTag[i % kTag.size()]);
  return packet;
}

ParseError parseError(const Bytes& datagram) {
  const auto result = parsePacket(datagram);
  REQUIRE_FALSE(result.ok());
  return result.error();
}

const std::vector<PacketType> kAllTypes = {
    PacketType::kData, PacketType::kProbe, PacketType::kProbeAck,  PacketType::kSubscribe,
    PacketType::kUnsubscribe, PacketType::kNack,  PacketType::kFec,      PacketType::kHello,
    PacketType::kChallenge,   PacketType::kWelcome, PacketType::kAnnounce,
};

bool carriesNoPayload(PacketType type) {
  return type == PacketType::kProbe || type == PacketType::kProbeAck || type == PacketType::kSubscribe ||
         type == PacketType::kUnsubscribe;
}

// A payload every type accepts in a round trip: none for the header-only
// types, exactly the fields for CHALLENGE and WELCOME, nonce | cookie | a
// token for HELLO, five bytes for the rest.
Bytes roundTripPayload(PacketType type) {
  std::size_t size = 5;
  if (carriesNoPayload(type)) size = 0;
  if (type == PacketType::kHello) size = 32 + 8;
  if (type == PacketType::kChallenge) size = 16;
  if (type == PacketType::kWelcome) size = 22;
  Bytes payload(size);
  for (std::size_t i = 0; i < size; ++i) payload[i] = static_cast<std::byte>(i * 7 + 1);
  return payload;
}

TEST_CASE("the v2 layout constants", "[wire]") {
  CHECK(kMagic == 0x4F);
  CHECK(kVersion == 2);
  CHECK(kHeaderBytes == 48);
  CHECK(kTagBytes == 16);
  CHECK(kMaxPayloadBytes == 1200);
  CHECK(kMaxFecPayloadBytes == 1300);
  CHECK(kMaxPacketBytes == 48 + 1300 + 16);
  CHECK(std::tuple_size_v<PacketBuffer> == kMaxPacketBytes);
  CHECK(kHelloNonceBytes == 16);
  CHECK(kCookieBytes == 16);
  CHECK(kSessionKeyBytes == 16);
  CHECK(kMinHelloPayloadBytes == 32);
  CHECK(kMaxJoinTokenBytes == 256);
  CHECK(kMaxHelloPayloadBytes == 32 + 256);
  CHECK(kWelcomePayloadBytes == 16 + 4 + 2);
  CHECK(kMaxPacketType == 11);
}

TEST_CASE("encodePacket writes the documented big-endian layout", "[wire]") {
  PacketBuffer out;
  std::fill(out.begin(), out.end(), std::byte{0xEE});
  const Bytes payload = bytes({0xAA, 0xBB, 0xCC});

  const std::size_t written = encodePacket(dataHeader(), payload, out);

  REQUIRE(written == kDataPacket.size());
  CHECK(Bytes(out.begin(), out.begin() + written) == kDataPacket);
  // Nothing past the packet is touched.
  CHECK(std::all_of(out.begin() + written, out.end(), [](std::byte b) { return b == std::byte{0xEE}; }));
}

TEST_CASE("encodePacket takes payload_length from the payload, not the header", "[wire]") {
  Header h = dataHeader();
  h.payload_length = 999;
  PacketBuffer out{};
  const std::size_t written = encodePacket(h, bytes({0xAA, 0xBB, 0xCC}), out);
  REQUIRE(written == kHeaderBytes + 3);
  CHECK(out[6] == std::byte{0x00});
  CHECK(out[7] == std::byte{0x03});
}

TEST_CASE("encodePacket writes an untagged packet whatever the header's key fields say", "[wire]") {
  Header h = dataHeader();
  h.key_epoch = 0x51525354;
  h.packet_number = 0x6162636465666768;
  PacketBuffer out;
  std::fill(out.begin(), out.end(), std::byte{0xEE});
  const std::size_t written = encodePacket(h, bytes({0xAA, 0xBB, 0xCC}), out);
  REQUIRE(written == kHeaderBytes + 3);  // no room left for a tag, none written
  CHECK(Bytes(out.begin(), out.begin() + written) == kDataPacket);
  CHECK(std::all_of(out.begin() + written, out.end(), [](std::byte b) { return b == std::byte{0xEE}; }));
}

TEST_CASE("encodePacket writes a header-only packet", "[wire]") {
  Header h;
  h.type = PacketType::kSubscribe;
  h.hop_limit = 1;
  h.stream_id = makeStreamId(7, 1);
  PacketBuffer out{};
  const std::size_t written = encodePacket(h, {}, out);
  REQUIRE(written == kHeaderBytes);
  CHECK(Bytes(out.begin(), out.begin() + written) == kSubscribePacket);
}

TEST_CASE("writeKeyFields writes key_epoch at 36 and packet_number at 40, nothing else", "[wire]") {
  Bytes packet = kDataPacket;
  writeKeyFields(packet, 0x51525354, 0x6162636465666768);
  // The tagged packet minus its tag.
  CHECK(packet == slice(kTaggedDataPacket, 0, kHeaderBytes + 3));
  // With the tag appended it is the tagged packet byte for byte.
  CHECK(concat(packet, kTag) == kTaggedDataPacket);

  writeKeyFields(packet, 0, 0);
  CHECK(packet == kDataPacket);
}

TEST_CASE("parsePacket decodes a hand-written DATA packet", "[wire]") {
  const auto result = parsePacket(kDataPacket);
  REQUIRE(result.ok());
  const PacketView& view = result.value();
  Header expected = dataHeader();
  expected.payload_length = 3;
  CHECK(view.header == expected);
  CHECK(view.header.age_us == 0x41424344u);
  CHECK_FALSE(view.header.tagged());
  REQUIRE(view.payload.size() == 3);
  // The payload is a view into the datagram, not a copy.
  CHECK(view.payload.data() == kDataPacket.data() + kHeaderBytes);
  CHECK(Bytes(view.payload.begin(), view.payload.end()) == bytes({0xAA, 0xBB, 0xCC}));
  // Untagged: no tag, and the authenticated span is the whole datagram.
  CHECK(view.tag.empty());
  CHECK(view.authenticated.data() == kDataPacket.data());
  CHECK(view.authenticated.size() == kDataPacket.size());
}

TEST_CASE("parsePacket decodes a hand-written tagged DATA packet", "[wire]") {
  REQUIRE(kTaggedDataPacket.size() == kHeaderBytes + 3 + kTagBytes);
  const auto result = parsePacket(kTaggedDataPacket);
  REQUIRE(result.ok());
  const PacketView& view = result.value();
  Header expected = dataHeader();
  expected.payload_length = 3;
  expected.key_epoch = 0x51525354;
  expected.packet_number = 0x6162636465666768;
  CHECK(view.header == expected);
  CHECK(view.header.tagged());

  // payload: right after the header, the tag not part of it.
  REQUIRE(view.payload.size() == 3);
  CHECK(view.payload.data() == kTaggedDataPacket.data() + kHeaderBytes);
  CHECK(Bytes(view.payload.begin(), view.payload.end()) == bytes({0xAA, 0xBB, 0xCC}));
  // authenticated: header + payload, what the tag covers.
  CHECK(view.authenticated.data() == kTaggedDataPacket.data());
  CHECK(view.authenticated.size() == kHeaderBytes + 3);
  // tag: the last 16 bytes, a view into the datagram.
  REQUIRE(view.tag.size() == kTagBytes);
  CHECK(view.tag.data() == kTaggedDataPacket.data() + kHeaderBytes + 3);
  CHECK(Bytes(view.tag.begin(), view.tag.end()) == kTag);
}

TEST_CASE("parsePacket decodes a hand-written header-only SUBSCRIBE", "[wire]") {
  const auto result = parsePacket(kSubscribePacket);
  REQUIRE(result.ok());
  const Header& h = result->header;
  CHECK(h.type == PacketType::kSubscribe);
  CHECK(h.flags == 0);
  CHECK(h.hop_limit == 1);
  CHECK(h.payload_length == 0);
  CHECK(h.sender_node_id == kNoNode);
  CHECK(h.stream_id == makeStreamId(7, 1));
  CHECK(streamOrigin(h.stream_id) == 7);
  CHECK(h.sequence == 0);
  CHECK(h.timestamp_us == 0);
  CHECK(h.age_us == 0);
  CHECK(h.key_epoch == 0);
  CHECK(h.packet_number == 0);
  CHECK(result->payload.empty());
  CHECK(result->tag.empty());
  CHECK(result->authenticated.size() == kHeaderBytes);
}

TEST_CASE("parsePacket decodes a hand-written PROBE; its PROBE_ACK is the same size", "[wire]") {
  // PROBE from relay 0x0A0B0C0D, hop_limit 1, probe sequence 0x00000102,
  // prober's monotonic time 0x0000000102030405, untagged.
  const Bytes probe = bytes({
      0x4F, 0x02, 0x02, 0x00, 0x01, 0x00, 0x00, 0x00,  //
      0x0A, 0x0B, 0x0C, 0x0D,                          //
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  //
      0x00, 0x00, 0x01, 0x02,                          //
      0x00, 0x00, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05,  //
      0x00, 0x00, 0x00, 0x00,                          //
      0x00, 0x00, 0x00, 0x00,                          //
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  //
  });
  REQUIRE(probe.size() == 48);
  const auto parsed = parsePacket(probe);
  REQUIRE(parsed.ok());
  CHECK(parsed->header.type == PacketType::kProbe);
  CHECK(parsed->header.sender_node_id == 0x0A0B0C0Du);
  CHECK(parsed->header.sequence == 0x102u);
  CHECK(parsed->header.timestamp_us == 0x0102030405u);

  // The answer echoes sequence and timestamp, names the responder, and is
  // byte for byte as long as the probe.
  Header ack = parsed->header;
  ack.type = PacketType::kProbeAck;
  ack.sender_node_id = 0x01020304;
  PacketBuffer out{};
  const std::size_t written = encodePacket(ack, {}, out);
  CHECK(written == probe.size());
  Bytes expected = probe;
  expected[2] = std::byte{0x03};
  expected[8] = std::byte{0x01};
  expected[9] = std::byte{0x02};
  expected[10] = std::byte{0x03};
  expected[11] = std::byte{0x04};
  CHECK(Bytes(out.begin(), out.begin() + written) == expected);

  // Tagged, both are 48 + 16 bytes.
  const Bytes tagged_probe = withKeyFields(probe, 3, 10);
  const Bytes tagged_ack = withKeyFields(expected, 3, 11);
  CHECK(tagged_probe.size() == 64);
  CHECK(tagged_ack.size() == tagged_probe.size());
  CHECK(parsePacket(tagged_probe).ok());
  CHECK(parsePacket(tagged_ack).ok());
}

TEST_CASE("parsePacket decodes all-ones integer fields without sign or width loss", "[wire]") {
  Bytes packet = headerOnly(1);
  std::fill(packet.begin() + 8, packet.end(), std::byte{0xFF});
  packet[4] = std::byte{0xFF};
  packet = concat(packet, kTag);  // key_epoch 0xFFFFFFFF: a tag follows
  const auto result = parsePacket(packet);
  REQUIRE(result.ok());
  CHECK(result->header.hop_limit == 0xFF);
  CHECK(result->header.sender_node_id == 0xFFFFFFFFu);
  CHECK(result->header.stream_id == 0xFFFFFFFFFFFFFFFFull);
  CHECK(result->header.sequence == 0xFFFFFFFFu);
  CHECK(result->header.timestamp_us == 0xFFFFFFFFFFFFFFFFull);
  CHECK(result->header.age_us == 0xFFFFFFFFu);
  CHECK(result->header.key_epoch == 0xFFFFFFFFu);
  CHECK(result->header.packet_number == 0xFFFFFFFFFFFFFFFFull);
  CHECK(result->tag.size() == kTagBytes);
}

TEST_CASE("every packet type round-trips through encode and parse", "[wire]") {
  for (const PacketType type : kAllTypes) {
    const Bytes payload = roundTripPayload(type);
    CAPTURE(toString(type), payload.size());
    Header h;
    h.type = type;
    h.hop_limit = 9;
    h.sender_node_id = 42;
    h.stream_id = makeStreamId(42, 0xDEADBEEF);
    h.sequence = 77;
    h.timestamp_us = 1'700'000'000'000'000;
    if (type == PacketType::kData) h.age_us = 12'345;
    PacketBuffer out{};
    const std::size_t written = encodePacket(h, payload, out);
    REQUIRE(written == kHeaderBytes + payload.size());
    CHECK(out[2] == static_cast<std::byte>(type));

    const auto result = parsePacket(std::span<const std::byte>(out.data(), written));
    REQUIRE(result.ok());
    h.payload_length = static_cast<std::uint16_t>(payload.size());
    CHECK(result->header == h);
    CHECK(Bytes(result->payload.begin(), result->payload.end()) == payload);
    CHECK(result->tag.empty());

    // The same packet tagged: writeKeyFields and 16 bytes of tag.
    writeKeyFields(std::span(out.data(), written), 0x00010002, 0x0000000300000004);
    std::copy(kTag.begin(), kTag.end(), out.begin() + static_cast<std::ptrdiff_t>(written));
    const auto tagged = parsePacket(std::span<const std::byte>(out.data(), written + kTagBytes));
    REQUIRE(tagged.ok());
    h.key_epoch = 0x00010002;
    h.packet_number = 0x0000000300000004;
    CHECK(tagged->header == h);
    CHECK(Bytes(tagged->payload.begin(), tagged->payload.end()) == payload);
    CHECK(tagged->authenticated.size() == written);
    CHECK(Bytes(tagged->tag.begin(), tagged->tag.end()) == kTag);
  }
}

TEST_CASE("every packet type but CHALLENGE and WELCOME accepts an empty payload", "[wire]") {
  for (const PacketType type : kAllTypes) {
    CAPTURE(toString(type));
    const auto parsed = parsePacket(headerOnly(static_cast<int>(type)));
    if (type == PacketType::kChallenge || type == PacketType::kWelcome) {
      REQUIRE_FALSE(parsed.ok());
      CHECK(parsed.error() == ParseError::kUnexpectedPayload);
    } else {
      CHECK(parsed.ok());
    }
    // minimal() is well-formed for every type.
    CHECK(parsePacket(minimal(type)).ok());
  }
}

TEST_CASE("parsePacket rejects datagrams shorter than the header", "[wire]") {
  CHECK(parseError({}) == ParseError::kTooShort);
  CHECK(parseError(bytes({0x4F})) == ParseError::kTooShort);
  CHECK(parseError(slice(kSubscribePacket, 0, 32)) == ParseError::kTooShort);  // a v1 header's size
  CHECK(parseError(slice(kSubscribePacket, 0, kHeaderBytes - 1)) == ParseError::kTooShort);
}

TEST_CASE("parsePacket rejects a bad magic", "[wire]") {
  for (const int magic : {0x00, 0x4E, 0x50, 0x6F, 0xFF}) {
    Bytes packet = kSubscribePacket;
    packet[0] = static_cast<std::byte>(magic);
    CAPTURE(magic);
    CHECK(parseError(packet) == ParseError::kBadMagic);
  }
}

TEST_CASE("parsePacket rejects any version but 2", "[wire]") {
  for (const int version : {0, 1, 3, 255}) {
    Bytes packet = kSubscribePacket;
    packet[1] = static_cast<std::byte>(version);
    CAPTURE(version);
    CHECK(parseError(packet) == ParseError::kBadVersion);
    CHECK(parseError(withKeyFields(packet, 1, 1)) == ParseError::kBadVersion);
  }
}

TEST_CASE("v1 datagrams are refused, never read as v2", "[wire]") {
  // A v1 header-only SUBSCRIBE (32-byte header): shorter than a v2 header.
  const Bytes v1_subscribe = bytes({
      0x4F, 0x01, 0x04, 0x00, 0x01, 0x00, 0x00, 0x00,  //
      0x00, 0x00, 0x00, 0x00,                          //
      0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00, 0x01,  //
      0x00, 0x00, 0x00, 0x00,                          //
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  //
  });
  CHECK(parseError(v1_subscribe) == ParseError::kTooShort);

  // A v1 DATA with a 16-byte payload is exactly 48 bytes long: refused by its
  // version byte, not read as a v2 header.
  Bytes v1_data = bytes({
      0x4F, 0x01, 0x01, 0x00, 0x10, 0x00, 0x00, 0x10,  // payload_length 16
      0x01, 0x02, 0x03, 0x04,                          //
      0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18,  //
      0x21, 0x22, 0x23, 0x24,                          //
      0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38,  //
  });
  v1_data = concat(v1_data, filled(16, 0x00));
  REQUIRE(v1_data.size() == kHeaderBytes);
  CHECK(parseError(v1_data) == ParseError::kBadVersion);
  // And a longer one.
  v1_data[7] = std::byte{0x64};  // 100
  v1_data = concat(slice(v1_data, 0, 32), filled(100, 0x00));
  CHECK(parseError(v1_data) == ParseError::kBadVersion);
}

TEST_CASE("parsePacket rejects unknown packet types", "[wire]") {
  for (const int type : {0, 12, 13, 0x7F, 0x80, 255}) {
    CAPTURE(type);
    CHECK(parseError(headerOnly(type)) == ParseError::kUnknownType);
    CHECK(parseError(headerOnly(type, 16)) == ParseError::kUnknownType);
  }
  // 9, 10 and 11 are CHALLENGE, WELCOME and ANNOUNCE.
  CHECK(parsePacket(minimal(PacketType::kAnnounce)).ok());
  CHECK(parsePacket(minimal(PacketType::kChallenge)).ok());
  CHECK(parsePacket(minimal(PacketType::kWelcome)).ok());
  CHECK(static_cast<int>(PacketType::kChallenge) == 9);
  CHECK(static_cast<int>(PacketType::kWelcome) == 10);
}

TEST_CASE("parsePacket rejects flag bits not defined in v2 on every type", "[wire]") {
  for (const PacketType type : kAllTypes) {
    for (const int flags : {0x04, 0x80, 0xFC, 0xFF}) {
      Bytes packet = minimal(type);
      packet[3] = static_cast<std::byte>(flags);
      CAPTURE(toString(type), flags);
      CHECK(parseError(packet) == ParseError::kUnknownFlags);
    }
  }
}

TEST_CASE("kFlagRedundant is valid on DATA only", "[wire]") {
  CHECK(kFlagRedundant == 0x01);
  Bytes data = kDataPacket;
  data[3] = std::byte{0x01};
  const auto parsed = parsePacket(data);
  REQUIRE(parsed.ok());
  Header expected = dataHeader();
  expected.flags = kFlagRedundant;
  expected.payload_length = 3;
  CHECK(parsed->header == expected);

  // The encoder writes the flag where the table says, and rewriting the hop
  // fields keeps it.
  PacketBuffer out{};
  const std::size_t written = encodePacket(expected, bytes({0xAA, 0xBB, 0xCC}), out);
  CHECK(Bytes(out.begin(), out.begin() + written) == data);
  rewriteHopFields(std::span(out.data(), written), 9, 3, 500);
  CHECK(out[3] == std::byte{0x01});

  for (const PacketType type : kAllTypes) {
    if (type == PacketType::kData) continue;
    Bytes packet = minimal(type);
    packet[3] = std::byte{kFlagRedundant};
    CAPTURE(toString(type));
    CHECK(parseError(packet) == ParseError::kUnknownFlags);
  }
}

TEST_CASE("parsePacket rejects a non-zero byte 5 on every type but DATA", "[wire]") {
  for (const PacketType type : kAllTypes) {
    if (type == PacketType::kData) continue;
    for (const int reserved : {0x01, 0xFF}) {
      Bytes packet = minimal(type);
      packet[5] = static_cast<std::byte>(reserved);
      CAPTURE(toString(type), reserved);
      CHECK(parseError(packet) == ParseError::kReservedNotZero);
      CHECK(parseError(withKeyFields(packet, 1, 1)) == ParseError::kReservedNotZero);
    }
  }
}

TEST_CASE("DATA carries its latency budget in byte 5", "[wire]") {
  Header header;
  header.type = PacketType::kData;
  header.stream_id = 7;
  header.latency_budget = 40;  // 400 ms
  PacketBuffer out{};
  const std::size_t written = encodePacket(header, bytes({0x01}), out);
  CHECK(out[5] == std::byte{40});
  const auto parsed = parsePacket(std::span(out.data(), written));
  REQUIRE(parsed.ok());
  CHECK(parsed->header.latency_budget == 40);
  CHECK(40 * kLatencyBudgetUnitUs == 400'000);
}

TEST_CASE("age_us is bytes 32..35 of DATA and must be 0 on every other type", "[wire]") {
  // DATA: any value, including the saturated 2^32-1.
  for (const std::uint32_t age : {0u, 1u, 0x41424344u, 0xFFFFFFFFu}) {
    Bytes packet = kDataPacket;
    packet[32] = static_cast<std::byte>(age >> 24);
    packet[33] = static_cast<std::byte>((age >> 16) & 0xff);
    packet[34] = static_cast<std::byte>((age >> 8) & 0xff);
    packet[35] = static_cast<std::byte>(age & 0xff);
    const auto parsed = parsePacket(packet);
    CAPTURE(age);
    REQUIRE(parsed.ok());
    CHECK(parsed->header.age_us == age);
  }

  // Every other type: any non-zero byte of the field is kReservedNotZero,
  // tagged or not.
  for (const PacketType type : kAllTypes) {
    if (type == PacketType::kData) continue;
    for (std::size_t offset = 32; offset < 36; ++offset) {
      Bytes packet = minimal(type);
      packet[offset] = std::byte{0x01};
      CAPTURE(toString(type), offset);
      CHECK(parseError(packet) == ParseError::kReservedNotZero);
      CHECK(parseError(withKeyFields(packet, 1, 1)) == ParseError::kReservedNotZero);
    }
    Bytes packet = minimal(type);
    std::fill(packet.begin() + 32, packet.begin() + 36, std::byte{0xFF});
    CAPTURE(toString(type));
    CHECK(parseError(packet) == ParseError::kReservedNotZero);
  }

  // The encoder writes the field as given (parsePacket is the gatekeeper).
  Header probe;
  probe.type = PacketType::kProbe;
  probe.age_us = 1;
  PacketBuffer out{};
  const std::size_t written = encodePacket(probe, {}, out);
  CHECK(out[35] == std::byte{0x01});
  const auto parsed = parsePacket(std::span<const std::byte>(out.data(), written));
  REQUIRE_FALSE(parsed.ok());
  CHECK(parsed.error() == ParseError::kReservedNotZero);
}

TEST_CASE("setAge writes age_us in place and nothing else", "[wire]") {
  Bytes packet = kDataPacket;
  setAge(packet, 0xFFFFFFFF);
  Bytes expected = kDataPacket;
  std::fill(expected.begin() + 32, expected.begin() + 36, std::byte{0xFF});
  CHECK(packet == expected);
  auto parsed = parsePacket(packet);
  REQUIRE(parsed.ok());
  CHECK(parsed->header.age_us == 0xFFFFFFFFu);

  setAge(packet, 0x00000102);
  expected[32] = std::byte{0x00};
  expected[33] = std::byte{0x00};
  expected[34] = std::byte{0x01};
  expected[35] = std::byte{0x02};
  CHECK(packet == expected);

  // On a tagged packet it leaves the key fields and the tag alone.
  Bytes tagged = kTaggedDataPacket;
  setAge(tagged, 0);
  Bytes tagged_expected = kTaggedDataPacket;
  std::fill(tagged_expected.begin() + 32, tagged_expected.begin() + 36, std::byte{0x00});
  CHECK(tagged == tagged_expected);
  parsed = parsePacket(tagged);
  REQUIRE(parsed.ok());
  CHECK(parsed->header.age_us == 0);
  CHECK(parsed->header.key_epoch == 0x51525354u);
  CHECK(parsed->header.packet_number == 0x6162636465666768ull);
}

TEST_CASE("kFlagRetransmit is valid on DATA only and set or cleared in place", "[wire]") {
  CHECK(kFlagRetransmit == 0x02);
  Header header;
  header.type = PacketType::kData;
  header.flags = kFlagRedundant;
  PacketBuffer out{};
  const std::size_t written = encodePacket(header, bytes({0x01, 0x02}), out);
  const std::span packet(out.data(), written);
  setRetransmitFlag(packet, true);
  auto parsed = parsePacket(packet);
  REQUIRE(parsed.ok());
  CHECK(parsed->header.flags == (kFlagRedundant | kFlagRetransmit));
  setRetransmitFlag(packet, false);
  parsed = parsePacket(packet);
  REQUIRE(parsed.ok());
  CHECK(parsed->header.flags == kFlagRedundant);

  for (const PacketType type : kAllTypes) {
    if (type == PacketType::kData) continue;
    Bytes other = minimal(type);
    other[3] = std::byte{kFlagRetransmit};
    CAPTURE(toString(type));
    CHECK(parseError(other) == ParseError::kUnknownFlags);
  }
}

TEST_CASE("a non-zero key_epoch means exactly 16 bytes of tag after the payload", "[wire]") {
  const Bytes untagged = kDataPacket;
  const Bytes tagged = kTaggedDataPacket;
  REQUIRE(parsePacket(untagged).ok());
  REQUIRE(parsePacket(tagged).ok());

  SECTION("tag missing") {
    CHECK(parseError(slice(tagged, 0, kHeaderBytes + 3)) == ParseError::kLengthMismatch);
  }
  SECTION("tag one byte short") {
    CHECK(parseError(slice(tagged, 0, tagged.size() - 1)) == ParseError::kLengthMismatch);
  }
  SECTION("tag one byte long") {
    CHECK(parseError(concat(tagged, bytes({0x00}))) == ParseError::kLengthMismatch);
  }
  SECTION("two tags") { CHECK(parseError(concat(tagged, kTag)) == ParseError::kLengthMismatch); }
  SECTION("an untagged packet followed by 16 bytes") {
    CHECK(parseError(concat(untagged, kTag)) == ParseError::kLengthMismatch);
  }
  SECTION("header-only, tagged") {
    const Bytes subscribe = withKeyFields(kSubscribePacket, 1, 1);
    REQUIRE(subscribe.size() == kHeaderBytes + kTagBytes);
    const auto parsed = parsePacket(subscribe);
    REQUIRE(parsed.ok());
    CHECK(parsed->payload.empty());
    CHECK(parsed->authenticated.size() == kHeaderBytes);
    CHECK(parsed->tag.data() == subscribe.data() + kHeaderBytes);
    CHECK(parsed->tag.size() == kTagBytes);
    CHECK(parseError(withKeyFields(kSubscribePacket, 1, 1, 0)) == ParseError::kLengthMismatch);
    CHECK(parseError(withKeyFields(kSubscribePacket, 1, 1, 15)) == ParseError::kLengthMismatch);
  }
  SECTION("any non-zero byte of key_epoch asks for the tag") {
    for (std::size_t offset = 36; offset < 40; ++offset) {
      Bytes packet = kSubscribePacket;
      packet[offset] = std::byte{0x01};
      CAPTURE(offset);
      CHECK(parseError(packet) == ParseError::kLengthMismatch);
      const auto parsed = parsePacket(concat(packet, kTag));
      REQUIRE(parsed.ok());
      CHECK(parsed->header.key_epoch == 1u << (8 * (39 - offset)));
    }
  }
  SECTION("key_epoch alone decides: packet_number does not ask for a tag") {
    const Bytes packet = withKeyFields(kSubscribePacket, 0, 0x0102030405060708, 0);
    const auto parsed = parsePacket(packet);
    REQUIRE(parsed.ok());
    CHECK_FALSE(parsed->header.tagged());
    CHECK(parsed->header.packet_number == 0x0102030405060708ull);
    CHECK(parsed->tag.empty());
    CHECK(parseError(concat(packet, kTag)) == ParseError::kLengthMismatch);
  }
}

TEST_CASE("every packet type may be tagged", "[wire]") {
  for (const PacketType type : kAllTypes) {
    const Bytes packet = withKeyFields(minimal(type), 0x00000001, 0x0000000000000001);
    CAPTURE(toString(type));
    const auto parsed = parsePacket(packet);
    REQUIRE(parsed.ok());
    CHECK(parsed->header.type == type);
    CHECK(parsed->header.key_epoch == 1u);
    CHECK(parsed->header.packet_number == 1u);
    CHECK(parsed->payload.size() == smallestPayload(type));
    CHECK(parsed->authenticated.size() == kHeaderBytes + smallestPayload(type));
    CHECK(Bytes(parsed->tag.begin(), parsed->tag.end()) == kTag);
  }
}

TEST_CASE("FEC may carry up to 1300 payload bytes, every other type up to 1200", "[wire]") {
  const int fec = static_cast<int>(PacketType::kFec);
  REQUIRE(parsePacket(headerOnly(fec, kMaxFecPayloadBytes)).ok());
  CHECK(parseError(headerOnly(fec, kMaxFecPayloadBytes + 1)) == ParseError::kPayloadTooLarge);
  CHECK(parseError(headerOnly(static_cast<int>(PacketType::kNack), kMaxPayloadBytes + 1)) ==
        ParseError::kPayloadTooLarge);

  // The largest datagram is a tagged 1300-byte FEC packet: kMaxPacketBytes.
  const Bytes largest = withKeyFields(headerOnly(fec, kMaxFecPayloadBytes), 1, 1);
  CHECK(largest.size() == kMaxPacketBytes);
  CHECK(kMaxPacketBytes == kHeaderBytes + kMaxFecPayloadBytes + kTagBytes);
  const auto parsed = parsePacket(largest);
  REQUIRE(parsed.ok());
  CHECK(parsed->payload.size() == kMaxFecPayloadBytes);
  CHECK(parsed->tag.size() == kTagBytes);
  CHECK(parseError(withKeyFields(headerOnly(fec, kMaxFecPayloadBytes + 1), 1, 1)) == ParseError::kPayloadTooLarge);
}

TEST_CASE("parsePacket accepts a 1200-byte payload and rejects 1201", "[wire]") {
  const auto max = parsePacket(headerOnly(1, kMaxPayloadBytes));
  REQUIRE(max.ok());
  CHECK(max->header.payload_length == 1200);
  CHECK(max->payload.size() == 1200);

  CHECK(parseError(headerOnly(1, kMaxPayloadBytes + 1)) == ParseError::kPayloadTooLarge);

  // The tag does not count toward the payload limit.
  const auto tagged = parsePacket(withKeyFields(headerOnly(1, kMaxPayloadBytes), 1, 1));
  REQUIRE(tagged.ok());
  CHECK(tagged->payload.size() == 1200);
  CHECK(parseError(withKeyFields(headerOnly(1, kMaxPayloadBytes + 1), 1, 1)) == ParseError::kPayloadTooLarge);
}

TEST_CASE("parsePacket rejects payload_length > 1200 whatever the datagram size", "[wire]") {
  Bytes packet = kSubscribePacket;
  packet[2] = std::byte{0x01};
  packet[6] = std::byte{0xFF};
  packet[7] = std::byte{0xFF};
  CHECK(parseError(packet) == ParseError::kPayloadTooLarge);
  CHECK(parseError(withKeyFields(packet, 1, 1)) == ParseError::kPayloadTooLarge);
  packet[6] = std::byte{0x04};
  packet[7] = std::byte{0xB1};  // 1201
  CHECK(parseError(packet) == ParseError::kPayloadTooLarge);
  CHECK(parseError(withKeyFields(packet, 1, 1)) == ParseError::kPayloadTooLarge);
}

TEST_CASE("parsePacket rejects a datagram whose size differs from 48 + payload_length (+16 with a tag)",
          "[wire]") {
  SECTION("longer by one byte") {
    CHECK(parseError(concat(kDataPacket, bytes({0x00}))) == ParseError::kLengthMismatch);
  }
  SECTION("longer by many bytes") {
    CHECK(parseError(concat(kDataPacket, filled(500, 0x00))) == ParseError::kLengthMismatch);
  }
  SECTION("header-only packet with trailing bytes") {
    Bytes packet = headerOnly(1);
    packet.push_back(std::byte{0x00});
    CHECK(parseError(packet) == ParseError::kLengthMismatch);
  }
  SECTION("shorter by one byte") {
    CHECK(parseError(slice(kDataPacket, 0, kDataPacket.size() - 1)) == ParseError::kLengthMismatch);
  }
  SECTION("shorter by many bytes") {
    Bytes packet = headerOnly(1, 100);
    packet.resize(kHeaderBytes + 1);
    CHECK(parseError(packet) == ParseError::kLengthMismatch);
    packet.resize(kHeaderBytes);
    CHECK(parseError(packet) == ParseError::kLengthMismatch);
  }
  SECTION("maximum payload_length on a bare header") {
    Bytes packet = headerOnly(1);
    packet[6] = std::byte{0x04};
    packet[7] = std::byte{0xB0};  // 1200
    CHECK(parseError(packet) == ParseError::kLengthMismatch);
  }
  SECTION("tagged, one byte longer or shorter") {
    CHECK(parseError(concat(kTaggedDataPacket, bytes({0x00}))) == ParseError::kLengthMismatch);
    CHECK(parseError(slice(kTaggedDataPacket, 0, kTaggedDataPacket.size() - 1)) == ParseError::kLengthMismatch);
  }
  SECTION("tagged, the tag read as payload") {
    // payload_length claims the 16 tag bytes as well: then no tag follows.
    Bytes packet = kTaggedDataPacket;
    packet[7] = std::byte{0x13};  // 3 + 16
    CHECK(parseError(packet) == ParseError::kLengthMismatch);
  }
}

TEST_CASE("PROBE, PROBE_ACK, SUBSCRIBE and UNSUBSCRIBE must not carry a payload", "[wire]") {
  for (const PacketType type :
       {PacketType::kProbe, PacketType::kProbeAck, PacketType::kSubscribe, PacketType::kUnsubscribe}) {
    CAPTURE(toString(type));
    CHECK(parseError(headerOnly(static_cast<int>(type), 1)) == ParseError::kUnexpectedPayload);
    CHECK(parseError(headerOnly(static_cast<int>(type), kMaxPayloadBytes)) == ParseError::kUnexpectedPayload);
    CHECK(parseError(withKeyFields(headerOnly(static_cast<int>(type), 16), 1, 1)) ==
          ParseError::kUnexpectedPayload);
  }
}

TEST_CASE("HELLO carries nothing, or nonce | cookie | a join token of at most 256 bytes", "[wire]") {
  // type 8, hop limit 16, payload_length 0x0024 (36): nonce 01..10, an
  // all-zero cookie (first HELLO of a session), token "v2.x".
  const Bytes hello = bytes({
      0x4F, 0x02, 0x08, 0x00, 0x10, 0x00, 0x00, 0x24,  //
      0x00, 0x00, 0x00, 0x00,                          // sender 0: a client
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  //
      0x00, 0x00, 0x00, 0x05,                          // sequence: the client's probe number
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  //
      0x00, 0x00, 0x00, 0x00,                          //
      0x00, 0x00, 0x00, 0x00,                          //
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  //
      0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,  // nonce
      0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x0E, 0x0F, 0x10,  //
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // cookie
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  //
      'v',  '2',  '.',  'x',                           // join token
  });
  const auto parsed = parsePacket(hello);
  REQUIRE(parsed.ok());
  CHECK(parsed->header.type == PacketType::kHello);
  CHECK(parsed->header.sequence == 5);
  CHECK(parsed->header.payload_length == 36);
  REQUIRE(parsed->payload.size() == 36);
  CHECK(parsed->payload[0] == std::byte{0x01});
  CHECK(parsed->payload[kHelloNonceBytes - 1] == std::byte{0x10});
  CHECK(parsed->payload[kMinHelloPayloadBytes] == std::byte{'v'});
  CHECK(parsed->payload[35] == std::byte{'x'});

  // A joined client's keepalive: the same HELLO, tagged under its session key.
  const auto keepalive = parsePacket(withKeyFields(hello, 1, 1));
  REQUIRE(keepalive.ok());
  CHECK(keepalive->payload.size() == 36);
  CHECK(keepalive->tag.size() == kTagBytes);

  const int type = static_cast<int>(PacketType::kHello);
  SECTION("header-only HELLO is valid (an edge's keepalive answer)") { CHECK(parsePacket(headerOnly(type)).ok()); }
  SECTION("fewer than nonce and cookie is unexpected") {
    for (const std::size_t size : {std::size_t{1}, std::size_t{4}, kHelloNonceBytes, kMinHelloPayloadBytes - 1}) {
      CAPTURE(size);
      CHECK(parseError(headerOnly(type, size)) == ParseError::kUnexpectedPayload);
      CHECK(parseError(withKeyFields(headerOnly(type, size), 1, 1)) == ParseError::kUnexpectedPayload);
    }
  }
  SECTION("nonce and cookie without a token is valid") {
    CHECK(parsePacket(headerOnly(type, kMinHelloPayloadBytes)).ok());
  }
  SECTION("a 256-byte token is the limit") {
    CHECK(parsePacket(headerOnly(type, kMinHelloPayloadBytes + kMaxJoinTokenBytes)).ok());
    CHECK(parsePacket(headerOnly(type, kMaxHelloPayloadBytes)).ok());
  }
  SECTION("a 257-byte token is too large") {
    CHECK(parseError(headerOnly(type, kMaxHelloPayloadBytes + 1)) == ParseError::kPayloadTooLarge);
    CHECK(parseError(headerOnly(type, kMaxPayloadBytes)) == ParseError::kPayloadTooLarge);
  }
}

TEST_CASE("CHALLENGE carries exactly the 16-byte cookie", "[wire]") {
  // type 9 from edge 7, hop limit 1, sequence 5 copied from the HELLO,
  // cookie C0..CF.
  const Bytes challenge = bytes({
      0x4F, 0x02, 0x09, 0x00, 0x01, 0x00, 0x00, 0x10,  //
      0x00, 0x00, 0x00, 0x07,                          //
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  //
      0x00, 0x00, 0x00, 0x05,                          //
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  //
      0x00, 0x00, 0x00, 0x00,                          //
      0x00, 0x00, 0x00, 0x00,                          //
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  //
      0xC0, 0xC1, 0xC2, 0xC3, 0xC4, 0xC5, 0xC6, 0xC7,  // cookie
      0xC8, 0xC9, 0xCA, 0xCB, 0xCC, 0xCD, 0xCE, 0xCF,  //
  });
  const auto parsed = parsePacket(challenge);
  REQUIRE(parsed.ok());
  CHECK(parsed->header.type == PacketType::kChallenge);
  CHECK(parsed->header.sender_node_id == 7u);
  CHECK(parsed->header.sequence == 5u);
  REQUIRE(parsed->payload.size() == kCookieBytes);
  CHECK(parsed->payload.front() == std::byte{0xC0});
  CHECK(parsed->payload.back() == std::byte{0xCF});
  CHECK(toString(PacketType::kChallenge) == "challenge");

  const int type = static_cast<int>(PacketType::kChallenge);
  for (const std::size_t size : {std::size_t{0}, std::size_t{15}, std::size_t{17}, std::size_t{22},
                                 std::size_t{32}, kMaxPayloadBytes}) {
    CAPTURE(size);
    CHECK(parseError(headerOnly(type, size)) == ParseError::kUnexpectedPayload);
  }
  CHECK(parseError(headerOnly(type, kMaxPayloadBytes + 1)) == ParseError::kPayloadTooLarge);
  // Smaller than any HELLO with a nonce it answers: no amplification.
  CHECK(challenge.size() < kHeaderBytes + kMinHelloPayloadBytes);
}

TEST_CASE("WELCOME carries exactly session key | IPv4 address | port", "[wire]") {
  // type 10 from edge 7, sequence 6 copied, session key A0..AF, the client's
  // reflexive address 192.0.2.10 port 40000 (0x9C40).
  const Bytes welcome = bytes({
      0x4F, 0x02, 0x0A, 0x00, 0x01, 0x00, 0x00, 0x16,  //
      0x00, 0x00, 0x00, 0x07,                          //
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  //
      0x00, 0x00, 0x00, 0x06,                          //
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  //
      0x00, 0x00, 0x00, 0x00,                          //
      0x00, 0x00, 0x00, 0x00,                          //
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  //
      0xA0, 0xA1, 0xA2, 0xA3, 0xA4, 0xA5, 0xA6, 0xA7,  // session key
      0xA8, 0xA9, 0xAA, 0xAB, 0xAC, 0xAD, 0xAE, 0xAF,  //
      0xC0, 0x00, 0x02, 0x0A,                          // 192.0.2.10
      0x9C, 0x40,                                      // 40000
  });
  const auto parsed = parsePacket(welcome);
  REQUIRE(parsed.ok());
  CHECK(parsed->header.type == PacketType::kWelcome);
  CHECK(parsed->header.sender_node_id == 7u);
  CHECK(parsed->header.sequence == 6u);
  REQUIRE(parsed->payload.size() == kWelcomePayloadBytes);
  CHECK(parsed->payload[0] == std::byte{0xA0});
  CHECK(parsed->payload[kSessionKeyBytes - 1] == std::byte{0xAF});
  CHECK(Bytes(parsed->payload.begin() + kSessionKeyBytes, parsed->payload.end()) ==
        bytes({0xC0, 0x00, 0x02, 0x0A, 0x9C, 0x40}));
  CHECK(toString(PacketType::kWelcome) == "welcome");

  const int type = static_cast<int>(PacketType::kWelcome);
  for (const std::size_t size : {std::size_t{0}, std::size_t{16}, std::size_t{21}, std::size_t{23},
                                 std::size_t{32}, kMaxPayloadBytes}) {
    CAPTURE(size);
    CHECK(parseError(headerOnly(type, size)) == ParseError::kUnexpectedPayload);
  }
  CHECK(parseError(headerOnly(type, kMaxPayloadBytes + 1)) == ParseError::kPayloadTooLarge);
  // Smaller than the HELLO (with nonce and cookie) it answers.
  CHECK(welcome.size() < kHeaderBytes + kMinHelloPayloadBytes);
}

TEST_CASE("rewriteHopFields changes only hop_limit, sender_node_id and age_us", "[wire]") {
  Bytes packet = kDataPacket;
  rewriteHopFields(packet, 0xA1B2C3D4, 7, 0x0A0B0C0D);

  Bytes expected = kDataPacket;
  expected[4] = std::byte{0x07};
  expected[8] = std::byte{0xA1};
  expected[9] = std::byte{0xB2};
  expected[10] = std::byte{0xC3};
  expected[11] = std::byte{0xD4};
  expected[32] = std::byte{0x0A};
  expected[33] = std::byte{0x0B};
  expected[34] = std::byte{0x0C};
  expected[35] = std::byte{0x0D};
  CHECK(packet == expected);

  const auto result = parsePacket(packet);
  REQUIRE(result.ok());
  Header want = dataHeader();
  want.payload_length = 3;
  want.hop_limit = 7;
  want.sender_node_id = 0xA1B2C3D4;
  want.age_us = 0x0A0B0C0D;
  CHECK(result->header == want);
}

TEST_CASE("rewriteHopFields makes a tagged packet untagged", "[wire]") {
  // The relay forwards header + payload; the received tag is not part of it.
  Bytes forwarded = slice(kTaggedDataPacket, 0, kHeaderBytes + 3);
  rewriteHopFields(forwarded, 0xA1B2C3D4, 7, 0x00000FA0);

  Bytes expected = kDataPacket;  // key_epoch and packet_number 0
  expected[4] = std::byte{0x07};
  expected[8] = std::byte{0xA1};
  expected[9] = std::byte{0xB2};
  expected[10] = std::byte{0xC3};
  expected[11] = std::byte{0xD4};
  expected[32] = std::byte{0x00};
  expected[33] = std::byte{0x00};
  expected[34] = std::byte{0x0F};
  expected[35] = std::byte{0xA0};
  CHECK(forwarded == expected);

  const auto result = parsePacket(forwarded);
  REQUIRE(result.ok());
  CHECK_FALSE(result->header.tagged());
  CHECK(result->header.key_epoch == 0);
  CHECK(result->header.packet_number == 0);
  CHECK(result->header.age_us == 4000u);
  CHECK(result->tag.empty());
}

TEST_CASE("rewriteHopFields works on a header-only packet", "[wire]") {
  Bytes packet = withKeyFields(kSubscribePacket, 9, 9, 0);
  rewriteHopFields(packet, 5, 0, 0);
  const auto result = parsePacket(packet);
  REQUIRE(result.ok());
  CHECK(result->header.sender_node_id == 5);
  CHECK(result->header.hop_limit == 0);
  CHECK(result->header.stream_id == makeStreamId(7, 1));
  CHECK(result->header.age_us == 0);
  CHECK(result->header.key_epoch == 0);
  CHECK(result->header.packet_number == 0);
}

TEST_CASE("every ParseError has a distinct snake_case name", "[wire]") {
  std::set<std::string_view> names;
  for (std::size_t i = 0; i < kParseErrorCount; ++i) {
    const std::string_view name = toString(static_cast<ParseError>(i));
    CAPTURE(i, name);
    CHECK(!name.empty());
    CHECK(name != "unknown");
    CHECK(std::all_of(name.begin(), name.end(), [](char c) { return (c >= 'a' && c <= 'z') || c == '_'; }));
    names.insert(name);
  }
  CHECK(names.size() == kParseErrorCount);
  CHECK(toString(ParseError::kTooShort) == "too_short");
  CHECK(toString(ParseError::kBadVersion) == "bad_version");
  CHECK(toString(ParseError::kReservedNotZero) == "reserved_not_zero");
  CHECK(toString(ParseError::kUnexpectedPayload) == "unexpected_payload");
}

TEST_CASE("every PacketType has a distinct name", "[wire]") {
  std::set<std::string_view> names;
  for (const PacketType type : kAllTypes) {
    const std::string_view name = toString(type);
    CHECK(name != "unknown");
    names.insert(name);
  }
  CHECK(names.size() == kAllTypes.size());
  CHECK(kAllTypes.size() == kMaxPacketType);
}

}  // namespace
}  // namespace overline::wire
