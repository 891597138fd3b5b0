#pragma once
// Join admission: whether a HELLO from an unknown endpoint may join this
// relay as an SDK client. Pure: the wall-clock time is passed in.

#include <cstddef>
#include <optional>
#include <span>

#include "common/endpoint.h"
#include "common/types.h"
#include "relay/core/relay_config.h"

namespace overline::relay {

// True when `policy` admits a client at `from` that presented `token` (the
// HELLO's payload, empty when it carried none) to relay `node_id`.
//  * No key, or require_token false: every client is admitted (labs only).
//  * Otherwise the token must verify (common/token/join_token.h) for this
//    node, the IPv4 address of `from` (the port is not bound: NATs change
//    it) and `wall_now_us` (unix microseconds). Without a wall-clock time
//    (nullopt: the I/O layer has not set one yet) nothing is admitted.
bool admitsJoin(const JoinPolicy& policy, NodeId node_id, const Endpoint& from, std::span<const std::byte> token,
                std::optional<TimeUs> wall_now_us);

}  // namespace overline::relay
