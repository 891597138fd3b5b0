#pragma once
// JoinHandshake: the client side of joining an edge (wire/packet.h, "Client
// join"): HELLO with a fresh nonce, the edge's CHALLENGE (a cookie), HELLO
// echoing the cookie, the edge's WELCOME (session key and the client's
// address as the edge sees it). Pure: the caller sends what hello() builds,
// feeds every answer from the edge to onAnswer(), and retries on its timer.

#include <cstdint>
#include <optional>
#include <string>

#include "common/crypto/gmac.h"
#include "common/endpoint.h"
#include "common/types.h"
#include "common/wire/packet.h"
#include "sdk/hello_packet.h"

namespace overline::sdk {

class JoinHandshake {
 public:
  // `nonce` must be random and new for every handshake (it makes the
  // session key unique); `join_token` may be empty.
  JoinHandshake(const HelloNonce& nonce, std::string join_token);

  // The HELLO to send now: without a cookie until a CHALLENGE came.
  std::size_t hello(wire::PacketBuffer& out, std::uint32_t sequence) const;

  enum class Step : std::uint8_t {
    kIgnored,     // not an answer of this handshake's edge
    kChallenged,  // a cookie: send hello() again now
    kJoined,      // WELCOME: joined() and the accessors below are set
  };
  Step onAnswer(const wire::PacketView& packet);

  bool joined() const { return session_key_.has_value(); }
  NodeId edgeNode() const { return edge_node_; }
  const crypto::Key128& sessionKey() const { return *session_key_; }
  const Endpoint& reflexiveAddress() const { return reflexive_; }
  const std::string& joinToken() const { return join_token_; }
  const HelloNonce& nonce() const { return nonce_; }

 private:
  HelloNonce nonce_;
  HelloCookie cookie_{};
  std::string join_token_;
  NodeId edge_node_ = kNoNode;
  std::optional<crypto::Key128> session_key_;
  Endpoint reflexive_;
};

}  // namespace overline::sdk
