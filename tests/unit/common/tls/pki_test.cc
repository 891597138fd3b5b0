// The deployment CA (common/tls/pki.h): what init and issue write, the
// extensions clients and servers rely on, and what they refuse.

#include "common/tls/pki.h"

#include <catch2/catch.hpp>

#include <filesystem>
#include <string>

#include "common/tls/tls_files.h"
#include "tests/unit/common/tls/tls_test_support.h"

namespace overline::tls {
namespace {

using namespace test;

std::string serialOf(X509* cert) {
  const ASN1_INTEGER* serial = X509_get0_serialNumber(cert);
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(serial)),
                     static_cast<std::size_t>(ASN1_STRING_length(serial)));
}

TEST_CASE("validFor reaches an hour back and the given days ahead", "[tls][pki]") {
  const Validity validity = validFor(kNow, 365);
  CHECK(validity.not_before_unix_s == kNow - 3600);
  CHECK(validity.not_after_unix_s == kNow + 365 * kDay);
}

TEST_CASE("fileStem names each kind's files", "[tls][pki]") {
  CHECK(fileStem(relay(7)) == "relay-7");
  CHECK(fileStem(operatorWrite("alice")) == "operator-alice");
  CHECK(fileStem(operatorRead("alice")) == "operator-alice");
  CHECK(fileStem(controller("main")) == "controller");
}

TEST_CASE("init creates the directory (0700), ca.pem and ca.key (0600)", "[tls][pki]") {
  TempDir tmp;
  const std::string dir = tmp.file("etc/overline/pki");
  REQUIRE_FALSE(initAuthority(dir + "/", "Overline CA", validFor(kNow, 3650)).has_value());
  CHECK(fileMode(dir) == 0700);
  CHECK(fileMode(dir + "/ca.key") == 0600);
  CHECK(fileMode(dir + "/ca.pem") == 0644);
  const CertPtr ca = parseCert(readText(dir + "/ca.pem"));
  REQUIRE(ca != nullptr);
  CHECK(X509_check_ca(ca.get()) != 0);
  CHECK(X509_check_issued(ca.get(), ca.get()) == X509_V_OK);
  char name[128];
  X509_NAME_get_text_by_NID(X509_get_subject_name(ca.get()), NID_commonName, name, sizeof name);
  CHECK(std::string(name) == "Overline CA");
  // No temporary files left behind.
  CHECK(std::distance(std::filesystem::directory_iterator(dir), std::filesystem::directory_iterator()) == 2);
}

TEST_CASE("init refuses to overwrite an existing CA", "[tls][pki]") {
  TempDir tmp;
  makeAuthority(tmp.path());
  const std::string before_pem = readText(tmp.file("ca.pem"));
  const std::string before_key = readText(tmp.file("ca.key"));
  const auto error = initAuthority(tmp.path(), "Another CA", validFor(kNow, 3650));
  REQUIRE(error.has_value());
  CHECK(*error == tmp.file("ca.key") + ": already exists (a CA is never overwritten)");
  CHECK(readText(tmp.file("ca.pem")) == before_pem);
  CHECK(readText(tmp.file("ca.key")) == before_key);
}

TEST_CASE("init refuses a bad CA name", "[tls][pki]") {
  TempDir tmp;
  CHECK(initAuthority(tmp.path(), "", validFor(kNow, 1)).has_value());
  CHECK(initAuthority(tmp.path(), std::string(65, 'x'), validFor(kNow, 1)).has_value());
}

TEST_CASE("issued certificates load back with their identity", "[tls][pki]") {
  TempDir tmp;
  makeAuthority(tmp.path());
  const Validity validity{kNow - kDay, kNow + 90 * kDay};
  for (const PeerIdentity& identity : {relay(7), relay(4294967295u), operatorWrite("alice"), operatorRead("bob"),
                                       controller("main")}) {
    CAPTURE(describe(identity));
    const auto cert_file = issueCertificate(tmp.path(), requestFor(identity, validity));
    REQUIRE(cert_file.ok());
    const std::string stem = fileStem(identity);
    CHECK(cert_file.value() == tmp.file(stem + ".pem"));
    CHECK(fileMode(tmp.file(stem + ".key")) == 0600);
    const auto files = loadIdentity(tmp.file("ca.pem"), cert_file.value(), tmp.file(stem + ".key"), kNow);
    REQUIRE(files.ok());
    CHECK(files->identity == identity);
    CHECK(files->not_after_unix_s == validity.not_after_unix_s);
    CHECK(files->cert_file == cert_file.value());
    CHECK_THAT(files->key_pem, Catch::StartsWith("-----BEGIN PRIVATE KEY-----"));
  }
}

