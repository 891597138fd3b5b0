#include "common/tls/pki.h"

#include <arpa/inet.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "common/text_file.h"
#include "common/tls/openssl_util.h"

namespace overline::tls {
namespace {

using detail::Deleter;
using detail::KeyPtr;
using detail::X509Ptr;
using BignumPtr = std::unique_ptr<BIGNUM, Deleter<BN_free>>;
using ExtensionPtr = std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION_free>>;

constexpr std::int64_t kSecondsPerDay = 86'400;
constexpr std::int64_t kClockSkewSeconds = 3'600;
constexpr mode_t kKeyMode = 0600;
constexpr mode_t kCertificateMode = 0644;

std::string openSslError(const char* what) {
  const unsigned long error = ERR_get_error();
  ERR_clear_error();
  std::string text = std::string("OpenSSL ") + what + " failed";
  if (error != 0) {
    char reason[256];
    ERR_error_string_n(error, reason, sizeof reason);
    text += std::string(": ") + reason;
  }
  return text;
}

KeyPtr newKey() { return KeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256")); }

// A random positive 128-bit serial (RFC 5280 allows up to 20 octets).
bool setRandomSerial(X509* cert) {
  std::array<unsigned char, 16> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) return false;
  bytes[0] = static_cast<unsigned char>((bytes[0] & 0x7f) | 0x40);  // positive, never zero
  const BignumPtr number(BN_bin2bn(bytes.data(), static_cast<int>(bytes.size()), nullptr));
  if (number == nullptr) return false;
  ASN1_INTEGER* serial = X509_get_serialNumber(cert);
  return BN_to_ASN1_INTEGER(number.get(), serial) != nullptr;
}

bool addNameEntry(X509_NAME* name, const char* field, const std::string& value) {
  return X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(value.c_str()),
                                    static_cast<int>(value.size()), -1, 0) == 1;
}

bool addExtension(X509* cert, X509V3_CTX* ctx, int nid, const std::string& value) {
  const ExtensionPtr extension(X509V3_EXT_nconf_nid(nullptr, ctx, nid, value.c_str()));
  return extension != nullptr && X509_add_ext(cert, extension.get(), -1) == 1;
}

// A certificate shell: version 3, serial, validity and public key.
X509Ptr newCertificate(EVP_PKEY* key, const Validity& validity) {
  X509Ptr cert(X509_new());
  if (cert == nullptr || X509_set_version(cert.get(), X509_VERSION_3) != 1 || !setRandomSerial(cert.get()) ||
      ASN1_TIME_set(X509_getm_notBefore(cert.get()), static_cast<time_t>(validity.not_before_unix_s)) == nullptr ||
      ASN1_TIME_set(X509_getm_notAfter(cert.get()), static_cast<time_t>(validity.not_after_unix_s)) == nullptr ||
      X509_set_pubkey(cert.get(), key) != 1) {
    return nullptr;
  }
  return cert;
}

std::string subjectName(PeerRole role) {
  switch (role) {
    case PeerRole::kRelay: return "relay";
    case PeerRole::kOperatorWrite:
    case PeerRole::kOperatorRead: return "operator";
    case PeerRole::kController: return "controller";
  }
  return "peer";
}

bool validDnsName(const std::string& name) {
  if (name.empty() || name.size() > 253) return false;
  std::size_t label = 0;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    if (c == '.') {
      if (label == 0 || name[i - 1] == '-') return false;
      label = 0;
      continue;
    }
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
    if (!ok || (c == '-' && label == 0) || ++label > 63) return false;
  }
  return label > 0 && name.back() != '-';
}

// "IP:203.0.113.9" or "DNS:ctl.example.net" for the subjectAltName value.
Result<std::string, std::string> sanEntry(const std::string& text) {
  std::array<unsigned char, 16> address{};
  if (inet_pton(AF_INET, text.c_str(), address.data()) == 1 || inet_pton(AF_INET6, text.c_str(), address.data()) == 1) {
    return "IP:" + text;
  }
  if (validDnsName(text)) return "DNS:" + text;
  return Err("bad SAN '" + text + "': expected a host name or an IP address");
}

}  // namespace

