#include "common/tls/tls_files.h"

#include <openssl/err.h>
#include <openssl/x509.h>

#include "common/tls/certificate_verifier.h"
#include "common/tls/openssl_util.h"
#include "common/tls/utc_time.h"

namespace overline::tls {
namespace {

std::string at(const std::string& file, const std::string& reason) { return file + ": " + reason; }

}  // namespace

Result<TrustFiles, std::string> loadTrust(const std::string& ca_file) {
  auto ca_pem = detail::readFile(ca_file);
  if (!ca_pem) return Err(at(ca_file, ca_pem.error()));
  auto verifier = CertificateVerifier::fromCaPem(ca_pem.value());
  if (!verifier) return Err(at(ca_file, verifier.error()));
  return TrustFiles{ca_file, std::move(ca_pem.value())};
}

Result<IdentityFiles, std::string> loadIdentity(const std::string& ca_file, const std::string& cert_file,
                                                const std::string& key_file, std::int64_t now_unix_s) {
  auto trust = loadTrust(ca_file);
  if (!trust) return Err(trust.error());
  auto cert_pem = detail::readFile(cert_file);
  if (!cert_pem) return Err(at(cert_file, cert_pem.error()));
  auto key_pem = detail::readFile(key_file);
  if (!key_pem) return Err(at(key_file, key_pem.error()));

  const auto certificates = detail::parseCertificates(cert_pem.value());
  if (!certificates || certificates->empty()) return Err(at(cert_file, "not a PEM certificate"));
  X509* leaf = certificates->front().get();
  const detail::KeyPtr key = detail::parsePrivateKey(key_pem.value());
  if (key == nullptr) return Err(at(key_file, "not a PEM private key"));
  const bool matches = X509_check_private_key(leaf, key.get()) == 1;
  ERR_clear_error();
  if (!matches) return Err(at(key_file, "does not match the certificate " + cert_file));

  // The CA parsed in loadTrust, so this cannot fail.
  const auto verifier = CertificateVerifier::fromCaPem(trust->ca_pem);
  if (!verifier) return Err(at(ca_file, verifier.error()));
  auto identity = verifier.value()->verify(cert_pem.value(), now_unix_s);
  if (!identity) {
    const CertificateRefusal& refusal = identity.error();
    switch (refusal.problem) {
      case CertificateProblem::kMissing:
      case CertificateProblem::kMalformed: return Err(at(cert_file, "not a PEM certificate"));
      case CertificateProblem::kExpired: {
        // The leaf itself, or (detail says "issuer ...") a CA in the chain.
        if (refusal.detail.rfind("certificate ", 0) == 0) {
          return Err(at(cert_file, "expired at " + utcTime(detail::notAfter(leaf))));
        }
        return Err(at(cert_file, refusal.detail));
      }
      case CertificateProblem::kNotYetValid: {
        if (refusal.detail.rfind("certificate ", 0) == 0) {
          return Err(at(cert_file, "not valid until " + utcTime(detail::notBefore(leaf))));
        }
        return Err(at(cert_file, refusal.detail));
      }
      case CertificateProblem::kUntrusted: return Err(at(cert_file, "not issued by the CA in " + ca_file));
      case CertificateProblem::kNoIdentity:
        return Err(at(cert_file, "no overline: identity (issue it with overlinectl pki)"));
    }
    return Err(at(cert_file, refusal.detail));
  }

  IdentityFiles files;
  files.ca_file = ca_file;
  files.cert_file = cert_file;
  files.key_file = key_file;
  files.ca_pem = std::move(trust.value().ca_pem);
  files.cert_pem = std::move(cert_pem.value());
  files.key_pem = std::move(key_pem.value());
  files.identity = identity.value();
  files.not_after_unix_s = detail::notAfter(leaf);
  return files;
}

}  // namespace overline::tls
