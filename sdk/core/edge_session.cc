#include "sdk/core/edge_session.h"

#include <algorithm>
#include <utility>

#include "common/crypto/packet_auth.h"

namespace overline::sdk {

EdgeSession::EdgeSession(const Endpoint& edge, const HelloNonce& nonce, std::string join_token,
                         const EdgeSessionTiming& timing, TimeUs now)
    : edge_(edge),
      timing_(timing),
      join_(nonce, join_token),
      join_token_(std::move(join_token)),
      started_at_(now),
      next_hello_at_(now) {}

EdgeSession::Received EdgeSession::onPacket(const wire::PacketView& packet, TimeUs now) {
  const wire::PacketType type = packet.header.type;
  if (type == wire::PacketType::kChallenge || type == wire::PacketType::kWelcome) {
    // The only packets that precede a session, hence untagged.
    if (joined()) return Received::kStrayJoinAnswer;
    switch (join_.onAnswer(packet)) {
      case JoinHandshake::Step::kIgnored: return Received::kStrayJoinAnswer;
      case JoinHandshake::Step::kChallenged:
        // Echo the cookie at once, but at most once per retry interval: a
        // flood of CHALLENGEs (forged ones too) gets no more HELLOs out of
        // this session than its own timer would send.
        if (!last_echo_at_ || now - *last_echo_at_ >= timing_.hello_retry_us) {
          next_hello_at_ = now;
          last_echo_at_ = now;
        }
        return Received::kChallenged;
      case JoinHandshake::Step::kJoined:
        joined_.emplace(Joined{SessionTagger(join_.sessionKey()), crypto::Gmac(join_.sessionKey()), {}});
        joined_at_ = last_heard_at_ = now;
        next_hello_at_ = now + timing_.keepalive_interval_us;
        return Received::kJoined;
    }
  }
  // Everything else comes tagged with the session key: a packet with the
  // edge's source address but no valid tag is forged (or from an old session).
  const std::uint64_t packet_number = packet.header.packet_number;
  if (!joined() || !packet.header.tagged() || !joined_->receive_window.fresh(packet_number) ||
      !crypto::verifyPacket(joined_->receive_key, packet)) {
    return Received::kUnauthenticated;
  }
  joined_->receive_window.accept(packet_number);
  last_heard_at_ = now;
  switch (type) {
    case wire::PacketType::kHello: return Received::kKeepaliveAnswer;
    case wire::PacketType::kData: return Received::kData;
    default: return Received::kOtherType;
  }
}

std::size_t EdgeSession::takeDueHello(TimeUs now, wire::PacketBuffer& out) {
  if (now < next_hello_at_ || expired(now)) return 0;
  const std::uint32_t sequence = next_hello_sequence_++;
  if (!joined()) {
    next_hello_at_ = now + timing_.hello_retry_us;
    return join_.hello(out, sequence);
  }
  next_hello_at_ = now + timing_.keepalive_interval_us;
  // Tagged, with the token, so the edge can extend the session with a fresh one.
  const std::size_t size = encodeHello(join_.nonce(), HelloCookie{}, join_token_, out, sequence);
  return seal(out, size);
}

std::size_t EdgeSession::seal(wire::PacketBuffer& out, std::size_t size) {
  if (!joined() || size == 0) return 0;
  return joined_->tagger.tag(out, size);
}

TimeUs EdgeSession::expiry() const {
  return joined() ? last_heard_at_ + timing_.dead_after_us : started_at_ + timing_.join_timeout_us;
}

TimeUs EdgeSession::nextDeadline() const { return std::min(next_hello_at_, expiry()); }

}  // namespace overline::sdk
