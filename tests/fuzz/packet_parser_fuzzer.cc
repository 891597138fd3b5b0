// libFuzzer target for wire::parsePacket. Arbitrary bytes must never crash the
// parser, and every datagram it accepts must satisfy the codec's contract: the
// payload lies inside the input right after the header, the size is exactly
// header + payload_length, and re-encoding the parsed packet reproduces the
// input byte for byte (so nothing is silently ignored or normalised).

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>

#include "common/wire/packet.h"

namespace {

using overline::wire::kHeaderBytes;

// abort() rather than assert(): the check must hold in every build type.
void require(bool condition) {
  if (!condition) std::abort();
}

void checkAccepted(std::span<const std::byte> input, const overline::wire::PacketView& view) {
  const auto& header = view.header;
  require(input.size() == kHeaderBytes + header.payload_length);
  require(view.payload.size() == header.payload_length);
  require(view.payload.size() <= overline::wire::kMaxFecPayloadBytes);
  require(view.payload.data() == input.data() + kHeaderBytes);
  require(header.type != overline::wire::PacketType::kHello ||
          view.payload.size() <= overline::wire::kMaxHelloPayloadBytes);
  // The flags v1 knows are kFlagRedundant and kFlagRetransmit, both DATA only;
  // so is a latency budget.
  require((header.flags & ~overline::wire::kKnownFlags) == 0);
  require((header.flags == 0 && header.latency_budget == 0) ||
          header.type == overline::wire::PacketType::kData);

  overline::wire::PacketBuffer encoded;
  const std::size_t written = overline::wire::encodePacket(header, view.payload, encoded);
  require(written == input.size());
  require(std::memcmp(encoded.data(), input.data(), written) == 0);

  // Rewriting the per-hop fields keeps the packet valid and changes nothing else.
  const overline::NodeId new_sender = header.sender_node_id ^ 0x5A5A5A5Au;
  const auto new_hop_limit = static_cast<std::uint8_t>(header.hop_limit + 1);
  overline::wire::rewriteHopFields(std::span<std::byte>(encoded.data(), written), new_sender, new_hop_limit);
  const auto reparsed = overline::wire::parsePacket(std::span<const std::byte>(encoded.data(), written));
  require(reparsed.ok());
  auto expected = header;
  expected.sender_node_id = new_sender;
  expected.hop_limit = new_hop_limit;
  require(reparsed->header == expected);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::byte> input(reinterpret_cast<const std::byte*>(data), size);
  const auto result = overline::wire::parsePacket(input);
  if (result.ok()) {
    checkAccepted(input, result.value());
  } else {
    require(overline::wire::toString(result.error()) != "unknown");
    require((size < kHeaderBytes) == (result.error() == overline::wire::ParseError::kTooShort));
  }
  return 0;
}
