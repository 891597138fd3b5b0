#pragma once
// The client's HELLO (wire/packet.h, "Client join"): nonce | cookie | join
// token. Shared by Client, the join handshake and pickFastestEdge.

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "common/check/invariant.h"
#include "common/wire/packet.h"

namespace overline::sdk {

using HelloNonce = std::array<std::byte, wire::kHelloNonceBytes>;
using HelloCookie = std::array<std::byte, wire::kCookieBytes>;

// Encodes an untagged HELLO with `nonce`, `cookie` (all zero: none yet) and
// `join_token` (may be empty), numbered `sequence` (the edge copies it into
// its answer), into `out`; returns its size. The token must fit
// wire::kMaxJoinTokenBytes (callers check it first; release: 0, nothing to send).
inline std::size_t encodeHello(const HelloNonce& nonce, const HelloCookie& cookie, std::string_view join_token,
                               wire::PacketBuffer& out, std::uint32_t sequence = 0) {
  if (!OVERLINE_INVARIANT(join_token.size() <= wire::kMaxJoinTokenBytes)) return 0;
  std::array<std::byte, wire::kMaxHelloPayloadBytes> payload{};
  std::copy(nonce.begin(), nonce.end(), payload.begin());
  std::copy(cookie.begin(), cookie.end(), payload.begin() + wire::kHelloNonceBytes);
  std::transform(join_token.begin(), join_token.end(), payload.begin() + wire::kMinHelloPayloadBytes,
                 [](char c) { return static_cast<std::byte>(c); });
  wire::Header header;
  header.type = wire::PacketType::kHello;
  header.sequence = sequence;
  return wire::encodePacket(header, std::span(payload).first(wire::kMinHelloPayloadBytes + join_token.size()), out);
}

}  // namespace overline::sdk
