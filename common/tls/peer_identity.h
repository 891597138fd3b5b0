#pragma once
// Who is at the other end of a control-plane TLS connection, as the
// certificate names it (docs/architecture.md, "Control-plane trust").
//
// Identities live in ONE URI subject-alternative name of the leaf
// certificate, so nothing depends on how a CA formats its subject:
//   overline:relay:<node id>              a relay (RelaySession)
//   overline:operator:<name>:write        overlinectl, every Admin call
//   overline:operator:<name>:read         overlinectl, Admin reads only
//   overline:controller:<name>            the controller's server certificate
// <node id> is 1..4294967295 in decimal without leading zeros; <name> is
// 1..64 characters of [A-Za-z0-9_.-]. Pure; no OpenSSL.

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"
#include "common/types.h"

namespace overline::tls {

enum class PeerRole : std::uint8_t { kRelay, kOperatorWrite, kOperatorRead, kController };

struct PeerIdentity {
  PeerRole role = PeerRole::kRelay;
  NodeId node = kNoNode;  // kRelay only
  std::string name;       // operators and controllers

  friend bool operator==(const PeerIdentity&, const PeerIdentity&) = default;
};

// "overline:relay:7" and so on.
std::string identityUri(const PeerIdentity& identity);
// The inverse; the error names what is wrong ("expected overline:<kind>:...").
Result<PeerIdentity, std::string> parseIdentityUri(std::string_view uri);
// "relay 7", "operator alice (read-only)", "operator bob", "controller main":
// for logs and errors.
std::string describe(const PeerIdentity& identity);

}  // namespace overline::tls
