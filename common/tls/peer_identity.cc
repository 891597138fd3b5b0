#include "common/tls/peer_identity.h"

#include <charconv>
#include <limits>

namespace overline::tls {
namespace {

constexpr std::string_view kScheme = "overline:";
constexpr std::size_t kMaxNameChars = 64;

bool validName(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameChars) return false;
  for (const char c : name) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
                    c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string badName(std::string_view name) {
  return "bad name '" + std::string(name) + "': expected 1..64 characters of A-Z a-z 0-9 _ . -";
}

// Decimal 1..4294967295 without leading zeros (one spelling per node).
bool parseNode(std::string_view text, NodeId& node) {
  if (text.empty() || text.size() > 10 || text.front() == '0') return false;
  for (const char c : text) {
    if (c < '0' || c > '9') return false;
  }
  std::uint64_t value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  if (value > std::numeric_limits<NodeId>::max()) return false;
  node = static_cast<NodeId>(value);
  return true;
}

}  // namespace

std::string identityUri(const PeerIdentity& identity) {
  switch (identity.role) {
    case PeerRole::kRelay: return "overline:relay:" + std::to_string(identity.node);
    case PeerRole::kOperatorWrite: return "overline:operator:" + identity.name + ":write";
    case PeerRole::kOperatorRead: return "overline:operator:" + identity.name + ":read";
    case PeerRole::kController: return "overline:controller:" + identity.name;
  }
  return {};
}

Result<PeerIdentity, std::string> parseIdentityUri(std::string_view uri) {
  if (uri.substr(0, kScheme.size()) != kScheme) {
    return Err(std::string("expected overline:<kind>:..."));
  }
  const std::string_view rest = uri.substr(kScheme.size());
  const std::size_t colon = rest.find(':');
  if (colon == std::string_view::npos) return Err(std::string("expected overline:<kind>:..."));
  const std::string_view kind = rest.substr(0, colon);
  const std::string_view body = rest.substr(colon + 1);
  PeerIdentity identity;
  if (kind == "relay") {
    identity.role = PeerRole::kRelay;
    if (!parseNode(body, identity.node)) {
      return Err("bad node id '" + std::string(body) + "': expected 1..4294967295 without leading zeros");
    }
    return identity;
  }
  if (kind == "operator") {
    // The access level follows the LAST colon, so a name holding a colon is
    // reported as a bad name rather than as a bad access level.
    const std::size_t last = body.rfind(':');
    if (last == std::string_view::npos) {
      return Err(std::string("expected overline:operator:<name>:read or :write"));
    }
    const std::string_view name = body.substr(0, last);
    const std::string_view access = body.substr(last + 1);
    if (access == "write") {
      identity.role = PeerRole::kOperatorWrite;
    } else if (access == "read") {
      identity.role = PeerRole::kOperatorRead;
    } else {
      return Err("bad operator access '" + std::string(access) + "': expected read or write");
    }
    if (!validName(name)) return Err(badName(name));
    identity.name = std::string(name);
    return identity;
  }
  if (kind == "controller") {
    if (!validName(body)) return Err(badName(body));
    identity.role = PeerRole::kController;
    identity.name = std::string(body);
    return identity;
  }
  return Err("unknown kind '" + std::string(kind) + "': expected relay, operator or controller");
}

std::string describe(const PeerIdentity& identity) {
  switch (identity.role) {
    case PeerRole::kRelay: return "relay " + std::to_string(identity.node);
    case PeerRole::kOperatorWrite: return "operator " + identity.name;
    case PeerRole::kOperatorRead: return "operator " + identity.name + " (read-only)";
    case PeerRole::kController: return "controller " + identity.name;
  }
  return "unknown peer";
}

}  // namespace overline::tls
