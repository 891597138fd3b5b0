#include "common/tls/certificate_verifier.h"

#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <vector>

#include "common/tls/openssl_util.h"
#include "common/tls/utc_time.h"

namespace overline::tls {
namespace {

using detail::Deleter;
using detail::X509Ptr;
using StorePtr = std::unique_ptr<X509_STORE, Deleter<X509_STORE_free>>;
using StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, Deleter<X509_STORE_CTX_free>>;
// sk_X509_free is a macro; the stack does not own its certificates.
struct CertStackFree {
  void operator()(STACK_OF(X509) * stack) const { sk_X509_free(stack); }
};
using CertStackPtr = std::unique_ptr<STACK_OF(X509), CertStackFree>;
using NamesPtr = std::unique_ptr<GENERAL_NAMES, Deleter<GENERAL_NAMES_free>>;

CertificateRefusal refusal(CertificateProblem problem, std::string detail) {
  return CertificateRefusal{problem, std::move(detail)};
}

// The leaf's one overline: URI SAN, parsed.
Result<PeerIdentity, CertificateRefusal> identityOf(X509* leaf) {
  const NamesPtr names(static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(leaf, NID_subject_alt_name, nullptr, nullptr)));
  std::vector<std::string> uris;
  if (names != nullptr) {
    for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
      const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
      if (name->type != GEN_URI) continue;
      const ASN1_IA5STRING* text = name->d.uniformResourceIdentifier;
      std::string uri(reinterpret_cast<const char*>(ASN1_STRING_get0_data(text)),
                      static_cast<std::size_t>(ASN1_STRING_length(text)));
      if (uri.rfind("overline:", 0) == 0) uris.push_back(std::move(uri));
    }
  }
  if (uris.empty()) return Err(refusal(CertificateProblem::kNoIdentity, "no overline: URI in the certificate"));
  if (uris.size() > 1) {
    return Err(refusal(CertificateProblem::kNoIdentity, "more than one overline: URI in the certificate"));
  }
  auto identity = parseIdentityUri(uris.front());
  if (!identity) {
    return Err(refusal(CertificateProblem::kNoIdentity, "bad identity " + uris.front() + ": " + identity.error()));
  }
  return identity.value();
}

}  // namespace

std::string_view toString(CertificateProblem problem) {
  switch (problem) {
    case CertificateProblem::kMissing: return "missing";
    case CertificateProblem::kMalformed: return "malformed";
    case CertificateProblem::kExpired: return "expired";
    case CertificateProblem::kNotYetValid: return "not_yet_valid";
    case CertificateProblem::kUntrusted: return "untrusted";
    case CertificateProblem::kNoIdentity: return "no_identity";
  }
  return "unknown";
}

struct CertificateVerifier::Store {
  StorePtr store;
};

CertificateVerifier::CertificateVerifier(std::unique_ptr<Store> store) : store_(std::move(store)) {}
CertificateVerifier::~CertificateVerifier() = default;

Result<std::shared_ptr<const CertificateVerifier>, std::string> CertificateVerifier::fromCaPem(
    std::string_view ca_pem) {
  auto certificates = detail::parseCertificates(ca_pem);
  if (!certificates) return Err(std::string("a PEM certificate in it does not parse"));
  if (certificates->empty()) return Err(std::string("no certificate in it"));
  auto store = std::make_unique<Store>();
  store->store.reset(X509_STORE_new());
  if (store->store == nullptr) return Err(std::string("out of memory"));
  for (const X509Ptr& cert : *certificates) {
    // Adds a reference; a duplicate certificate in the bundle is harmless.
    if (X509_STORE_add_cert(store->store.get(), cert.get()) != 1) {
      ERR_clear_error();
    }
  }
  return std::shared_ptr<const CertificateVerifier>(new CertificateVerifier(std::move(store)));
}

Result<PeerIdentity, CertificateRefusal> CertificateVerifier::verify(std::string_view leaf_pem,
                                                                     std::int64_t now_unix_s) const {
  if (leaf_pem.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    return Err(refusal(CertificateProblem::kMissing, "no certificate presented"));
  }
  auto certificates = detail::parseCertificates(leaf_pem);
  if (!certificates || certificates->empty()) {
    return Err(refusal(CertificateProblem::kMalformed, "not a PEM X.509 certificate"));
  }
  X509* leaf = certificates->front().get();
  // Whatever follows the leaf is offered as intermediates, never trusted.
  const CertStackPtr chain(sk_X509_new_null());
  const StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (chain == nullptr || ctx == nullptr) return Err(refusal(CertificateProblem::kUntrusted, "out of memory"));
  for (std::size_t i = 1; i < certificates->size(); ++i) sk_X509_push(chain.get(), (*certificates)[i].get());
  if (X509_STORE_CTX_init(ctx.get(), store_->store.get(), leaf, chain.get()) != 1) {
    ERR_clear_error();
    return Err(refusal(CertificateProblem::kUntrusted, "cannot set up verification"));
  }
  X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx.get()), static_cast<time_t>(now_unix_s));
  const int verified = X509_verify_cert(ctx.get());
  ERR_clear_error();
  if (verified != 1) {
    const int error = X509_STORE_CTX_get_error(ctx.get());
    const int depth = X509_STORE_CTX_get_error_depth(ctx.get());
    const X509* failing = X509_STORE_CTX_get_current_cert(ctx.get());
    if (failing == nullptr) failing = leaf;
    const std::string whose = depth == 0 ? "certificate" : "issuer certificate";
    switch (error) {
      case X509_V_ERR_CERT_HAS_EXPIRED:
        return Err(refusal(CertificateProblem::kExpired,
                           whose + " expired at " + utcTime(detail::notAfter(failing))));
      case X509_V_ERR_CERT_NOT_YET_VALID:
        return Err(refusal(CertificateProblem::kNotYetValid,
                           whose + " not valid until " + utcTime(detail::notBefore(failing))));
      default:
        return Err(refusal(CertificateProblem::kUntrusted,
                           std::string("not trusted: ") + X509_verify_cert_error_string(error)));
    }
  }
  return identityOf(leaf);
}

}  // namespace overline::tls
