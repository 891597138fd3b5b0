// The per-call certificate check (common/tls/certificate_verifier.h): each
// refusal has its own reason, and only a trusted, current certificate with
// one well-formed overline: URI names a peer.

#include "common/tls/certificate_verifier.h"

#include <catch2/catch.hpp>

#include <string>

#include "common/tls/pki.h"
#include "tests/unit/common/tls/tls_test_support.h"

namespace overline::tls {
namespace {

using namespace test;

struct Authority {
  Authority() {
    makeAuthority(tmp.path());
    auto made = CertificateVerifier::fromCaPem(readText(tmp.file("ca.pem")));
    REQUIRE(made.ok());
    verifier = made.value();
  }
  // Issues `identity` and returns its certificate PEM.
  std::string issue(const PeerIdentity& identity, Validity validity = {kNow - kDay, kNow + 365 * kDay}) const {
    const auto file = issueCertificate(tmp.path(), requestFor(identity, validity));
    REQUIRE(file.ok());
    return readText(file.value());
  }
  CertificateProblem problemOf(const std::string& pem, std::int64_t now = kNow) const {
    const auto result = verifier->verify(pem, now);
    REQUIRE_FALSE(result.ok());
    return result.error().problem;
  }

  TempDir tmp;
  std::shared_ptr<const CertificateVerifier> verifier;
};

TEST_CASE("problems have metric label names", "[tls][certificate_verifier]") {
  CHECK(toString(CertificateProblem::kMissing) == "missing");
  CHECK(toString(CertificateProblem::kMalformed) == "malformed");
  CHECK(toString(CertificateProblem::kExpired) == "expired");
  CHECK(toString(CertificateProblem::kNotYetValid) == "not_yet_valid");
  CHECK(toString(CertificateProblem::kUntrusted) == "untrusted");
  CHECK(toString(CertificateProblem::kNoIdentity) == "no_identity");
}

TEST_CASE("fromCaPem needs at least one certificate", "[tls][certificate_verifier]") {
  CHECK(CertificateVerifier::fromCaPem("").error() == "no certificate in it");
  CHECK(CertificateVerifier::fromCaPem("just text\n").error() == "no certificate in it");
  CHECK_FALSE(
      CertificateVerifier::fromCaPem("-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n").ok());
}

TEST_CASE("verify accepts a trusted certificate and names its identity", "[tls][certificate_verifier]") {
  Authority ca;
  for (const PeerIdentity& identity : {relay(7), operatorWrite("alice"), operatorRead("bob"), controller("main")}) {
    CAPTURE(describe(identity));
    const auto result = ca.verifier->verify(ca.issue(identity), kNow);
    REQUIRE(result.ok());
    CHECK(result.value() == identity);
  }
}

TEST_CASE("verify: expired and not yet valid", "[tls][certificate_verifier]") {
  Authority ca;
  const std::string expired = ca.issue(relay(7), {kNow - 400 * kDay, kNow - 30 * kDay});
  const auto late = ca.verifier->verify(expired, kNow);
  REQUIRE_FALSE(late.ok());
  CHECK(late.error().problem == CertificateProblem::kExpired);
  CHECK(late.error().detail == "certificate expired at 2026-12-16T08:00:00Z");

  const std::string future = ca.issue(relay(7), {kNow + 30 * kDay, kNow + 400 * kDay});
  const auto early = ca.verifier->verify(future, kNow);
  REQUIRE_FALSE(early.ok());
  CHECK(early.error().problem == CertificateProblem::kNotYetValid);
  CHECK(early.error().detail == "certificate not valid until 2027-02-14T08:00:00Z");

  // The same certificates at other times.
  CHECK(ca.verifier->verify(expired, kNow - 31 * kDay).ok());
  CHECK(ca.verifier->verify(future, kNow + 31 * kDay).ok());
}

TEST_CASE("verify: a certificate from another CA is untrusted", "[tls][certificate_verifier]") {
  Authority ca;
  Authority other;
  const std::string foreign = other.issue(relay(7));
  CHECK(ca.problemOf(foreign) == CertificateProblem::kUntrusted);
  CHECK_THAT(ca.verifier->verify(foreign, kNow).error().detail, Catch::StartsWith("not trusted: "));
  // The other CA itself presented as a leaf is not trusted either.
  CHECK(ca.problemOf(readText(other.tmp.file("ca.pem"))) == CertificateProblem::kUntrusted);
}

TEST_CASE("verify: missing and malformed", "[tls][certificate_verifier]") {
  Authority ca;
  CHECK(ca.problemOf("") == CertificateProblem::kMissing);
  CHECK(ca.problemOf("\n") == CertificateProblem::kMissing);
  CHECK(ca.problemOf("not a certificate") == CertificateProblem::kMalformed);
  CHECK(ca.problemOf(readText(ca.tmp.file("ca.key"))) == CertificateProblem::kMalformed);
  std::string truncated = ca.issue(relay(7));
  truncated.resize(truncated.size() / 2);
  CHECK(ca.problemOf(truncated) == CertificateProblem::kMalformed);
}

TEST_CASE("verify: no well-formed overline: identity", "[tls][certificate_verifier]") {
  Authority ca;
  const std::string& dir = ca.tmp.path();
  CHECK(ca.problemOf(makeCustomLeaf(dir, "").cert_pem) == CertificateProblem::kNoIdentity);
  CHECK(ca.problemOf(makeCustomLeaf(dir, "URI:https://example.net/relay/7").cert_pem) ==
        CertificateProblem::kNoIdentity);
  CHECK(ca.problemOf(makeCustomLeaf(dir, "URI:overline:relay:0").cert_pem) == CertificateProblem::kNoIdentity);
  CHECK(ca.problemOf(makeCustomLeaf(dir, "URI:overline:relay:7,URI:overline:relay:8").cert_pem) ==
        CertificateProblem::kNoIdentity);
  CHECK(ca.verifier->verify(makeCustomLeaf(dir, "").cert_pem, kNow).error().detail ==
        "no overline: URI in the certificate");
  // Other SANs next to the identity are fine.
  const auto mixed = ca.verifier->verify(
      makeCustomLeaf(dir, "DNS:relay7.example.net,URI:https://example.net,URI:overline:relay:7").cert_pem, kNow);
  REQUIRE(mixed.ok());
  CHECK(mixed.value() == relay(7));
  // Identity is checked only after trust: an untrusted leaf is untrusted.
  Authority other;
  CHECK(ca.problemOf(makeCustomLeaf(other.tmp.path(), "").cert_pem) == CertificateProblem::kUntrusted);
}

}  // namespace
}  // namespace overline::tls
