// Control-plane trust against the real controller process: who may call
// what on the relays and admin listeners, and what a refusal looks like
// (controller/caller_auth.h). Each refusal is also counted by reason.

#include <catch2/catch.hpp>

#include <chrono>
#include <fstream>
#include <sstream>

#include "common/tls/grpc_tls.h"
#include "common/tls/pki.h"
#include "deploy/localmesh/metrics_scrape.h"
#include "overline/v1/admin.grpc.pb.h"
#include "tests/integration/controller/controller_harness.h"
#include "tests/integration/controller/fake_relay.h"

namespace overline::controller::testing {
namespace {

using namespace std::chrono_literals;

std::int64_t nowS() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string readFile(const std::string& path) {
  std::stringstream text;
  text << std::ifstream(path).rdbuf();
  return text.str();
}

// Certificate files as they are, without loadIdentity's checks: a client
// presenting an expired or foreign certificate on purpose.
tls::IdentityFiles rawIdentity(const std::string& ca_dir, const std::string& dir, const std::string& stem) {
  tls::IdentityFiles files;
  files.ca_pem = readFile(ca_dir + "/ca.pem");
  files.cert_pem = readFile(dir + "/" + stem + ".pem");
  files.key_pem = readFile(dir + "/" + stem + ".key");
  REQUIRE_FALSE(files.cert_pem.empty());
  return files;
}

grpc::Status listNodes(const std::shared_ptr<grpc::Channel>& channel) {
  auto admin = v1::Admin::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + 5s);
  v1::ListNodesResponse response;
  return admin->ListNodes(&context, v1::ListNodesRequest(), &response);
}

double refused(const ControllerProcess& controller, const std::string& listener, const std::string& reason) {
  return localmesh::valueOf(controller.scrape(), "overline_controller_refused_calls_total{listener=\"" + listener +
                                                     "\",reason=\"" + reason + "\"}")
      .value_or(0);
}

TEST_CASE("Admin refuses callers without a valid operator certificate, and read-only operators' writes") {
  TempDir dir;
  auto controller = ControllerProcess::start(dir, "", ControllerProcess::Metrics::kOn);
  const std::string& admin = controller->adminAddress();
  const std::string pki = pkiDir(dir);
  REQUIRE(runCtl(dir, admin, {"provision", "1", "--region", "eu", "--line", "a=127.0.1.1:4001", "--capacity", "1G"})
              .exit_code == 0);

  // No certificate at all: the TLS handshake completes, the call does not.
  const auto trust = tls::loadTrust(pki + "/ca.pem");
  REQUIRE(trust.ok());
  const grpc::Status anonymous = listNodes(tls::serverVerifiedChannel(admin, trust.value(), tls::kControllerServerName));
  CHECK(anonymous.error_code() == grpc::StatusCode::UNAUTHENTICATED);
  CHECK(refused(*controller, "admin", "missing") == 1);
  // Its own certificate's end, for the CertificateExpiresSoon alert (pki: 365 days).
  CHECK(localmesh::valueOf(controller->scrape(), "overline_controller_certificate_expiry_timestamp_seconds")
            .value_or(0) > static_cast<double>(nowS() + 300 * 86400));

  // A relay's certificate is valid, but not an operator's.
  FakeRelay issue_relay_certificate(*controller, 1);
  const auto as_relay = runCtl(dir, admin, {"--cert", pki + "/relay-1.pem", "--key", pki + "/relay-1.key", "nodes"});
  CHECK(as_relay.exit_code == 1);
  CHECK(as_relay.err == "overlinectl: refused by the controller: Admin needs an operator certificate, not relay 1\n");
  CHECK(refused(*controller, "admin", "wrong_role") == 1);

  // A read-only operator reads, and may not write.
  CHECK(runCtl(dir, admin, {"nodes"}, "viewer").exit_code == 0);
  const auto drain = runCtl(dir, admin, {"drain", "1"}, "viewer");
  CHECK(drain.exit_code == 1);
  CHECK(drain.err == "overlinectl: refused by the controller: operator viewer (read-only) may not change anything\n");
  CHECK(runCtl(dir, admin, {"keys", "rotate"}, "viewer").exit_code == 1);
  CHECK(refused(*controller, "admin", "read_only") == 2);
  const auto nodes = runCtl(dir, admin, {"--json", "nodes"});
  REQUIRE(nodes.exit_code == 0);
  std::string text;
  for (const auto& line : nodes.out) text += line;
  CHECK(text.find("\"drained\": false") != std::string::npos);

  // An expired operator certificate, and one from another CA.
  REQUIRE(tls::issueCertificate(pki, {{tls::PeerRole::kOperatorWrite, 0, "gone"}, {nowS() - 7200, nowS() - 3600}, {}}));
  CHECK(listNodes(tls::mutualTlsChannel(admin, rawIdentity(pki, pki, "operator-gone"), tls::kControllerServerName))
            .error_code() == grpc::StatusCode::UNAUTHENTICATED);
  CHECK(refused(*controller, "admin", "expired") == 1);
  const std::string other = dir.file("other-pki");
  REQUIRE_FALSE(tls::initAuthority(other, "someone else", tls::validFor(nowS(), 1)));
  REQUIRE(tls::issueCertificate(other, {{tls::PeerRole::kOperatorWrite, 0, "admin"}, tls::validFor(nowS(), 1), {}}));
  CHECK(listNodes(tls::mutualTlsChannel(admin, rawIdentity(pki, other, "operator-admin"), tls::kControllerServerName))
            .error_code() == grpc::StatusCode::UNAUTHENTICATED);
  CHECK(refused(*controller, "admin", "untrusted") == 1);
}

TEST_CASE("a relay session claiming another node's id is refused, and the real node's session is untouched") {
  TempDir dir;
  auto controller = ControllerProcess::start(dir, "", ControllerProcess::Metrics::kOn);
  for (const char* id : {"1", "2"}) {
    REQUIRE(runCtl(dir, controller->adminAddress(),
                   {"provision", id, "--region", "eu", "--line", std::string("a=127.0.") + id + ".1:4001", "--line",
                    std::string("b=127.0.") + id + ".2:4001", "--capacity", "1G"})
                .exit_code == 0);
  }
  FakeRelay real(*controller, 2);
  REQUIRE(real.hello().accepted());

  // Relay 1's certificate, node 2's hello.
  FakeRelay impostor(*controller, 2, "eu", 2, /*certificate_node=*/1);
  const v1::HelloAck refused_hello = impostor.hello();
  CHECK_FALSE(refused_hello.accepted());
  CHECK(refused_hello.reason() == "the certificate names relay 1, the hello node 2");
  const auto impostor_end = impostor.waitForEnd(5s);
  REQUIRE(impostor_end);
  CHECK(impostor_end->error_code() == grpc::StatusCode::PERMISSION_DENIED);
  CHECK(refused(*controller, "relays", "wrong_node") == 1);

  // The real session lives on: it still gets what the controller pushes.
  CHECK_FALSE(real.waitForEnd(200ms));
  CHECK(localmesh::valueOf(controller->scrape(), "overline_controller_connected_relays") == 1);
  REQUIRE(runCtl(dir, controller->adminAddress(), {"keys", "rotate"}).exit_code == 0);
  CHECK(real.waitForPeers([](const v1::PeerList& list) {
    return list.peers_size() == 1 && list.peers(0).keys_size() == 2;
  }, 5s));

  // An operator's certificate cannot open a relay session at all.
  const std::string pki = pkiDir(dir);
  const auto files = tls::loadIdentity(pki + "/ca.pem", pki + "/operator-admin.pem", pki + "/operator-admin.key", nowS());
  REQUIRE(files.ok());
  auto stub = v1::RelaySession::NewStub(
      tls::mutualTlsChannel(controller->relaysAddress(), files.value(), tls::kControllerServerName));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + 5s);
  auto stream = stub->Session(&context);
  v1::ControllerMessage ignored;
  CHECK_FALSE(stream->Read(&ignored));
  CHECK(stream->Finish().error_code() == grpc::StatusCode::PERMISSION_DENIED);
  CHECK(refused(*controller, "relays", "wrong_role") == 1);
}

}  // namespace
}  // namespace overline::controller::testing
