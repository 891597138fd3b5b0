#pragma once
// Join tokens (v2): what the controller's edge allocation grants an SDK
// client at `client_address`: the roles it may take (publish, subscribe),
// the streams it may take them on, until when, and at which edge relays.
// The controller signs them (Controller::allocateEdge); an edge relay
// verifies them with the same shared key when the client joins
// (relay/core/join_check.h).
//
// Format, ASCII and URL-safe (unpadded base64url, no '=' / '+' / '/'):
//   "v2.<body>.<mac>"
//   body = base64url of the grant, big-endian binary:
//            expires_unix_s  i64
//            roles           u8   Role bits, only 0x01 | 0x02, nonzero
//            prefix_bits     u8   0..64
//            scope value     u64  bits below the prefix zero
//            edge count      u8   1..kMaxTokenEdges
//            edges           u32 each, nonzero (node ids)
//   mac  = base64url of HMAC-SHA256(key,
//            "overline-join-v2|" + <body bytes> + "|" + client_address)
// client_address (the IPv4 address the controller observed the client at,
// without port) is not carried: the verifier knows it (the HELLO's source
// address), so a token presented from another address fails as
// kBadSignature. At kMaxTokenEdges edges a token is 3 + 68 + 1 + 43 = 115
// characters, well under a HELLO's 256 bytes of payload.
//
// Pure: the current time is passed in. Thread-safe (no shared state).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/types.h"

namespace overline::token {

// HMAC keys shorter than this are refused by parseHexKey (128 bits).
constexpr std::size_t kMinKeyBytes = 16;

// Edge relays one token can name: the controller offers at most this many
// candidates per allocation, all under one token.
constexpr std::size_t kMaxTokenEdges = 8;

// Bit flags in JoinGrant::roles.
enum class Role : std::uint8_t { kPublish = 0x01, kSubscribe = 0x02 };
constexpr std::uint8_t kAllRoles =
    static_cast<std::uint8_t>(Role::kPublish) | static_cast<std::uint8_t>(Role::kSubscribe);

// The stream ids a grant covers: those whose top `prefix_bits` bits equal
// `value`'s. A stream id is origin node (high 32 bits) and local id (low 32,
// common/types.h), so prefix 32 is "every stream of one origin".
struct StreamScope {
  std::uint8_t prefix_bits = 0;  // 0 = any stream, 64 = exactly `value`
  StreamId value = 0;            // bits below the prefix are zero

  bool contains(StreamId id) const;

  static StreamScope any();
  static StreamScope exactly(StreamId id);
  // `bits` above 64 count as 64; `value`'s bits below the prefix are cleared.
  static StreamScope prefix(StreamId value, std::uint8_t bits);

  friend bool operator==(const StreamScope&, const StreamScope&) = default;
};

struct JoinGrant {
  std::int64_t expires_unix_s = 0;
  std::uint8_t roles = 0;     // Role bits
  StreamScope scope;
  std::vector<NodeId> edges;  // 1..kMaxTokenEdges edge relays the token is good for

  // The role's bit is set and the scope contains `stream`.
  bool allows(Role role, StreamId stream) const;

  friend bool operator==(const JoinGrant&, const JoinGrant&) = default;
};

// Why `grant` cannot be signed, e.g. "roles: 0x04 has bits other than
// publish (0x01) and subscribe (0x02)", or nullopt when it can. A grant
// verifyJoinToken would refuse as kMalformed is one that cannot be signed.
std::optional<std::string> grantProblem(const JoinGrant& grant);

// Precondition: grantProblem(grant) is nullopt. A broken grant is a bug of
// the caller (OVERLINE_INVARIANT): without NDEBUG it aborts, with NDEBUG it
// returns "", which every verifier refuses as kMalformed.
std::string signJoinToken(std::span<const std::uint8_t> key, const JoinGrant& grant,
                          std::string_view client_address);

enum class TokenError : std::uint8_t {
  kMalformed,     // not "v2.<body>.<mac>" with a well-formed body (see above)
  kBadSignature,  // another key or client address, or tampered
  kExpired,       // signature fine, but now_unix_s >= expiry
  kWrongEdge,     // signature fine, but node_id is not among the grant's edges
};
std::string_view toString(TokenError error);

// Checks the format, then the MAC (bound to client_address), then that
// node_id is one of the grant's edges, then the expiry; so a tampered body
// reads as kBadSignature. Returns the grant.
Result<JoinGrant, TokenError> verifyJoinToken(std::span<const std::uint8_t> key, std::string_view token,
                                              NodeId node_id, std::string_view client_address,
                                              std::int64_t now_unix_s);

// The grant a well-formed token carries, NOT verified (no key): for a
// client to learn when its token expires and renew it in time. nullopt
// when the token is malformed. Never use it to admit anything.
std::optional<JoinGrant> readUnverifiedGrant(std::string_view token);

// A key written as hex digits (either case), surrounding whitespace allowed,
// at least kMinKeyBytes bytes. The error says what is wrong, e.g.
// "expected hex digits, got 'x' at offset 4".
Result<std::vector<std::uint8_t>, std::string> parseHexKey(std::string_view text);

}  // namespace overline::token
