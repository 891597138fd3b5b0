#include "relay/core/join_check.h"

#include <string>
#include <string_view>

#include "common/token/join_token.h"

namespace overline::relay {

bool admitsJoin(const JoinPolicy& policy, NodeId node_id, const Endpoint& from, std::span<const std::byte> token,
                std::optional<TimeUs> wall_now_us) {
  if (!policy.require_token || policy.key.empty()) return true;
  if (token.empty() || !wall_now_us) return false;
  // "a.b.c.d:port" -> "a.b.c.d", the form the controller signed.
  const std::string endpoint = from.toString();
  const std::string_view address = std::string_view(endpoint).substr(0, endpoint.rfind(':'));
  const std::string_view text(reinterpret_cast<const char*>(token.data()), token.size());
  return token::verifyJoinToken(policy.key, text, node_id, address, *wall_now_us / kSecond).ok();
}

}  // namespace overline::relay
