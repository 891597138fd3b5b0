#pragma once
// CertificateVerifier: checks a peer's leaf certificate against the
// deployment's CA and reads its identity (peer_identity.h).
//
// Why not let the TLS handshake do it: gRPC refuses a bad client certificate
// inside the handshake and cannot tell the server why, so nothing could be
// counted. The controller's listeners therefore REQUEST the client's
// certificate without verifying it in the handshake (TLS still makes the
// client prove it holds the certificate's private key), and every call runs
// this check with OpenSSL's X509_verify_cert, so each refusal is counted by
// its reason. Thread-safe after construction (the X509_STORE is read-only).

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"
#include "common/tls/peer_identity.h"

namespace overline::tls {

enum class CertificateProblem : std::uint8_t {
  kMissing,      // no client certificate presented
  kMalformed,    // not a parseable PEM X.509 certificate
  kExpired,      // notAfter is in the past
  kNotYetValid,  // notBefore is in the future
  kUntrusted,    // not issued by the CA (or any other chain failure)
  kNoIdentity,   // valid, but no (or no well-formed) overline: URI SAN
};
// "missing", "malformed", "expired", "not_yet_valid", "untrusted",
// "no_identity": metric label values.
std::string_view toString(CertificateProblem problem);

struct CertificateRefusal {
  CertificateProblem problem = CertificateProblem::kMissing;
  std::string detail;  // one phrase, e.g. "certificate expired at 2026-11-30T10:00:00Z"
};

class CertificateVerifier {
 public:
  // `ca_pem`: one or more PEM CA certificates (a rotation bundle holds the
  // old and the new CA). The error is one phrase ("no certificate in it").
  static Result<std::shared_ptr<const CertificateVerifier>, std::string> fromCaPem(std::string_view ca_pem);
  ~CertificateVerifier();
  CertificateVerifier(const CertificateVerifier&) = delete;
  CertificateVerifier& operator=(const CertificateVerifier&) = delete;

  // Verifies `leaf_pem` (empty: kMissing) against the CA at `now_unix_s`
  // and returns the identity it names.
  Result<PeerIdentity, CertificateRefusal> verify(std::string_view leaf_pem, std::int64_t now_unix_s) const;

 private:
  struct Store;
  explicit CertificateVerifier(std::unique_ptr<Store> store);
  std::unique_ptr<Store> store_;
};

}  // namespace overline::tls
