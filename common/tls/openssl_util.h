#pragma once
// Internal to overline_tls: owning pointers for OpenSSL objects, PEM
// parsing, certificate times and the file I/O the library shares.

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

#include "common/result.h"

namespace overline::tls::detail {

template <auto Free>
struct Deleter {
  template <typename T>
  void operator()(T* p) const {
    Free(p);
  }
};
using BioPtr = std::unique_ptr<BIO, Deleter<BIO_free_all>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509_free>>;
using KeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>>;

// Every certificate in `pem`, in order. nullopt when a PEM block is present
// but does not parse; an empty vector when there is no certificate at all.
std::optional<std::vector<X509Ptr>> parseCertificates(std::string_view pem);
// The first private key in `pem`, or null.
KeyPtr parsePrivateKey(std::string_view pem);

std::string certificatePem(X509* cert);
std::string privateKeyPem(EVP_PKEY* key);

std::int64_t unixTime(const ASN1_TIME* time);
std::int64_t notBefore(const X509* cert);
std::int64_t notAfter(const X509* cert);

// Writes `data` to a temporary file next to `path`, fsyncs it and moves it
// into place with `mode` (or, with `replace` false, fails if `path` exists).
// The error is one line starting with `path`.
std::optional<std::string> writeFileAtomic(const std::string& path, std::string_view data, mode_t mode,
                                           bool replace = true);

std::string joinPath(const std::string& dir, const std::string& file);

}  // namespace overline::tls::detail
