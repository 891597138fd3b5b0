#pragma once
// A small certificate authority for one Overline deployment, so that nobody
// has to learn openssl to deploy (`overlinectl pki`, deploy/README.md).
// Keys are ECDSA P-256; certificates are X.509 v3 signed with SHA-256.
//
// Directory layout (every file written atomically, keys mode 0600):
//   ca.pem  ca.key                 the CA (keep ca.key offline after issuing)
//   controller.pem  controller.key the controller's server certificate:
//                                  DNS SAN "overline-controller" (the name
//                                  every client verifies, whatever address
//                                  it dials) plus the extra DNS/IP SANs
//   relay-<id>.pem  relay-<id>.key one per relay (URI overline:relay:<id>)
//   operator-<name>.pem/.key       one per operator (…:write or …:read)
// Every leaf also carries its identity URI (peer_identity.h).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/tls/peer_identity.h"

namespace overline::tls {

// The DNS name in every controller certificate, and the name clients check
// unless configured otherwise.
inline constexpr const char* kControllerServerName = "overline-controller";

struct Validity {
  std::int64_t not_before_unix_s = 0;
  std::int64_t not_after_unix_s = 0;
};
// [now - 1 h, now + days]: an hour back tolerates clock skew between hosts.
Validity validFor(std::int64_t now_unix_s, std::int64_t days);

// Creates ca.pem and ca.key in `dir` (created if missing). Refuses (error)
// when ca.key already exists, so a CA is never overwritten by accident.
std::optional<std::string> initAuthority(const std::string& dir, const std::string& common_name, Validity validity);

struct IssueRequest {
  PeerIdentity identity;
  Validity validity;
  std::vector<std::string> extra_sans;  // controller only: "203.0.113.9" (IP) or "ctl.example.net" (DNS)
};
// True when `text` can be one of IssueRequest::extra_sans: an IPv4 or IPv6
// address, or a DNS host name (labels of 1..63 letters, digits and inner
// hyphens; 253 characters at most).
bool validExtraSan(const std::string& text);

// The file stem an identity is written under: "relay-7", "operator-alice",
// "controller".
std::string fileStem(const PeerIdentity& identity);

// Signs a new key pair for `request` with the CA in `dir` and writes
// <stem>.pem and <stem>.key there (replacing existing ones: re-issuing is
// how a certificate is renewed). Returns the certificate path.
Result<std::string, std::string> issueCertificate(const std::string& dir, const IssueRequest& request);

}  // namespace overline::tls
