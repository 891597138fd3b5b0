#pragma once
// A deployment PKI for the controller's unit tests (common/tls/pki.h),
// made once per test process in a temp dir: the CA, the controller's
// certificate, relay 1's and operator "ops"'s.

#include <catch2/catch.hpp>

#include <chrono>
#include <string>

#include "common/tls/pki.h"
#include "tests/unit/controller/temp_dir.h"

namespace overline::controller::testing {

inline std::int64_t testNowUnixS() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The PKI's directory.
inline const std::string& testPkiDir() {
  static const TempDir dir;
  static const bool made = [] {
    const tls::Validity validity = tls::validFor(testNowUnixS(), 2);
    if (tls::initAuthority(dir.path(), "test CA", validity)) return false;
    for (const tls::PeerIdentity& identity :
         {tls::PeerIdentity{tls::PeerRole::kController, 0, "main"}, tls::PeerIdentity{tls::PeerRole::kRelay, 1, ""},
          tls::PeerIdentity{tls::PeerRole::kOperatorWrite, 0, "ops"}}) {
      if (!tls::issueCertificate(dir.path(), {identity, validity, {}})) return false;
    }
    return true;
  }();
  REQUIRE(made);
  return dir.path();
}

// "tls: {ca_file: …, cert_file: …/controller.pem, key_file: …}\n", or the
// same with another certificate stem (e.g. "relay-1").
inline std::string testTlsYaml(const std::string& stem = "controller") {
  const std::string& dir = testPkiDir();
  return "tls: {ca_file: " + dir + "/ca.pem, cert_file: " + dir + "/" + stem + ".pem, key_file: " + dir + "/" +
         stem + ".key}\n";
}

}  // namespace overline::controller::testing
