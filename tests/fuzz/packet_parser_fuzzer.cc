// libFuzzer target for wire::parsePacket (wire v2). Arbitrary bytes must never
// crash the parser, and every datagram it accepts must satisfy the codec's
// contract: the payload lies inside the input right after the 48-byte header,
// the size is exactly header + payload_length (+ the 16-byte tag when
// key_epoch != 0), the authenticated span is header + payload and the tag
// span the rest, each type's payload and reserved-field rules hold, and
// re-encoding the parsed packet (encodePacket, then writeKeyFields and the
// tag) reproduces the input byte for byte (so nothing is silently ignored or
// normalised). The in-place writers (rewriteHopFields, setAge,
// setRetransmitFlag, writeKeyFields) must keep an accepted packet valid and
// change only their fields.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>

#include "common/wire/packet.h"

namespace {

namespace wire = overline::wire;
using wire::kHeaderBytes;
using wire::kTagBytes;
using wire::PacketType;

// abort() rather than assert(): the check must hold in every build type.
void require(bool condition) {
  if (!condition) std::abort();
}

bool carriesNoPayload(PacketType type) {
  return type == PacketType::kProbe || type == PacketType::kProbeAck || type == PacketType::kSubscribe ||
         type == PacketType::kUnsubscribe;
}

// The payload rules of packet.h, restated independently of packet.cc.
bool payloadSizeValid(PacketType type, std::size_t size) {
  if (carriesNoPayload(type)) return size == 0;
  switch (type) {
    case PacketType::kHello:
      return size == 0 || (size >= wire::kMinHelloPayloadBytes && size <= wire::kMaxHelloPayloadBytes);
    case PacketType::kChallenge: return size == wire::kCookieBytes;
    case PacketType::kWelcome: return size == wire::kWelcomePayloadBytes;
    case PacketType::kFec: return size <= wire::kMaxFecPayloadBytes;
    default: return size <= wire::kMaxPayloadBytes;
  }
}

// Parses `packet`, which must be accepted with exactly `expected` as header.
void requireParsesAs(std::span<const std::byte> packet, const wire::Header& expected) {
  const auto reparsed = wire::parsePacket(packet);
  require(reparsed.ok());
  require(reparsed->header == expected);
}

void checkAccepted(std::span<const std::byte> input, const wire::PacketView& view) {
  const auto& header = view.header;
  const bool tagged = header.key_epoch != 0;
  require(header.tagged() == tagged);
  const std::size_t body_bytes = kHeaderBytes + header.payload_length;  // header + payload
  const std::size_t tag_bytes = tagged ? kTagBytes : 0;

  // Spans: payload right after the header, authenticated = header + payload,
  // tag = exactly the 16 bytes after the payload when tagged, else empty.
  require(input.size() == body_bytes + tag_bytes);
  require(input.size() <= wire::kMaxPacketBytes);
  require(view.payload.size() == header.payload_length);
  require(view.payload.data() == input.data() + kHeaderBytes);
  require(view.authenticated.data() == input.data());
  require(view.authenticated.size() == body_bytes);
  require(view.tag.size() == tag_bytes);
  if (tagged) require(view.tag.data() == input.data() + body_bytes);

  // Form rules: a known version and type, the type's payload size, and the
  // fields only DATA may use: flags (kFlagRedundant, kFlagRetransmit), the
  // latency budget and age_us.
  require(std::to_integer<std::uint8_t>(input[1]) == wire::kVersion);
  const auto type_raw = static_cast<std::uint8_t>(header.type);
  require(type_raw >= 1 && type_raw <= wire::kMaxPacketType);
  require(wire::toString(header.type) != "unknown");
  require(payloadSizeValid(header.type, view.payload.size()));
  require((header.flags & ~wire::kKnownFlags) == 0);
  require((header.flags == 0 && header.latency_budget == 0 && header.age_us == 0) ||
          header.type == PacketType::kData);

  // Re-encoding reproduces the input byte for byte. encodePacket alone writes
  // the untagged packet (key fields 0), which must be valid too.
  wire::PacketBuffer encoded;
  std::fill(encoded.begin(), encoded.end(), std::byte{0xA5});
  const std::size_t written = wire::encodePacket(header, view.payload, encoded);
  require(written == body_bytes);
  const std::span<std::byte> body(encoded.data(), written);
  auto untagged = header;
  untagged.key_epoch = 0;
  untagged.packet_number = 0;
  requireParsesAs(body, untagged);
  wire::writeKeyFields(body, header.key_epoch, header.packet_number);
  if (tagged) std::memcpy(encoded.data() + written, view.tag.data(), kTagBytes);
  require(std::memcmp(encoded.data(), input.data(), input.size()) == 0);
  requireParsesAs(std::span<const std::byte>(encoded.data(), input.size()), header);

  // Rewriting the per-hop fields of header + payload keeps the packet valid,
  // makes it untagged and changes nothing else. Only DATA may carry an age.
  const overline::NodeId new_sender = header.sender_node_id ^ 0x5A5A5A5Au;
  const auto new_hop_limit = static_cast<std::uint8_t>(header.hop_limit + 1);
  const std::uint32_t new_age = header.type == PacketType::kData ? header.age_us ^ 0x00C0FFEEu : 0;
  wire::rewriteHopFields(body, new_sender, new_hop_limit, new_age);
  auto expected = untagged;
  expected.sender_node_id = new_sender;
  expected.hop_limit = new_hop_limit;
  expected.age_us = new_age;
  requireParsesAs(body, expected);

  if (header.type == PacketType::kData) {
    // setAge and setRetransmitFlag change only their field.
    const std::uint32_t saturated = 0xFFFFFFFFu;
    wire::setAge(body, saturated);
    expected.age_us = saturated;
    requireParsesAs(body, expected);
    const bool retransmit = (header.flags & wire::kFlagRetransmit) == 0;
    wire::setRetransmitFlag(body, retransmit);
    expected.flags = static_cast<std::uint8_t>(retransmit ? (header.flags | wire::kFlagRetransmit)
                                                          : (header.flags & ~wire::kFlagRetransmit));
    requireParsesAs(body, expected);
  }

  // Any packet may be tagged: key fields and 16 bytes after the payload.
  const std::uint32_t new_epoch = header.key_epoch + 1 == 0 ? 1 : header.key_epoch + 1;
  const std::uint64_t new_packet_number = ~header.packet_number;
  wire::writeKeyFields(body, new_epoch, new_packet_number);
  expected.key_epoch = new_epoch;
  expected.packet_number = new_packet_number;
  const std::span<const std::byte> retagged(encoded.data(), written + kTagBytes);
  requireParsesAs(retagged, expected);
  // Without its tag that packet is malformed, never read as untagged.
  const auto truncated = wire::parsePacket(body);
  require(!truncated.ok() && truncated.error() == wire::ParseError::kLengthMismatch);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::byte> input(reinterpret_cast<const std::byte*>(data), size);
  const auto result = wire::parsePacket(input);
  if (result.ok()) {
    checkAccepted(input, result.value());
  } else {
    const wire::ParseError error = result.error();
    require(static_cast<std::size_t>(error) < wire::kParseErrorCount);
    require(wire::toString(error) != "unknown");
    require((size < kHeaderBytes) == (error == wire::ParseError::kTooShort));
    // Magic and version are checked right after the length: a v1 (or any
    // other version's) datagram of at least 48 bytes is always kBadVersion.
    if (size >= kHeaderBytes) {
      const bool magic_ok = std::to_integer<std::uint8_t>(input[0]) == wire::kMagic;
      require(magic_ok == (error != wire::ParseError::kBadMagic));
      if (magic_ok) {
        const bool version_ok = std::to_integer<std::uint8_t>(input[1]) == wire::kVersion;
        require(version_ok == (error != wire::ParseError::kBadVersion));
      }
    }
  }
  return 0;
}
