#pragma once
// The client's HELLO: header-only but for the join token (wire/packet.h,
// "Client join"). Shared by Client and pickFastestEdge.

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "common/wire/packet.h"

namespace overline::sdk {

// Encodes a HELLO carrying `join_token` (may be empty) and `sequence` (the
// client's probe number, which the edge copies into its answer; 0 when the
// client does not number its HELLOs) into `out`; returns its size. The token
// must fit wire::kMaxHelloPayloadBytes (asserted; callers check it first).
inline std::size_t encodeHello(std::string_view join_token, wire::PacketBuffer& out, std::uint32_t sequence = 0) {
  assert(join_token.size() <= wire::kMaxHelloPayloadBytes);
  wire::Header header;
  header.type = wire::PacketType::kHello;
  header.sequence = sequence;
  return wire::encodePacket(header, std::as_bytes(std::span(join_token.data(), join_token.size())), out);
}

}  // namespace overline::sdk
