#pragma once
// Join admission: whether a HELLO from an unknown endpoint may join this
// relay as an SDK client, and with what grant. Pure: the wall-clock time is
// passed in.

#include <cstddef>
#include <optional>
#include <span>

#include "common/endpoint.h"
#include "common/result.h"
#include "common/token/join_token.h"
#include "common/types.h"
#include "relay/core/relay_config.h"

namespace overline::relay {

// What `policy` grants a client at `from` that presented `token` (the
// HELLO's payload, empty when it carried none) to relay `node_id`.
//  * No key, or require_token false (labs only): every client gets an
//    unrestricted grant: both roles, any stream, edges {node_id}, expiry
//    std::numeric_limits<std::int64_t>::max().
//  * Otherwise the token must verify (common/token/join_token.h) for this
//    node, the IPv4 address of `from` (the port is not bound: NATs change
//    it) and `wall_now_us` (unix microseconds); the error is
//    verifyJoinToken's (an empty token is kMalformed). Without a wall-clock
//    time (nullopt: the I/O layer has not set one yet) it is kExpired: no
//    expiry can be checked.
// The grant's roles and scope are the caller's to enforce.
Result<token::JoinGrant, token::TokenError> checkJoin(const JoinPolicy& policy, NodeId node_id, const Endpoint& from,
                                                      std::span<const std::byte> token,
                                                      std::optional<TimeUs> wall_now_us);

}  // namespace overline::relay
