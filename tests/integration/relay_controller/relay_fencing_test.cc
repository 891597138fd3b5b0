// The real overline-relay under an in-process fake controller (a gRPC
// RelaySession server with mutual TLS from a test CA): the relay presents
// its certificate and is accepted, gets a peer list whose keys are its only
// keys (no auth section), then route table 5 and, behind it, an older table
// 3. The relay must run 5, ignore 3 and count it, and send with the pushed
// key epoch (docs/architecture.md, "Trust"; relay/control/route_fence.h).

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <csignal>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <string>

#include "common/tls/certificate_verifier.h"
#include "common/tls/grpc_tls.h"
#include "common/tls/pki.h"
#include "common/tls/tls_files.h"
#include "deploy/localmesh/metrics_scrape.h"
#include "overline/v1/relay_session.grpc.pb.h"
#include "tests/integration/controller/controller_harness.h"

namespace overline::relay {
namespace {

using namespace std::chrono_literals;
using controller::testing::binary;
using controller::testing::TempDir;
using controller::testing::waitFor;
namespace fs = std::filesystem;

constexpr NodeId kRelay = 7;
constexpr NodeId kPeer = 8;

std::int64_t unixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Accepts one relay's hello (checking its certificate names the node the
// hello does), pushes a peer list with keys, route table 5, then 3, and
// keeps the stream open until the relay or the server ends it.
class FakeController final : public v1::RelaySession::Service {
 public:
  explicit FakeController(std::shared_ptr<const tls::CertificateVerifier> verifier)
      : verifier_(std::move(verifier)) {}

  grpc::Status Session(grpc::ServerContext* context,
                       grpc::ServerReaderWriter<v1::ControllerMessage, v1::RelayMessage>* stream) override {
    const auto caller = tls::callerIdentity(*context->auth_context(), *verifier_, unixNow());
    if (!caller) return {grpc::StatusCode::UNAUTHENTICATED, caller.error().detail};
    v1::RelayMessage hello;
    if (!stream->Read(&hello) || !hello.has_hello()) return {grpc::StatusCode::INVALID_ARGUMENT, "no hello"};
    if (caller.value().role != tls::PeerRole::kRelay || caller.value().node != hello.hello().node_id()) {
      return {grpc::StatusCode::PERMISSION_DENIED, "certificate names another node"};
    }
    hello_node_ = hello.hello().node_id();

    v1::ControllerMessage ack;
    ack.mutable_hello_ack()->set_accepted(true);
    stream->Write(ack);

    v1::ControllerMessage peers;
    v1::Peer& peer = *peers.mutable_peer_list()->add_peers();
    peer.set_node_id(kPeer);
    peer.set_region("eu");
    v1::Line& line = *peer.add_lines();
    line.set_name("a");
    line.set_address("127.0.8.1:40001");
    line.set_isp("a");
    v1::PairKey& key = *peer.add_keys();
    key.set_epoch(1);
    key.set_key(std::string(16, '\x5a'));
    v1::PairKey& bad = *peer.add_keys();  // hostile: refused, counted, the rest kept
    bad.set_epoch(2);
    bad.set_key("short");
    stream->Write(peers);

    stream->Write(routeTable(5));
    stream->Write(routeTable(3));  // older: a stale controller's

    v1::RelayMessage report;
    while (stream->Read(&report)) {
    }
    return grpc::Status::OK;
  }

  std::atomic<NodeId> hello_node_{kNoNode};

 private:
  static v1::ControllerMessage routeTable(std::uint64_t version) {
    v1::ControllerMessage message;
    v1::RouteTable& table = *message.mutable_route_table();
    table.set_version(version);
    v1::Route& route = *table.add_routes();
    route.set_destination(kPeer);
    route.mutable_primary()->set_node_id(kPeer);
    return message;
  }

