#include "common/tls/tls_files.h"

#include <openssl/err.h>
#include <openssl/x509.h>

#include "common/tls/certificate_verifier.h"
#include "common/text_file.h"
#include "common/tls/openssl_util.h"
#include "common/tls/utc_time.h"

namespace overline::tls {
namespace {

std::string at(const std::string& file, const std::string& reason) { return file + ": " + reason; }

}  // namespace

Result<TrustFiles, std::string> loadTrust(const std::string& ca_file) {
  auto ca_pem = readTextFile(ca_file);
  if (!ca_pem) return Err(at(ca_file, ca_pem.error()));
  auto verifier = CertificateVerifier::fromCaPem(ca_pem.value());
  if (!verifier) return Err(at(ca_file, verifier.error()));
  return TrustFiles{ca_file, std::move(ca_pem.value())};
}

Result<IdentityFiles, TlsFileError> loadIdentity(const std::string& ca_file, const std::string& cert_file,
                                                 const std::string& key_file, std::int64_t now_unix_s) {
  const auto failed = [](TlsFile file, std::string message) { return Err(TlsFileError{file, std::move(message)}); };
  const auto ca = [&](const std::string& reason) { return failed(TlsFile::kCa, at(ca_file, reason)); };
  const auto cert = [&](const std::string& reason) { return failed(TlsFile::kCert, at(cert_file, reason)); };
  const auto key_error = [&](const std::string& reason) { return failed(TlsFile::kKey, at(key_file, reason)); };
  auto trust = loadTrust(ca_file);
  if (!trust) return failed(TlsFile::kCa, trust.error());
  auto cert_pem = readTextFile(cert_file);
  if (!cert_pem) return cert(cert_pem.error());
  auto key_pem = readTextFile(key_file);
  if (!key_pem) return key_error(key_pem.error());

  const auto certificates = detail::parseCertificates(cert_pem.value());
  if (!certificates || certificates->empty()) return cert("not a PEM certificate");
  X509* leaf = certificates->front().get();
  const detail::KeyPtr key = detail::parsePrivateKey(key_pem.value());
  if (key == nullptr) return key_error("not a PEM private key");
  const bool matches = X509_check_private_key(leaf, key.get()) == 1;
  ERR_clear_error();
  if (!matches) return key_error("does not match the certificate " + cert_file);

  // The CA parsed in loadTrust, so this cannot fail.
  const auto verifier = CertificateVerifier::fromCaPem(trust->ca_pem);
  if (!verifier) return ca(verifier.error());
  auto identity = verifier.value()->verify(cert_pem.value(), now_unix_s);
  if (!identity) {
    const CertificateRefusal& refusal = identity.error();
    switch (refusal.problem) {
      case CertificateProblem::kMissing:
      case CertificateProblem::kMalformed: return cert("not a PEM certificate");
      case CertificateProblem::kExpired: {
        // The leaf itself, or (detail says "issuer ...") a CA in the chain.
        if (refusal.detail.rfind("certificate ", 0) == 0) {
          return cert("expired at " + utcTime(detail::notAfter(leaf)));
        }
        return cert(refusal.detail);
      }
      case CertificateProblem::kNotYetValid: {
        if (refusal.detail.rfind("certificate ", 0) == 0) {
          return cert("not valid until " + utcTime(detail::notBefore(leaf)));
        }
        return cert(refusal.detail);
      }
      case CertificateProblem::kUntrusted: return cert("not issued by the CA in " + ca_file);
      case CertificateProblem::kNoIdentity:
        return cert("no overline: identity (issue it with overlinectl pki)");
    }
    return cert(refusal.detail);
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
