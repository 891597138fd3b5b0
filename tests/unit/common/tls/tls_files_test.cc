// Loading TLS files (common/tls/tls_files.h): every way the three files can
// be wrong gives one line naming the file and the reason.

#include "common/tls/tls_files.h"

#include <catch2/catch.hpp>

#include <string>

#include "common/tls/pki.h"
#include "tests/unit/common/tls/tls_test_support.h"

namespace overline::tls {
namespace {

using namespace test;

struct Deployment {
  Deployment() {
    makeAuthority(tmp.path());
    REQUIRE(issueCertificate(tmp.path(), requestFor(relay(7))).ok());
  }
  std::string ca() const { return tmp.file("ca.pem"); }
  std::string cert() const { return tmp.file("relay-7.pem"); }
  std::string key() const { return tmp.file("relay-7.key"); }
  Result<IdentityFiles, TlsFileError> load(std::int64_t now = kNow) const {
    return loadIdentity(ca(), cert(), key(), now);
  }

  TempDir tmp;
};

TEST_CASE("loadTrust reads a CA bundle", "[tls][tls_files]") {
  Deployment d;
  const auto trust = loadTrust(d.ca());
  REQUIRE(trust.ok());
  CHECK(trust->ca_file == d.ca());
  CHECK(trust->ca_pem == readText(d.ca()));
}

TEST_CASE("loadTrust errors name the file", "[tls][tls_files]") {
  TempDir tmp;
  CHECK(loadTrust(tmp.file("ca.pem")).error() == tmp.file("ca.pem") + ": cannot read file: No such file or directory");
  writeText(tmp.file("ca.pem"), "hello\n");
  CHECK(loadTrust(tmp.file("ca.pem")).error() == tmp.file("ca.pem") + ": no certificate in it");
}

TEST_CASE("loadIdentity accepts a good set of files", "[tls][tls_files]") {
  Deployment d;
  const auto files = d.load();
  REQUIRE(files.ok());
  CHECK(files->identity == relay(7));
  CHECK(files->ca_file == d.ca());
  CHECK(files->cert_file == d.cert());
  CHECK(files->key_file == d.key());
  CHECK(files->ca_pem == readText(d.ca()));
  CHECK(files->cert_pem == readText(d.cert()));
  CHECK(files->key_pem == readText(d.key()));
}

TEST_CASE("loadIdentity: a missing file", "[tls][tls_files]") {
  Deployment d;
  const std::string missing = d.tmp.file("nope.pem");
  const std::string reason = ": cannot read file: No such file or directory";
  CHECK(loadIdentity(missing, d.cert(), d.key(), kNow).error().message == missing + reason);
  CHECK(loadIdentity(missing, d.cert(), d.key(), kNow).error().file == TlsFile::kCa);
  CHECK(loadIdentity(d.ca(), missing, d.key(), kNow).error().message == missing + reason);
  CHECK(loadIdentity(d.ca(), missing, d.key(), kNow).error().file == TlsFile::kCert);
  CHECK(loadIdentity(d.ca(), d.cert(), missing, kNow).error().message == missing + reason);
  CHECK(loadIdentity(d.ca(), d.cert(), missing, kNow).error().file == TlsFile::kKey);
}

TEST_CASE("loadIdentity: garbage PEM", "[tls][tls_files]") {
  Deployment d;
  SECTION("certificate") {
    writeText(d.cert(), "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n");
    CHECK(d.load().error().message == d.cert() + ": not a PEM certificate");
  }
  SECTION("empty certificate") {
    writeText(d.cert(), "");
    CHECK(d.load().error().message == d.cert() + ": not a PEM certificate");
  }
  SECTION("key") {
    writeText(d.key(), "garbage\n");
    CHECK(d.load().error().message == d.key() + ": not a PEM private key");
  }
  SECTION("a key where the certificate should be") {
    writeText(d.cert(), readText(d.key()));
    CHECK(d.load().error().message == d.cert() + ": not a PEM certificate");
  }
  SECTION("CA") {
    writeText(d.ca(), "garbage\n");
    CHECK(d.load().error().message == d.ca() + ": no certificate in it");
  }
}

TEST_CASE("loadIdentity: the key of another certificate", "[tls][tls_files]") {
  Deployment d;
  REQUIRE(issueCertificate(d.tmp.path(), requestFor(relay(8))).ok());
  CHECK(loadIdentity(d.ca(), d.cert(), d.tmp.file("relay-8.key"), kNow).error().message ==
        d.tmp.file("relay-8.key") + ": does not match the certificate " + d.cert());
}

TEST_CASE("loadIdentity: a certificate from a different CA", "[tls][tls_files]") {
  Deployment d;
  TempDir other;
  makeAuthority(other.path());  // the same CA name, another key
  REQUIRE(issueCertificate(other.path(), requestFor(relay(7))).ok());
  CHECK(loadIdentity(d.ca(), other.file("relay-7.pem"), other.file("relay-7.key"), kNow).error().message ==
        other.file("relay-7.pem") + ": not issued by the CA in " + d.ca());
}

TEST_CASE("loadIdentity: expired and not yet valid", "[tls][tls_files]") {
  Deployment d;
  SECTION("expired") {
    REQUIRE(issueCertificate(d.tmp.path(), requestFor(relay(7), {kNow - 400 * kDay, kNow - 30 * kDay})).ok());
    CHECK(d.load().error().message == d.cert() + ": expired at 2026-12-16T08:00:00Z");
  }
  SECTION("not yet valid") {
    REQUIRE(issueCertificate(d.tmp.path(), requestFor(relay(7), {kNow + 30 * kDay, kNow + 400 * kDay})).ok());
    CHECK(d.load().error().message == d.cert() + ": not valid until 2027-02-14T08:00:00Z");
  }
  SECTION("valid at another time") {
    CHECK(d.load(kNow + 364 * kDay).ok());
    CHECK_FALSE(d.load(kNow + 366 * kDay).ok());
  }
}

TEST_CASE("loadIdentity: a certificate without an overline: identity", "[tls][tls_files]") {
  Deployment d;
  const PemPair leaf = makeCustomLeaf(d.tmp.path(), "DNS:relay.example.net");
  writeText(d.cert(), leaf.cert_pem);
  writeText(d.key(), leaf.key_pem);
  CHECK(d.load().error().message == d.cert() + ": no overline: identity (issue it with overlinectl pki)");
}

TEST_CASE("loadIdentity: a rotation bundle trusts both CAs", "[tls][tls_files]") {
  TempDir old_ca;
  TempDir new_ca;
  makeAuthority(old_ca.path(), "Overline CA");
  makeAuthority(new_ca.path(), "Overline CA");
  REQUIRE(issueCertificate(old_ca.path(), requestFor(relay(1))).ok());
  REQUIRE(issueCertificate(new_ca.path(), requestFor(relay(2))).ok());
  const std::string bundle = new_ca.file("bundle.pem");
  writeText(bundle, readText(old_ca.file("ca.pem")) + readText(new_ca.file("ca.pem")));
  CHECK(loadIdentity(bundle, old_ca.file("relay-1.pem"), old_ca.file("relay-1.key"), kNow).ok());
  CHECK(loadIdentity(bundle, new_ca.file("relay-2.pem"), new_ca.file("relay-2.key"), kNow).ok());
}

}  // namespace
}  // namespace overline::tls
