#include "relay/core/join_check.h"

#include <limits>
#include <string>
#include <string_view>

namespace overline::relay {

Result<token::JoinGrant, token::TokenError> checkJoin(const JoinPolicy& policy, NodeId node_id, const Endpoint& from,
                                                      std::span<const std::byte> token,
                                                      std::optional<TimeUs> wall_now_us) {
  if (!policy.require_token || policy.key.empty()) {
    token::JoinGrant unrestricted;
    unrestricted.expires_unix_s = std::numeric_limits<std::int64_t>::max();
    unrestricted.roles = token::kAllRoles;
    unrestricted.scope = token::StreamScope::any();
    unrestricted.edges = {node_id};
    return unrestricted;
  }
  if (!wall_now_us) return Err(token::TokenError::kExpired);
  // "a.b.c.d:port" -> "a.b.c.d", the form the controller signed.
  const std::string endpoint = from.toString();
  const std::string_view address = std::string_view(endpoint).substr(0, endpoint.rfind(':'));
  const std::string_view text(reinterpret_cast<const char*>(token.data()), token.size());
  return token::verifyJoinToken(policy.key, text, node_id, address, *wall_now_us / kSecond);
}

}  // namespace overline::relay
