#include "common/wire/packet.h"

#include <cstring>

#include "common/check/invariant.h"
#include "common/wire/byte_order.h"

namespace overline::wire {
namespace {

constexpr std::size_t kOffMagic = 0;
constexpr std::size_t kOffVersion = 1;
constexpr std::size_t kOffType = 2;
constexpr std::size_t kOffFlags = 3;
constexpr std::size_t kOffHopLimit = 4;
constexpr std::size_t kOffLatencyBudget = 5;  // reserved on every type but DATA
constexpr std::size_t kOffPayloadLength = 6;
constexpr std::size_t kOffSender = 8;
constexpr std::size_t kOffStream = 12;
constexpr std::size_t kOffSequence = 20;
constexpr std::size_t kOffTimestamp = 24;
constexpr std::size_t kOffAge = 32;  // DATA only
constexpr std::size_t kOffKeyEpoch = 36;
constexpr std::size_t kOffPacketNumber = 40;
static_assert(kOffPacketNumber + 8 == kHeaderBytes);

bool carriesNoPayload(PacketType type) {
  return type == PacketType::kProbe || type == PacketType::kProbeAck || type == PacketType::kSubscribe ||
         type == PacketType::kUnsubscribe;
}

// Payload sizes the join packets must have (see "Client join").
bool joinPayloadValid(PacketType type, std::size_t payload_length) {
  switch (type) {
    case PacketType::kHello: return payload_length == 0 || payload_length >= kMinHelloPayloadBytes;
    case PacketType::kChallenge: return payload_length == kCookieBytes;
    case PacketType::kWelcome: return payload_length == kWelcomePayloadBytes;
    default: return true;
  }
}

bool flagsValidFor(PacketType type, std::uint8_t flags) {
  if ((flags & ~kKnownFlags) != 0) return false;
  return flags == 0 || type == PacketType::kData;
}

}  // namespace

std::string_view toString(ParseError error) {
  switch (error) {
    case ParseError::kTooShort: return "too_short";
    case ParseError::kBadMagic: return "bad_magic";
    case ParseError::kBadVersion: return "bad_version";
    case ParseError::kUnknownType: return "unknown_type";
    case ParseError::kUnknownFlags: return "unknown_flags";
    case ParseError::kReservedNotZero: return "reserved_not_zero";
    case ParseError::kPayloadTooLarge: return "payload_too_large";
    case ParseError::kLengthMismatch: return "length_mismatch";
    case ParseError::kUnexpectedPayload: return "unexpected_payload";
  }
  return "unknown";
}

std::string_view toString(PacketType type) {
  switch (type) {
    case PacketType::kData: return "data";
    case PacketType::kProbe: return "probe";
    case PacketType::kProbeAck: return "probe_ack";
    case PacketType::kSubscribe: return "subscribe";
    case PacketType::kUnsubscribe: return "unsubscribe";
    case PacketType::kNack: return "nack";
    case PacketType::kFec: return "fec";
    case PacketType::kHello: return "hello";
    case PacketType::kChallenge: return "challenge";
    case PacketType::kWelcome: return "welcome";
    case PacketType::kAnnounce: return "announce";
  }
  return "unknown";
}

Result<PacketView, ParseError> parsePacket(std::span<const std::byte> datagram) {
  if (datagram.size() < kHeaderBytes) return Err{ParseError::kTooShort};
  if (std::to_integer<std::uint8_t>(datagram[kOffMagic]) != kMagic) return Err{ParseError::kBadMagic};
  if (std::to_integer<std::uint8_t>(datagram[kOffVersion]) != kVersion) {
    return Err{ParseError::kBadVersion};
  }
  const auto type_raw = std::to_integer<std::uint8_t>(datagram[kOffType]);
  if (type_raw == 0 || type_raw > kMaxPacketType) return Err{ParseError::kUnknownType};
  const auto type = static_cast<PacketType>(type_raw);
  const auto flags = std::to_integer<std::uint8_t>(datagram[kOffFlags]);
  if (!flagsValidFor(type, flags)) return Err{ParseError::kUnknownFlags};
  const auto latency_budget = std::to_integer<std::uint8_t>(datagram[kOffLatencyBudget]);
  const auto age_us = readBigEndian<std::uint32_t>(datagram, kOffAge);
  if ((latency_budget != 0 || age_us != 0) && type != PacketType::kData) return Err{ParseError::kReservedNotZero};
  const auto payload_length = readBigEndian<std::uint16_t>(datagram, kOffPayloadLength);
  const std::size_t max_payload_bytes = type == PacketType::kHello ? kMaxHelloPayloadBytes
                                        : type == PacketType::kFec ? kMaxFecPayloadBytes
                                                                   : kMaxPayloadBytes;
  if (payload_length > max_payload_bytes) return Err{ParseError::kPayloadTooLarge};
  const auto key_epoch = readBigEndian<std::uint32_t>(datagram, kOffKeyEpoch);
  const std::size_t tag_bytes = key_epoch != 0 ? kTagBytes : 0;
  if (datagram.size() != kHeaderBytes + payload_length + tag_bytes) return Err{ParseError::kLengthMismatch};
  if (carriesNoPayload(type) && payload_length != 0) return Err{ParseError::kUnexpectedPayload};
  if (!joinPayloadValid(type, payload_length)) return Err{ParseError::kUnexpectedPayload};

  PacketView view;
  view.header.type = type;
  view.header.flags = flags;
  view.header.hop_limit = std::to_integer<std::uint8_t>(datagram[kOffHopLimit]);
  view.header.latency_budget = latency_budget;
  view.header.payload_length = payload_length;
  view.header.sender_node_id = readBigEndian<std::uint32_t>(datagram, kOffSender);
  view.header.stream_id = readBigEndian<std::uint64_t>(datagram, kOffStream);
  view.header.sequence = readBigEndian<std::uint32_t>(datagram, kOffSequence);
  view.header.timestamp_us = readBigEndian<std::uint64_t>(datagram, kOffTimestamp);
  view.header.age_us = age_us;
  view.header.key_epoch = key_epoch;
  view.header.packet_number = readBigEndian<std::uint64_t>(datagram, kOffPacketNumber);
  view.payload = datagram.subspan(kHeaderBytes, payload_length);
  view.authenticated = datagram.first(kHeaderBytes + payload_length);
  view.tag = datagram.subspan(kHeaderBytes + payload_length, tag_bytes);
  return view;
}

std::size_t encodePacket(const Header& header, std::span<const std::byte> payload,
                         std::span<std::byte> out) {
  // Release: a caller bug writes nothing and returns 0 (an empty packet).
  if (!OVERLINE_INVARIANT(payload.size() <= kMaxFecPayloadBytes) ||
      !OVERLINE_INVARIANT(out.size() >= kHeaderBytes + payload.size())) {
    return 0;
  }
  out[kOffMagic] = std::byte{kMagic};
  out[kOffVersion] = std::byte{kVersion};
  out[kOffType] = static_cast<std::byte>(header.type);
  out[kOffFlags] = std::byte{header.flags};
  out[kOffHopLimit] = std::byte{header.hop_limit};
  out[kOffLatencyBudget] = std::byte{header.latency_budget};
  writeBigEndian<std::uint16_t>(out, kOffPayloadLength, static_cast<std::uint16_t>(payload.size()));
  writeBigEndian<std::uint32_t>(out, kOffSender, header.sender_node_id);
  writeBigEndian<std::uint64_t>(out, kOffStream, header.stream_id);
  writeBigEndian<std::uint32_t>(out, kOffSequence, header.sequence);
  writeBigEndian<std::uint64_t>(out, kOffTimestamp, header.timestamp_us);
  writeBigEndian<std::uint32_t>(out, kOffAge, header.age_us);
  writeKeyFields(out, 0, 0);
  if (!payload.empty()) std::memcpy(out.data() + kHeaderBytes, payload.data(), payload.size());
  return kHeaderBytes + payload.size();
}

void rewriteHopFields(std::span<std::byte> packet, NodeId sender_node_id, std::uint8_t hop_limit,
                      std::uint32_t age_us) {
  if (!OVERLINE_INVARIANT(packet.size() >= kHeaderBytes)) return;  // release: left as it is
  packet[kOffHopLimit] = std::byte{hop_limit};
  writeBigEndian<std::uint32_t>(packet, kOffSender, sender_node_id);
  writeBigEndian<std::uint32_t>(packet, kOffAge, age_us);
  writeKeyFields(packet, 0, 0);
}

void setAge(std::span<std::byte> packet, std::uint32_t age_us) {
  if (!OVERLINE_INVARIANT(packet.size() >= kHeaderBytes)) return;  // release: left as it is
  writeBigEndian<std::uint32_t>(packet, kOffAge, age_us);
}

void writeKeyFields(std::span<std::byte> packet, std::uint32_t key_epoch, std::uint64_t packet_number) {
  if (!OVERLINE_INVARIANT(packet.size() >= kHeaderBytes)) return;  // release: left as it is
  writeBigEndian<std::uint32_t>(packet, kOffKeyEpoch, key_epoch);
  writeBigEndian<std::uint64_t>(packet, kOffPacketNumber, packet_number);
}

void setRetransmitFlag(std::span<std::byte> packet, bool retransmit) {
  if (!OVERLINE_INVARIANT(packet.size() >= kHeaderBytes)) return;  // release: left as it is
  auto flags = std::to_integer<std::uint8_t>(packet[kOffFlags]);
  flags = retransmit ? (flags | kFlagRetransmit) : (flags & ~kFlagRetransmit);
  packet[kOffFlags] = std::byte{static_cast<std::uint8_t>(flags)};
}

}  // namespace overline::wire
