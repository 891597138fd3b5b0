// Byte-level tests of the v1 wire codec: the expected arrays below are written
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

// DATA, hop_limit 16, payload AA BB CC, sender 0x01020304,
// stream 0x1112131415161718, sequence 0x21222324, timestamp 0x3132333435363738.
const Bytes kDataPacket = bytes({
    0x4F, 0x01, 0x01, 0x00, 0x10, 0x00, 0x00, 0x03,  // magic version type flags hop rsvd len
    0x01, 0x02, 0x03, 0x04,                          // sender_node_id
    0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18,  // stream_id
    0x21, 0x22, 0x23, 0x24,                          // sequence
    0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38,  // timestamp_us
    0xAA, 0xBB, 0xCC,                                // payload
});

// Header-only SUBSCRIBE from an SDK client (sender 0), hop_limit 1,
// stream 0x00000007_00000001, sequence and timestamp 0.
const Bytes kSubscribePacket = bytes({
    0x4F, 0x01, 0x04, 0x00, 0x01, 0x00, 0x00, 0x00,  //
    0x00, 0x00, 0x00, 0x00,                          //
    0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00, 0x01,  //
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

ParseError parseError(const Bytes& datagram) {
  const auto result = parsePacket(datagram);
  REQUIRE_FALSE(result.ok());
  return result.error();
}

const std::vector<PacketType> kAllTypes = {
    PacketType::kData,        PacketType::kProbe, PacketType::kProbeAck, PacketType::kSubscribe,
    PacketType::kUnsubscribe, PacketType::kNack,  PacketType::kFec,      PacketType::kHello,
};

bool carriesNoPayload(PacketType type) {
  return type == PacketType::kProbe || type == PacketType::kProbeAck || type == PacketType::kSubscribe ||
         type == PacketType::kUnsubscribe;
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

TEST_CASE("parsePacket decodes a hand-written DATA packet", "[wire]") {
  const auto result = parsePacket(kDataPacket);
  REQUIRE(result.ok());
  const PacketView& view = result.value();
  Header expected = dataHeader();
  expected.payload_length = 3;
  CHECK(view.header == expected);
  REQUIRE(view.payload.size() == 3);
  // The payload is a view into the datagram, not a copy.
  CHECK(view.payload.data() == kDataPacket.data() + kHeaderBytes);
  CHECK(Bytes(view.payload.begin(), view.payload.end()) == bytes({0xAA, 0xBB, 0xCC}));
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
  CHECK(result->payload.empty());
}

TEST_CASE("parsePacket decodes a hand-written PROBE; its PROBE_ACK is the same size", "[wire]") {
  // PROBE from relay 0x0A0B0C0D, hop_limit 1, probe sequence 0x00000102,
  // prober's monotonic time 0x0000000102030405.
  const Bytes probe = bytes({
      0x4F, 0x01, 0x02, 0x00, 0x01, 0x00, 0x00, 0x00,  //
      0x0A, 0x0B, 0x0C, 0x0D,                          //
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  //
      0x00, 0x00, 0x01, 0x02,                          //
      0x00, 0x00, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05,  //
  });
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
}

TEST_CASE("parsePacket decodes all-ones integer fields without sign or width loss", "[wire]") {
  Bytes packet = headerOnly(1);
  std::fill(packet.begin() + 8, packet.end(), std::byte{0xFF});
  packet[4] = std::byte{0xFF};
  const auto result = parsePacket(packet);
  REQUIRE(result.ok());
  CHECK(result->header.hop_limit == 0xFF);
  CHECK(result->header.sender_node_id == 0xFFFFFFFFu);
  CHECK(result->header.stream_id == 0xFFFFFFFFFFFFFFFFull);
  CHECK(result->header.sequence == 0xFFFFFFFFu);
  CHECK(result->header.timestamp_us == 0xFFFFFFFFFFFFFFFFull);
}

TEST_CASE("every packet type round-trips through encode and parse", "[wire]") {
  for (const PacketType type : kAllTypes) {
    const Bytes payload = carriesNoPayload(type) ? Bytes{} : bytes({1, 2, 3, 4, 5});
    CAPTURE(toString(type));
    Header h;
    h.type = type;
    h.hop_limit = 9;
    h.sender_node_id = 42;
    h.stream_id = makeStreamId(42, 0xDEADBEEF);
    h.sequence = 77;
    h.timestamp_us = 1'700'000'000'000'000;
    PacketBuffer out{};
    const std::size_t written = encodePacket(h, payload, out);
    REQUIRE(written == kHeaderBytes + payload.size());
    CHECK(out[2] == static_cast<std::byte>(type));

    const auto result = parsePacket(std::span<const std::byte>(out.data(), written));
    REQUIRE(result.ok());
    h.payload_length = static_cast<std::uint16_t>(payload.size());
    CHECK(result->header == h);
    CHECK(Bytes(result->payload.begin(), result->payload.end()) == payload);
  }
}

TEST_CASE("every packet type accepts an empty payload", "[wire]") {
  for (const PacketType type : kAllTypes) {
    CAPTURE(toString(type));
    CHECK(parsePacket(headerOnly(static_cast<int>(type))).ok());
  }
}

TEST_CASE("parsePacket rejects datagrams shorter than the header", "[wire]") {
  CHECK(parseError({}) == ParseError::kTooShort);
  CHECK(parseError(bytes({0x4F})) == ParseError::kTooShort);
  CHECK(parseError(Bytes(kSubscribePacket.begin(), kSubscribePacket.end() - 1)) == ParseError::kTooShort);
}

TEST_CASE("parsePacket rejects a bad magic", "[wire]") {
  for (const int magic : {0x00, 0x4E, 0x50, 0x6F, 0xFF}) {
    Bytes packet = kSubscribePacket;
    packet[0] = static_cast<std::byte>(magic);
    CAPTURE(magic);
    CHECK(parseError(packet) == ParseError::kBadMagic);
  }
}

TEST_CASE("parsePacket rejects any version but 1", "[wire]") {
  for (const int version : {0, 2, 255}) {
    Bytes packet = kSubscribePacket;
    packet[1] = static_cast<std::byte>(version);
    CAPTURE(version);
    CHECK(parseError(packet) == ParseError::kBadVersion);
  }
}

TEST_CASE("parsePacket rejects unknown packet types", "[wire]") {
  for (const int type : {0, 9, 255}) {
    CAPTURE(type);
    CHECK(parseError(headerOnly(type)) == ParseError::kUnknownType);
  }
}

TEST_CASE("parsePacket rejects flag bits not defined in v1 on every type", "[wire]") {
  for (const PacketType type : kAllTypes) {
    for (const int flags : {0x04, 0x80, 0xFC, 0xFF}) {
      Bytes packet = headerOnly(static_cast<int>(type));
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
  rewriteHopFields(std::span(out.data(), written), 9, 3);
  CHECK(out[3] == std::byte{0x01});

  for (const PacketType type : kAllTypes) {
    if (type == PacketType::kData) continue;
    Bytes packet = headerOnly(static_cast<int>(type));
    packet[3] = std::byte{kFlagRedundant};
    CAPTURE(toString(type));
    CHECK(parseError(packet) == ParseError::kUnknownFlags);
  }
}

TEST_CASE("parsePacket rejects a non-zero byte 5 on every type but DATA", "[wire]") {
  for (const PacketType type : kAllTypes) {
    if (type == PacketType::kData) continue;
    for (const int reserved : {0x01, 0xFF}) {
      Bytes packet = headerOnly(static_cast<int>(type));
      packet[5] = static_cast<std::byte>(reserved);
      CAPTURE(toString(type), reserved);
      CHECK(parseError(packet) == ParseError::kReservedNotZero);
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
    Bytes other = headerOnly(static_cast<int>(type));
    other[3] = std::byte{kFlagRetransmit};
    CAPTURE(toString(type));
    CHECK(parseError(other) == ParseError::kUnknownFlags);
  }
}

TEST_CASE("FEC may carry up to 1300 payload bytes, every other type up to 1200", "[wire]") {
  const int fec = static_cast<int>(PacketType::kFec);
  REQUIRE(parsePacket(headerOnly(fec, kMaxFecPayloadBytes)).ok());
  CHECK(parseError(headerOnly(fec, kMaxFecPayloadBytes + 1)) == ParseError::kPayloadTooLarge);
  CHECK(parseError(headerOnly(static_cast<int>(PacketType::kNack), kMaxPayloadBytes + 1)) ==
        ParseError::kPayloadTooLarge);
  CHECK(kMaxPacketBytes == kHeaderBytes + kMaxFecPayloadBytes);
}

TEST_CASE("parsePacket accepts a 1200-byte payload and rejects 1201", "[wire]") {
  const auto max = parsePacket(headerOnly(1, kMaxPayloadBytes));
  REQUIRE(max.ok());
  CHECK(max->header.payload_length == 1200);
  CHECK(max->payload.size() == 1200);

  CHECK(parseError(headerOnly(1, kMaxPayloadBytes + 1)) == ParseError::kPayloadTooLarge);
}

TEST_CASE("parsePacket rejects payload_length > 1200 whatever the datagram size", "[wire]") {
  Bytes packet = kSubscribePacket;
  packet[2] = std::byte{0x01};
  packet[6] = std::byte{0xFF};
  packet[7] = std::byte{0xFF};
  CHECK(parseError(packet) == ParseError::kPayloadTooLarge);
  packet[6] = std::byte{0x04};
  packet[7] = std::byte{0xB1};  // 1201
  CHECK(parseError(packet) == ParseError::kPayloadTooLarge);
}

TEST_CASE("parsePacket rejects a datagram whose size differs from 32 + payload_length", "[wire]") {
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
    CHECK(parseError(Bytes(kDataPacket.begin(), kDataPacket.end() - 1)) == ParseError::kLengthMismatch);
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
}

TEST_CASE("PROBE, PROBE_ACK, SUBSCRIBE and UNSUBSCRIBE must not carry a payload", "[wire]") {
  for (const PacketType type :
       {PacketType::kProbe, PacketType::kProbeAck, PacketType::kSubscribe, PacketType::kUnsubscribe}) {
    CAPTURE(toString(type));
    CHECK(parseError(headerOnly(static_cast<int>(type), 1)) == ParseError::kUnexpectedPayload);
    CHECK(parseError(headerOnly(static_cast<int>(type), kMaxPayloadBytes)) == ParseError::kUnexpectedPayload);
  }
}

TEST_CASE("HELLO carries a join token of at most kMaxHelloPayloadBytes", "[wire]") {
  // type 8, hop limit 16, payload_length 0x0004, "v1.x" after the header.
  const Bytes hello = bytes({0x4F, 0x01, 0x08, 0x00, 0x10, 0x00, 0x00, 0x04, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                             0,    0,    0,    0,    0,    0,    0,    0,    0, 0, 0, 0, 'v', '1', '.', 'x'});
  const auto parsed = parsePacket(hello);
  REQUIRE(parsed.ok());
  CHECK(parsed->header.type == PacketType::kHello);
  CHECK(parsed->header.payload_length == 4);
  CHECK(parsed->payload.size() == 4);
  CHECK(parsed->payload[0] == std::byte{'v'});

  SECTION("header-only HELLO (no token) is valid") { CHECK(parsePacket(headerOnly(8)).ok()); }
  SECTION("256 bytes is the limit") {
    CHECK(parsePacket(headerOnly(8, kMaxHelloPayloadBytes)).ok());
  }
  SECTION("257 bytes is too large") {
    CHECK(parseError(headerOnly(8, kMaxHelloPayloadBytes + 1)) == ParseError::kPayloadTooLarge);
  }
}

TEST_CASE("rewriteHopFields changes only hop_limit and sender_node_id", "[wire]") {
  Bytes packet = kDataPacket;
  rewriteHopFields(packet, 0xA1B2C3D4, 7);

  Bytes expected = kDataPacket;
  expected[4] = std::byte{0x07};
  expected[8] = std::byte{0xA1};
  expected[9] = std::byte{0xB2};
  expected[10] = std::byte{0xC3};
  expected[11] = std::byte{0xD4};
  CHECK(packet == expected);

  const auto result = parsePacket(packet);
  REQUIRE(result.ok());
  Header want = dataHeader();
  want.payload_length = 3;
  want.hop_limit = 7;
  want.sender_node_id = 0xA1B2C3D4;
  CHECK(result->header == want);
}

TEST_CASE("rewriteHopFields works on a header-only packet", "[wire]") {
  Bytes packet = kSubscribePacket;
  rewriteHopFields(packet, 5, 0);
  const auto result = parsePacket(packet);
  REQUIRE(result.ok());
  CHECK(result->header.sender_node_id == 5);
  CHECK(result->header.hop_limit == 0);
  CHECK(result->header.stream_id == makeStreamId(7, 1));
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
