#include "sdk/core/join_handshake.h"

#include <algorithm>
#include <utility>

#include "common/wire/byte_order.h"

namespace overline::sdk {

JoinHandshake::JoinHandshake(const HelloNonce& nonce, std::string join_token)
    : nonce_(nonce), join_token_(std::move(join_token)) {}

std::size_t JoinHandshake::hello(wire::PacketBuffer& out, std::uint32_t sequence) const {
  return encodeHello(nonce_, cookie_, join_token_, out, sequence);
}

JoinHandshake::Step JoinHandshake::onAnswer(const wire::PacketView& packet) {
  const wire::Header& header = packet.header;
  if (header.sender_node_id == kNoNode || header.tagged()) return Step::kIgnored;
  // Once joined, answers to this handshake's retries change nothing.
  if (joined()) return Step::kIgnored;
  switch (header.type) {
    case wire::PacketType::kChallenge:
      // The parser checked the size.
      std::copy(packet.payload.begin(), packet.payload.end(), cookie_.begin());
      return Step::kChallenged;
    case wire::PacketType::kWelcome: {
      crypto::Key128 key{};
      std::transform(packet.payload.begin(), packet.payload.begin() + wire::kSessionKeyBytes, key.begin(),
                     [](std::byte b) { return std::to_integer<std::uint8_t>(b); });
      session_key_ = key;
      reflexive_ = Endpoint(wire::readBigEndian<std::uint32_t>(packet.payload, wire::kSessionKeyBytes),
                            wire::readBigEndian<std::uint16_t>(packet.payload, wire::kSessionKeyBytes + 4));
      edge_node_ = header.sender_node_id;
      return Step::kJoined;
    }
    default: return Step::kIgnored;
  }
}

}  // namespace overline::sdk
