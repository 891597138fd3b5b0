#pragma once
// Helpers of the TLS unit tests: a temporary directory, file access, and
// certificates the library's CA would never issue (no identity, odd SANs),
// signed with a test CA's key so only the SAN differs.

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>

#include "common/tls/pki.h"
#include "tests/temp_dir.h"

namespace overline::tls::test {

// 2027-01-15T08:00:00Z: the tests' "now"; no test reads the real clock.
constexpr std::int64_t kNow = 1'800'000'000;
constexpr std::int64_t kDay = 86'400;

using overline::test::TempDir;

inline std::string readText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

inline void writeText(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

inline mode_t fileMode(const std::string& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) return 0;
  return info.st_mode & 07777;
}

// A CA in `dir` valid around kNow.
inline void makeAuthority(const std::string& dir, const std::string& name = "Test CA") {
  if (auto error = initAuthority(dir, name, Validity{kNow - 1000 * kDay, kNow + 3650 * kDay})) {
    throw std::runtime_error(*error);
  }
}

inline IssueRequest requestFor(PeerIdentity identity, Validity validity = {kNow - kDay, kNow + 365 * kDay}) {
  IssueRequest request;
  request.identity = std::move(identity);
  request.validity = validity;
  return request;
}

inline PeerIdentity relay(NodeId node) { return PeerIdentity{PeerRole::kRelay, node, ""}; }
inline PeerIdentity operatorWrite(const std::string& name) {
  return PeerIdentity{PeerRole::kOperatorWrite, kNoNode, name};
}
inline PeerIdentity operatorRead(const std::string& name) {
  return PeerIdentity{PeerRole::kOperatorRead, kNoNode, name};
}
inline PeerIdentity controller(const std::string& name) { return PeerIdentity{PeerRole::kController, kNoNode, name}; }

struct OwnedX509 {
  void operator()(X509* p) const { X509_free(p); }
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(BIO* p) const { BIO_free_all(p); }
  void operator()(X509_EXTENSION* p) const { X509_EXTENSION_free(p); }
};
using CertPtr = std::unique_ptr<X509, OwnedX509>;

inline CertPtr parseCert(const std::string& pem) {
  std::unique_ptr<BIO, OwnedX509> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  return CertPtr(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

struct PemPair {
  std::string cert_pem;
  std::string key_pem;
};

// A client leaf signed by the CA in `ca_dir` whose subjectAltName is
// `san` in openssl's config syntax ("URI:overline:relay:0"), or none when
// empty.
inline PemPair makeCustomLeaf(const std::string& ca_dir, const std::string& san,
                              Validity validity = {kNow - kDay, kNow + 365 * kDay}) {
  const CertPtr ca = parseCert(readText(ca_dir + "/ca.pem"));
  const std::string ca_key_pem = readText(ca_dir + "/ca.key");
  std::unique_ptr<BIO, OwnedX509> key_bio(BIO_new_mem_buf(ca_key_pem.data(), static_cast<int>(ca_key_pem.size())));
  std::unique_ptr<EVP_PKEY, OwnedX509> ca_key(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
  std::unique_ptr<EVP_PKEY, OwnedX509> key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  CertPtr cert(X509_new());
  if (!ca || !ca_key || !key || !cert) throw std::runtime_error("test leaf setup failed");
  X509_set_version(cert.get(), X509_VERSION_3);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 4242);
  ASN1_TIME_set(X509_getm_notBefore(cert.get()), static_cast<time_t>(validity.not_before_unix_s));
  ASN1_TIME_set(X509_getm_notAfter(cert.get()), static_cast<time_t>(validity.not_after_unix_s));
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME_add_entry_by_txt(X509_get_subject_name(cert.get()), "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>("custom"), -1, -1, 0);
  X509_set_issuer_name(cert.get(), X509_get_subject_name(ca.get()));
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, ca.get(), cert.get(), nullptr, nullptr, 0);
  const auto add = [&](int nid, const std::string& value) {
    std::unique_ptr<X509_EXTENSION, OwnedX509> ext(X509V3_EXT_nconf_nid(nullptr, &ctx, nid, value.c_str()));
    if (!ext || X509_add_ext(cert.get(), ext.get(), -1) != 1) throw std::runtime_error("test extension failed");
  };
  add(NID_basic_constraints, "critical,CA:FALSE");
  add(NID_authority_key_identifier, "keyid:always");
  if (!san.empty()) add(NID_subject_alt_name, san);
  if (X509_sign(cert.get(), ca_key.get(), EVP_sha256()) <= 0) throw std::runtime_error("test signature failed");

  PemPair out;
  std::unique_ptr<BIO, OwnedX509> cert_out(BIO_new(BIO_s_mem()));
  std::unique_ptr<BIO, OwnedX509> key_out(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(cert_out.get(), cert.get());
  PEM_write_bio_PrivateKey(key_out.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long size = BIO_get_mem_data(cert_out.get(), &data);
  out.cert_pem.assign(data, static_cast<std::size_t>(size));
  size = BIO_get_mem_data(key_out.get(), &data);
  out.key_pem.assign(data, static_cast<std::size_t>(size));
  return out;
}

}  // namespace overline::tls::test