bool validExtraSan(const std::string& text) { return sanEntry(text).ok(); }

namespace {

bool fileExists(const std::string& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0;
}

std::optional<std::string> ensureDirectory(std::string dir) {
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  struct stat info {};
  if (::stat(dir.c_str(), &info) == 0) {
    if (!S_ISDIR(info.st_mode)) return dir + ": not a directory";
    return std::nullopt;
  }
  std::error_code error;
  const std::filesystem::path path(dir);
  const std::filesystem::path parent = path.lexically_normal().parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, error);
  if (error) return parent.string() + ": cannot create directory: " + error.message();
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return dir + ": cannot create directory: " + std::strerror(errno);
  }
  return std::nullopt;
}

}  // namespace

Validity validFor(std::int64_t now_unix_s, std::int64_t days) {
  return Validity{now_unix_s - kClockSkewSeconds, now_unix_s + days * kSecondsPerDay};
}

std::string fileStem(const PeerIdentity& identity) {
  switch (identity.role) {
    case PeerRole::kRelay: return "relay-" + std::to_string(identity.node);
    case PeerRole::kOperatorWrite:
    case PeerRole::kOperatorRead: return "operator-" + identity.name;
    case PeerRole::kController: return "controller";
  }
  return "peer";
}

std::optional<std::string> initAuthority(const std::string& dir, const std::string& common_name,
                                         Validity validity) {
  if (common_name.empty() || common_name.size() > 64) return std::string("CA name must be 1..64 characters");
  if (validity.not_after_unix_s <= validity.not_before_unix_s) return std::string("empty validity period");
  const std::string cert_file = detail::joinPath(dir, "ca.pem");
  const std::string key_file = detail::joinPath(dir, "ca.key");
  if (fileExists(key_file)) return key_file + ": already exists (a CA is never overwritten)";
  if (auto error = ensureDirectory(dir)) return error;

  const KeyPtr key = newKey();
  if (key == nullptr) return openSslError("EC P-256 key generation");
  const X509Ptr cert = newCertificate(key.get(), validity);
  if (cert == nullptr) return openSslError("certificate creation");
  X509_NAME* name = X509_get_subject_name(cert.get());
  if (!addNameEntry(name, "O", "Overline") || !addNameEntry(name, "CN", common_name) ||
      X509_set_issuer_name(cert.get(), name) != 1) {
    return openSslError("CA name");
  }
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
  if (!addExtension(cert.get(), &ctx, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") ||
      !addExtension(cert.get(), &ctx, NID_key_usage, "critical,keyCertSign,cRLSign") ||
      !addExtension(cert.get(), &ctx, NID_subject_key_identifier, "hash") ||
      !addExtension(cert.get(), &ctx, NID_authority_key_identifier, "keyid:always")) {
    return openSslError("CA extensions");
  }
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) <= 0) return openSslError("CA signature");

  const std::string cert_pem = detail::certificatePem(cert.get());
  const std::string key_pem = detail::privateKeyPem(key.get());
  if (cert_pem.empty() || key_pem.empty()) return openSslError("PEM encoding");
  // The certificate first: if writing the key fails, init can run again.
  if (auto error = detail::writeFileAtomic(cert_file, cert_pem, kCertificateMode)) return error;
  if (auto error = detail::writeFileAtomic(key_file, key_pem, kKeyMode, /*replace=*/false)) {
    return *error + " (a CA is never overwritten)";
  }
  return std::nullopt;
}

