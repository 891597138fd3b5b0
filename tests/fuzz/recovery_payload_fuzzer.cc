// libFuzzer target for the loss-recovery payload codecs: NACK lists, FEC
// payloads and the DATA packets rebuilt from recovered FEC blocks. Arbitrary
// bytes must never crash them, and whatever they accept must satisfy their
// contracts: a parsed NACK or FEC payload re-encodes to the input byte for
// byte, and a rebuilt DATA packet is one that parsePacket accepts with the
// header fields the FEC packet and the sequence dictate.
//
// Input layout: byte 0 picks the codec, the rest is the payload under test.

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>

#include "common/wire/fec_payload.h"
#include "common/wire/nack_payload.h"
#include "common/wire/packet.h"

namespace {

namespace wire = overline::wire;

// abort() rather than assert(): the check must hold in every build type.
void require(bool condition) {
  if (!condition) std::abort();
}

void fuzzNack(std::span<const std::byte> payload) {
  const auto parsed = wire::parseNackPayload(payload);
  if (!parsed.ok()) {
    require(wire::toString(parsed.error()) != "unknown");
    return;
  }
  require(parsed->count >= 1 && parsed->count <= wire::kMaxNackSequences);
  std::array<std::byte, wire::kMaxNackPayloadBytes> encoded;
  const std::size_t written = wire::encodeNackPayload(parsed->view(), encoded);
  require(written == payload.size());
  require(std::memcmp(encoded.data(), payload.data(), written) == 0);
}

void fuzzFecPayload(std::span<const std::byte> payload) {
  const auto parsed = wire::parseFecPayload(payload);
  if (!parsed.ok()) {
    require(wire::toString(parsed.error()) != "unknown");
    return;
  }
  const wire::FecPayloadView& view = parsed.value();
  require(view.data_count >= 1 && view.data_count <= wire::kMaxFecDataPackets);
  require(view.parity_index < view.parity_count);
  std::array<std::byte, wire::kMaxFecPayloadBytes> encoded;
  const std::size_t written =
      wire::encodeFecPayload(view.parity_count, view.parity_index, view.sequenceList(), view.parity, encoded);
  require(written == payload.size());
  require(std::memcmp(encoded.data(), payload.data(), written) == 0);
}

void fuzzRebuild(std::span<const std::byte> block) {
  wire::Header fec_header;
  fec_header.type = wire::PacketType::kFec;
  fec_header.sender_node_id = 7;
  fec_header.stream_id = 0x0000000300000001ull;
  fec_header.hop_limit = 9;
  wire::PacketBuffer out;
  const std::uint32_t sequence = 12345;
  const auto rebuilt = wire::rebuildDataPacket(block, fec_header, sequence, out);
  if (!rebuilt.ok()) {
    require(wire::toString(rebuilt.error()) != "unknown");
    return;
  }
  const auto packet = wire::parsePacket(std::span<const std::byte>(out.data(), rebuilt.value()));
  require(packet.ok());
  require(packet->header.type == wire::PacketType::kData);
  require(packet->header.sequence == sequence);
  require(packet->header.stream_id == fec_header.stream_id);
  require(packet->header.sender_node_id == fec_header.sender_node_id);
  require(packet->header.hop_limit == fec_header.hop_limit);
  require((packet->header.flags & wire::kFlagRetransmit) == 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::span<const std::byte> payload(reinterpret_cast<const std::byte*>(data + 1), size - 1);
  switch (data[0] % 3) {
    case 0: fuzzNack(payload); break;
    case 1: fuzzFecPayload(payload); break;
    default: fuzzRebuild(payload); break;
  }
  return 0;
}