TEST_CASE("certificates carry the key usages TLS checks", "[tls][pki]") {
  TempDir tmp;
  makeAuthority(tmp.path());
  REQUIRE(issueCertificate(tmp.path(), requestFor(relay(7))).ok());
  IssueRequest request = requestFor(controller("main"));
  request.extra_sans = {"203.0.113.9", "2001:db8::1", "ctl.example.net"};
  REQUIRE(issueCertificate(tmp.path(), request).ok());

  const CertPtr ca = parseCert(readText(tmp.file("ca.pem")));
  const CertPtr leaf = parseCert(readText(tmp.file("relay-7.pem")));
  const CertPtr server = parseCert(readText(tmp.file("controller.pem")));
  REQUIRE(leaf != nullptr);
  REQUIRE(server != nullptr);

  CHECK(X509_check_ca(leaf.get()) == 0);
  CHECK(X509_check_purpose(leaf.get(), X509_PURPOSE_SSL_CLIENT, 0) == 1);
  CHECK(X509_check_purpose(leaf.get(), X509_PURPOSE_SSL_SERVER, 0) == 0);
  CHECK(X509_check_purpose(server.get(), X509_PURPOSE_SSL_SERVER, 0) == 1);
  CHECK(X509_check_purpose(server.get(), X509_PURPOSE_SSL_CLIENT, 0) == 1);
  CHECK(X509_check_issued(ca.get(), leaf.get()) == X509_V_OK);
  CHECK(X509_get_signature_nid(leaf.get()) == NID_ecdsa_with_SHA256);
  CHECK(X509_get_version(leaf.get()) == X509_VERSION_3);
  CHECK(ASN1_STRING_length(X509_get0_serialNumber(leaf.get())) == 16);
  CHECK(X509_get0_subject_key_id(leaf.get()) != nullptr);
  CHECK(X509_get0_authority_key_id(leaf.get()) != nullptr);

  CHECK(X509_check_host(server.get(), kControllerServerName, 0, 0, nullptr) == 1);
  CHECK(X509_check_host(server.get(), "ctl.example.net", 0, 0, nullptr) == 1);
  CHECK(X509_check_host(server.get(), "other.example.net", 0, 0, nullptr) == 0);
  CHECK(X509_check_ip_asc(server.get(), "203.0.113.9", 0) == 1);
  CHECK(X509_check_ip_asc(server.get(), "2001:db8::1", 0) == 1);
  CHECK(X509_check_host(leaf.get(), kControllerServerName, 0, 0, nullptr) == 0);
}

TEST_CASE("re-issuing replaces the files with a new key and serial", "[tls][pki]") {
  TempDir tmp;
  makeAuthority(tmp.path());
  REQUIRE(issueCertificate(tmp.path(), requestFor(relay(7))).ok());
  const std::string first_key = readText(tmp.file("relay-7.key"));
  const CertPtr first = parseCert(readText(tmp.file("relay-7.pem")));
  REQUIRE(issueCertificate(tmp.path(), requestFor(relay(7))).ok());
  const CertPtr second = parseCert(readText(tmp.file("relay-7.pem")));
  CHECK(readText(tmp.file("relay-7.key")) != first_key);
  CHECK(serialOf(first.get()) != serialOf(second.get()));
  CHECK(loadIdentity(tmp.file("ca.pem"), tmp.file("relay-7.pem"), tmp.file("relay-7.key"), kNow).ok());
}

TEST_CASE("issue refuses bad requests", "[tls][pki]") {
  TempDir tmp;
  makeAuthority(tmp.path());
  SECTION("node 0") {
    const auto result = issueCertificate(tmp.path(), requestFor(relay(0)));
    REQUIRE_FALSE(result.ok());
    CHECK_THAT(result.error(), Catch::StartsWith("bad node id '0'"));
  }
  SECTION("a bad operator name") {
    const auto result = issueCertificate(tmp.path(), requestFor(operatorWrite("../evil")));
    REQUIRE_FALSE(result.ok());
    CHECK_THAT(result.error(), Catch::StartsWith("bad name '../evil'"));
  }
  SECTION("extra SANs on a relay") {
    IssueRequest request = requestFor(relay(7));
    request.extra_sans = {"203.0.113.9"};
    CHECK(issueCertificate(tmp.path(), request).error() == "extra SANs are only for controller certificates");
  }
  SECTION("a SAN that is neither a host name nor an address") {
    IssueRequest request = requestFor(controller("main"));
    request.extra_sans = {"ctl.example.net,URI:overline:operator:x:write"};
    CHECK_THAT(issueCertificate(tmp.path(), request).error(), Catch::StartsWith("bad SAN 'ctl.example.net,"));
  }
  SECTION("no CA in the directory") {
    TempDir empty;
    const auto result = issueCertificate(empty.path(), requestFor(relay(7)));
    CHECK(result.error() == empty.file("ca.pem") + ": cannot read file: No such file or directory");
  }
  CHECK_FALSE(std::filesystem::exists(tmp.file("relay-0.pem")));
}

TEST_CASE("extra SANs are IP addresses or DNS host names", "[tls][pki]") {
  for (const char* good : {"203.0.113.9", "2001:db8::1", "ctl.example.net", "overline-controller", "a"}) {
    INFO(good);
    CHECK(validExtraSan(good));
  }
  for (const char* bad : {"", "bad_name!", "-ctl.example", "ctl-.example", "ctl..example", "ctl.example.", "a b"}) {
    INFO(bad);
    CHECK_FALSE(validExtraSan(bad));
  }
  CHECK_FALSE(validExtraSan(std::string(64, 'a') + ".example"));
}

}  // namespace
}  // namespace overline::tls