Result<std::string, std::string> issueCertificate(const std::string& dir, const IssueRequest& request) {
  // The identity must be one a verifier accepts back.
  const std::string uri = identityUri(request.identity);
  auto parsed = parseIdentityUri(uri);
  if (!parsed) return Err(parsed.error());
  const PeerIdentity& identity = parsed.value();
  if (identity.role != PeerRole::kController && !request.extra_sans.empty()) {
    return Err(std::string("extra SANs are only for controller certificates"));
  }
  if (request.validity.not_after_unix_s <= request.validity.not_before_unix_s) {
    return Err(std::string("empty validity period"));
  }
  std::string san = "URI:" + uri;
  if (identity.role == PeerRole::kController) {
    san += std::string(",DNS:") + kControllerServerName;
    for (const std::string& extra : request.extra_sans) {
      auto entry = sanEntry(extra);
      if (!entry) return Err(entry.error());
      if (extra != kControllerServerName) san += "," + entry.value();
    }
  }

  const std::string ca_cert_file = detail::joinPath(dir, "ca.pem");
  const std::string ca_key_file = detail::joinPath(dir, "ca.key");
  auto ca_cert_pem = readTextFile(ca_cert_file);
  if (!ca_cert_pem) return Err(ca_cert_file + ": " + ca_cert_pem.error());
  auto ca_key_pem = readTextFile(ca_key_file);
  if (!ca_key_pem) return Err(ca_key_file + ": " + ca_key_pem.error());
  auto ca_certs = detail::parseCertificates(ca_cert_pem.value());
  if (!ca_certs || ca_certs->empty()) return Err(ca_cert_file + ": not a PEM certificate");
  X509* ca = ca_certs->front().get();
  const KeyPtr ca_key = detail::parsePrivateKey(ca_key_pem.value());
  if (ca_key == nullptr) return Err(ca_key_file + ": not a PEM private key");
  const bool matches = X509_check_private_key(ca, ca_key.get()) == 1;
  ERR_clear_error();
  if (!matches) return Err(ca_key_file + ": does not match the certificate " + ca_cert_file);

  const KeyPtr key = newKey();
  if (key == nullptr) return Err(openSslError("EC P-256 key generation"));
  const X509Ptr cert = newCertificate(key.get(), request.validity);
  if (cert == nullptr) return Err(openSslError("certificate creation"));
  X509_NAME* name = X509_get_subject_name(cert.get());
  const std::string common_name =
      identity.role == PeerRole::kRelay ? std::to_string(identity.node) : identity.name;
  if (!addNameEntry(name, "O", "Overline") || !addNameEntry(name, "OU", subjectName(identity.role)) ||
      !addNameEntry(name, "CN", common_name) || X509_set_issuer_name(cert.get(), X509_get_subject_name(ca)) != 1) {
    return Err(openSslError("certificate name"));
  }
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, ca, cert.get(), nullptr, nullptr, 0);
  const char* usage = identity.role == PeerRole::kController ? "serverAuth,clientAuth" : "clientAuth";
  if (!addExtension(cert.get(), &ctx, NID_basic_constraints, "critical,CA:FALSE") ||
      !addExtension(cert.get(), &ctx, NID_key_usage, "critical,digitalSignature") ||
      !addExtension(cert.get(), &ctx, NID_ext_key_usage, usage) ||
      !addExtension(cert.get(), &ctx, NID_subject_key_identifier, "hash") ||
      !addExtension(cert.get(), &ctx, NID_authority_key_identifier, "keyid:always") ||
      !addExtension(cert.get(), &ctx, NID_subject_alt_name, san)) {
    return Err(openSslError("certificate extensions"));
  }
  if (X509_sign(cert.get(), ca_key.get(), EVP_sha256()) <= 0) return Err(openSslError("certificate signature"));

  const std::string cert_pem = detail::certificatePem(cert.get());
  const std::string key_pem = detail::privateKeyPem(key.get());
  if (cert_pem.empty() || key_pem.empty()) return Err(openSslError("PEM encoding"));
  const std::string stem = fileStem(identity);
  const std::string cert_file = detail::joinPath(dir, stem + ".pem");
  const std::string key_file = detail::joinPath(dir, stem + ".key");
  if (auto error = detail::writeFileAtomic(key_file, key_pem, kKeyMode)) return Err(*error);
  if (auto error = detail::writeFileAtomic(cert_file, cert_pem, kCertificateMode)) return Err(*error);
  return cert_file;
}

}  // namespace overline::tls
