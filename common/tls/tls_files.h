#pragma once
// Loading a process's TLS files with errors an operator can act on.
//
// Every error is ONE line naming the file and the reason, e.g.
//   /etc/overline/pki/relay-7.pem: cannot read file: No such file or directory
//   /etc/overline/pki/relay-7.key: not a PEM private key
//   /etc/overline/pki/relay-7.key: does not match the certificate /etc/overline/pki/relay-7.pem
//   /etc/overline/pki/relay-7.pem: expired at 2026-11-30T10:00:00Z
//   /etc/overline/pki/relay-7.pem: not issued by the CA in /etc/overline/pki/ca.pem
//   /etc/overline/pki/relay-7.pem: no overline: identity (issue it with overlinectl pki)
// Processes print it and exit 2 (a configuration error).

#include <cstdint>
#include <optional>
#include <string>

#include "common/result.h"
#include "common/tls/peer_identity.h"

namespace overline::tls {

// A CA bundle alone: what an SDK client needs to verify the controller.
struct TrustFiles {
  std::string ca_file;
  std::string ca_pem;
};
Result<TrustFiles, std::string> loadTrust(const std::string& ca_file);

// A CA bundle plus this process's own certificate and key.
struct IdentityFiles {
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  std::string ca_pem;
  std::string cert_pem;  // leaf first, then any intermediates
  std::string key_pem;
  PeerIdentity identity;  // from cert_pem's URI SAN
  std::int64_t not_after_unix_s = 0;
};
// Which of the three files a load error is about, so a config loader can
// name that file's key without taking the message apart.
enum class TlsFile : std::uint8_t { kCa, kCert, kKey };
struct TlsFileError {
  TlsFile file = TlsFile::kCert;
  std::string message;  // the one line above: "FILE: reason"
};

// Reads and cross-checks the three files at `now_unix_s`: each parses, the
// key matches the certificate, the certificate chains to the CA, is valid
// now, and names an identity. A problem of the chain (not issued by the CA,
// expired) is the certificate's.
Result<IdentityFiles, TlsFileError> loadIdentity(const std::string& ca_file, const std::string& cert_file,
                                                 const std::string& key_file, std::int64_t now_unix_s);

}  // namespace overline::tls
