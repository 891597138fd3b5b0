#pragma once
// Certificates for relay unit tests: relay-<id> certificates from the
// per-process test CA of tests/shipped_configs.h, issued on first use, and
// the `tls:` value of a relay config that names them.

#include <chrono>
#include <filesystem>
#include <stdexcept>
#include <string>

#include "common/tls/pki.h"
#include "tests/shipped_configs.h"

namespace overline::test {

inline std::int64_t unixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Issues relay `node`'s certificate into the test CA's directory (once,
// valid for a day) and returns the path stem ("<dir>/relay-<node>").
inline std::string relayCertificate(NodeId node) {
  const std::string stem = testPkiDir() + "/relay-" + std::to_string(node);
  if (!std::filesystem::exists(stem + ".pem")) {
    const auto issued = tls::issueCertificate(
        testPkiDir(), {tls::PeerIdentity{tls::PeerRole::kRelay, node, {}}, tls::validFor(unixNow(), 1), {}});
    if (!issued) throw std::runtime_error("test certificate: " + issued.error());
  }
  return stem;
}

// `{ca_file: ..., cert_file: ..., key_file: ...}` for relay `node`, as one
// YAML flow mapping.
inline std::string relayTlsYaml(NodeId node) {
  const std::string stem = relayCertificate(node);
  return "{ca_file: \"" + testPkiDir() + "/ca.pem\", cert_file: \"" + stem + ".pem\", key_file: \"" + stem +
         ".key\"}";
}

}  // namespace overline::test
