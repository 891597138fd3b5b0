#pragma once
// The IPv4 address of a gRPC peer, from grpc::ServerContext::peer(): the
// address the controller observes a client at, which join tokens bind.

#include <string>
#include <string_view>

#include "common/result.h"

namespace overline::controller {

// "ipv4:203.0.113.5:5555" -> "203.0.113.5"; an IPv4-mapped IPv6 peer,
// "ipv6:[::ffff:203.0.113.5]:5555" (gRPC may percent-encode the brackets,
// "ipv6:%5B::ffff:203.0.113.5%5D:5555"), maps to the same. Any other peer
// (an IPv6 address, "unix:...", garbage) is an error naming it, e.g.
// "peer \"ipv6:[2001:db8::1]:5555\" is not an IPv4 address".
Result<std::string, std::string> peerIPv4Address(std::string_view peer);

}  // namespace overline::controller