  std::shared_ptr<const tls::CertificateVerifier> verifier_;
};

double metric(const std::string& metrics_address, const std::string& name) {
  const auto text = localmesh::httpGet("http://" + metrics_address + "/metrics", 2s);
  if (!text) return -1;
  return localmesh::valueOf(localmesh::parsePrometheusText(*text), name).value_or(-1);
}

TEST_CASE("a relay runs the newest route table and ignores and counts an older one") {
  TempDir dir;
  const std::string pki = dir.file("pki");
  const std::int64_t now = unixNow();
  REQUIRE_FALSE(tls::initAuthority(pki, "fencing test CA", tls::validFor(now, 1)).has_value());
  const auto controller_cert = tls::issueCertificate(
      pki, {tls::PeerIdentity{tls::PeerRole::kController, kNoNode, "test"}, tls::validFor(now, 1), {}});
  INFO((controller_cert ? std::string() : controller_cert.error()));
  REQUIRE(controller_cert.ok());
  const auto relay_cert = tls::issueCertificate(
      pki, {tls::PeerIdentity{tls::PeerRole::kRelay, kRelay, {}}, tls::validFor(now, 1), {}});
  REQUIRE(relay_cert.ok());

  // The fake controller on 127.0.0.1:<kernel's port>.
  const auto identity = tls::loadIdentity(pki + "/ca.pem", pki + "/controller.pem", pki + "/controller.key", now);
  INFO((identity ? std::string() : identity.error().message));
  REQUIRE(identity.ok());
  const auto verifier = tls::CertificateVerifier::fromCaPem(identity.value().ca_pem);
  REQUIRE(verifier.ok());
  FakeController service(verifier.value());
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", tls::mutualTlsServer(identity.value()), &port);
  builder.RegisterService(&service);
  const std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  REQUIRE(server != nullptr);
  REQUIRE(port > 0);

  // The relay: keys only from the controller (no auth section).
  const std::string base = dir.file("relay-7");
  std::ofstream(base + ".yaml") << "node_id: 7\nregion: eu\nlines:\n"
                                << "  - {name: a, bind: \"127.0.7.1:0\"}\n"
                                << "controller:\n  addresses: [\"127.0.0.1:" << port << "\"]\n"
                                << "  report_interval_ms: 200\n  backoff_initial_ms: 50\n  backoff_max_ms: 400\n"
                                << "  tls:\n    ca_file: " << pki << "/ca.pem\n"
                                << "    cert_file: " << pki << "/relay-7.pem\n"
                                << "    key_file: " << pki << "/relay-7.key\n"
                                << "metrics: {listen: \"127.0.0.1:0\"}\n";
  std::string error;
  auto relay = localmesh::ChildProcess::start(
      {binary("overline-relay"), "--config", base + ".yaml", "--ready-file", base + ".ready"}, base + ".log", &error);
  INFO(error);
  REQUIRE(relay.has_value());
  REQUIRE(waitFor([&] { return fs::exists(base + ".ready") || !relay->running(); }, 10s));
  REQUIRE(fs::exists(base + ".ready"));
  const std::string metrics =
      nlohmann::json::parse(std::ifstream(base + ".ready")).at("metrics").get<std::string>();

  // mTLS worked both ways: the session is up and the hello came from relay 7.
  REQUIRE(waitFor([&] { return metric(metrics, "overline_relay_controller_connected") == 1; }, 10s));
  CHECK(service.hello_node_ == kRelay);
  // Table 5 applied, table 3 behind it ignored and counted.
  REQUIRE(waitFor([&] { return metric(metrics, "overline_relay_route_tables_ignored_total") == 1; }, 10s));
  CHECK(metric(metrics, "overline_relay_route_table_version") == 5);
  CHECK(metric(metrics, "overline_relay_route_tables_applied_total") == 1);
  // The pushed key is the relay's key toward peer 8; the short one was refused.
  CHECK(metric(metrics, "overline_relay_peer_lists_applied_total") == 1);
  CHECK(metric(metrics, "overline_relay_pushed_keys_ignored_total") == 1);
  CHECK(metric(metrics, "overline_relay_peers_without_key_total") == 0);
  REQUIRE(waitFor([&] { return metric(metrics, "overline_relay_auth_sending_epoch") == 1; }, 5s));

  // Reports keep flowing and nothing changes its mind later.
  REQUIRE(waitFor([&] { return metric(metrics, "overline_relay_route_table_age_seconds") >= 0.5; }, 5s));
  CHECK(metric(metrics, "overline_relay_route_table_version") == 5);
  CHECK(metric(metrics, "overline_relay_route_tables_ignored_total") == 1);

  relay->signal(SIGINT);
  CHECK(relay->waitExit(10s).has_value());
  server->Shutdown(std::chrono::system_clock::now() + 2s);
}

}  // namespace
}  // namespace overline::relay
