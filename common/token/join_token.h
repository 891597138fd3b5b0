#pragma once
// Join tokens: proof that the controller's edge allocation sent an SDK client
// at `client_address` to relay `node_id`, valid until `expires_unix_s`. The
// controller signs them (controller/edge_allocator.h); a relay verifies them
// with the same shared key when the client joins.
//
// Format, ASCII and URL-safe:
//   "v1.<expires_unix_s>.<mac>"
//   mac = unpadded base64url of HMAC-SHA256(key,
//             "overline-join-v1|<node_id>|<client_address>|<expires_unix_s>")
// node_id and client_address are not carried in the token: the verifier
// knows both (its own id, the client's source address), so a token shown to
// another relay or from another address fails as kBadSignature.
//
// Pure: the current time is passed in. Thread-safe (no shared state).

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/types.h"

namespace overline::token {

// HMAC keys shorter than this are refused by parseHexKey (128 bits).
constexpr std::size_t kMinKeyBytes = 16;

std::string signJoinToken(std::span<const std::uint8_t> key, NodeId node_id, std::string_view client_address,
                          std::int64_t expires_unix_s);

enum class TokenError : std::uint8_t {
  kMalformed,     // not "v1.<digits>.<43 base64url characters>"
  kBadSignature,  // another key, node or client address, or tampered
  kExpired,       // signature fine, but now_unix_s >= expiry
};
std::string_view toString(TokenError error);

// Checks the format, then the signature, then the expiry (so a tampered
// expiry reads as kBadSignature). Returns the token's expiry (unix seconds).
Result<std::int64_t, TokenError> verifyJoinToken(std::span<const std::uint8_t> key, std::string_view token,
                                                 NodeId node_id, std::string_view client_address,
                                                 std::int64_t now_unix_s);

// A key written as hex digits (either case), surrounding whitespace allowed,
// at least kMinKeyBytes bytes. The error says what is wrong, e.g.
// "expected hex digits, got 'x' at offset 4".
Result<std::vector<std::uint8_t>, std::string> parseHexKey(std::string_view text);

}  // namespace overline::token
