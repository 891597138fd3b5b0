#pragma once
// The shipped configs (deploy/relay.example.yaml, deploy/mesh-3region) read
// their mesh secret from /etc/overline/mesh-1.key and their TLS files from
// /etc/overline/pki/. Tests that load them point those paths at files of
// their own and parse the text. Links overline_tls (common/tls/pki.h).

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <stdexcept>
#include <string>

#include "common/tls/pki.h"

namespace overline::test {

// A test CA in a fresh directory (once per process), valid for a day.
inline const std::string& testPkiDir() {
  static const std::string dir = [] {
    std::string pattern =
        (std::filesystem::temp_directory_path() / ("overline-test-pki-" + std::to_string(::getpid()) + "-XXXXXX"))
            .string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    if (const auto error = tls::initAuthority(pattern, "overline test CA", tls::validFor(now, 1))) {
      throw std::runtime_error("test CA: " + *error);
    }
    return pattern;
  }();
  return dir;
}

// The identity a shipped file stem stands for: relay-<id>, controller,
// operator-<name> (write); nullopt for anything else (ca, unknown).
inline std::optional<tls::PeerIdentity> identityOfStem(const std::string& stem) {
  if (stem.rfind("relay-", 0) == 0) {
    const std::string digits = stem.substr(6);
    if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
    return tls::PeerIdentity{tls::PeerRole::kRelay, static_cast<NodeId>(std::stoul(digits)), {}};
  }
  if (stem == "controller") return tls::PeerIdentity{tls::PeerRole::kController, kNoNode, "test"};
  if (stem.rfind("operator-", 0) == 0) return tls::PeerIdentity{tls::PeerRole::kOperatorWrite, kNoNode, stem.substr(9)};
  return std::nullopt;
}

// The text of `config_path` with /etc/overline/mesh-1.key replaced by a
// test key file (written once per process) and /etc/overline/pki/ by the
// test CA's directory, where every certificate the text names
// (/etc/overline/pki/<stem>.pem or .key) is issued on first use.
inline std::string withTestMeshKey(const std::string& config_path) {
  static const std::string key_path = [] {
    const std::string path = (std::filesystem::temp_directory_path() /
                              ("overline-test-mesh-" + std::to_string(::getpid()) + ".key"))
                                 .string();
    std::ofstream(path) << "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n";
    return path;
  }();
  std::ifstream in(config_path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string shipped = "/etc/overline/mesh-1.key";
  for (auto at = text.find(shipped); at != std::string::npos; at = text.find(shipped, at)) {
    text.replace(at, shipped.size(), key_path);
  }
  const std::string pki = "/etc/overline/pki/";
  for (auto at = text.find(pki); at != std::string::npos; at = text.find(pki, at)) {
    const std::string dir = testPkiDir() + "/";
    text.replace(at, pki.size(), dir);
    const auto name_end = text.find_first_of(".\n\"' ,}]", at + dir.size());
    const std::string stem = text.substr(at + dir.size(), name_end - at - dir.size());
    const auto identity = identityOfStem(stem);
    if (identity && !std::filesystem::exists(dir + stem + ".pem")) {
      const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
      const auto issued = tls::issueCertificate(testPkiDir(), {*identity, tls::validFor(now, 1), {}});
      if (!issued) throw std::runtime_error("test certificate " + stem + ": " + issued.error());
    }
    at += dir.size();
  }
  return text;
}

}  // namespace overline::test
