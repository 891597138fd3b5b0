// A real overline-controller, provisioned with overlinectl, with fake relays
// on gRPC sessions: route tables with growing versions, reroutes on link
// reports and drains, GetPath, metrics, edge allocation, and a kill -9
// restart that loses nothing acknowledged and never reuses a version.

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <csignal>

#include "common/tls/grpc_tls.h"
#include "common/tls/pki.h"
#include "common/token/join_token.h"
#include "overline/v1/edge.grpc.pb.h"
#include "tests/integration/controller/controller_harness.h"
#include "tests/integration/controller/fake_relay.h"

namespace overline::controller::testing {
namespace {

using namespace std::chrono_literals;
// Links stay fresh for the whole test; routes are recomputed every 200 ms.
const std::string kConfig = "routes: {recompute_interval_ms: 200, debounce_ms: 10, link_expiry_ms: 60000}\n";

void provisionDiamond(const TempDir& dir, const std::string& address) {
  for (const std::string id : {"1", "2", "3", "4"}) {
    const auto result = runCtl(dir, address,
                               {"provision", id, "--region", "eu", "--line", "a=127.0." + id + ".1:400" + id,
                                "--line", "b=127.0." + id + ".2:0,isp=isp-b", "--capacity", "10G"});
    INFO(result.err);
    REQUIRE(result.exit_code == 0);
    REQUIRE(result.out == std::vector<std::string>{"node " + id + " provisioned"});
  }
}

// 1 -10ms- 2 -10ms- 4 and 1 -20ms- 3 -20ms- 4.
struct Diamond {
  explicit Diamond(const ControllerProcess& controller) {
    for (NodeId id = 1; id <= 4; ++id) {
      relays.push_back(std::make_unique<FakeRelay>(controller, id));
      const v1::HelloAck ack = relays.back()->hello();
      INFO(ack.reason());
      REQUIRE(ack.accepted());
    }
    relay(1).report({{2, 10}, {3, 20}});
    relay(2).report({{1, 10}, {4, 10}});
    relay(3).report({{1, 20}, {4, 20}});
    relay(4).report({{2, 10}, {3, 20}});
  }
  FakeRelay& relay(NodeId id) { return *relays.at(id - 1); }
  std::vector<std::unique_ptr<FakeRelay>> relays;
};

std::function<bool(const v1::RouteTable&)> via(NodeId destination, NodeId primary, std::uint64_t after_version = 0) {
  return [=](const v1::RouteTable& table) {
    return table.version() > after_version && hopsTo(table, destination).first == primary;
  };
}

std::vector<nlohmann::json> eventsOf(const TempDir& dir, const std::string& address) {
  const auto result = runCtl(dir, address, {"events", "--json"});
  REQUIRE(result.exit_code == 0);
  std::vector<nlohmann::json> events;
  for (const std::string& line : result.out) events.push_back(nlohmann::json::parse(line));
  return events;
}

bool hasEvent(const std::vector<nlohmann::json>& events, const std::string& type, int node) {
  return std::any_of(events.begin(), events.end(), [&](const nlohmann::json& e) {
    return e.at("type") == type && e.at("node_id") == node;
  });
}

TEST_CASE("relays get versioned route tables that follow link reports and drains") {
  TempDir dir;
  auto controller = ControllerProcess::start(dir, kConfig);
  provisionDiamond(dir, controller->adminAddress());
  Diamond mesh(*controller);

  const auto first = mesh.relay(1).waitForTable(via(4, 2), 5s);
  REQUIRE(first);
  CHECK(hopsTo(*first, 4).second == 3);  // backup
  CHECK(first->version() >= 1);

  // Node 1 loses its link to 2: its table reroutes under a higher version.
  mesh.relay(1).report({{2, 10, v1::LINK_STATE_DOWN, 1.0}, {3, 20}});
  const auto rerouted = mesh.relay(1).waitForTable(via(4, 3, first->version()), 5s);
  REQUIRE(rerouted);

  // Back up, then drain node 2: routes go around it again.
  mesh.relay(1).report({{2, 10}, {3, 20}});
  const auto back = mesh.relay(1).waitForTable(via(4, 2, rerouted->version()), 5s);
  REQUIRE(back);
  const auto drained = runCtl(dir, controller->adminAddress(), {"drain", "2"});
  REQUIRE(drained.exit_code == 0);
  CHECK(drained.out == std::vector<std::string>{"node 2 drained"});
  const auto around = mesh.relay(1).waitForTable(via(4, 3, back->version()), 5s);
  REQUIRE(around);
  CHECK(mesh.relay(4).waitForTable(via(1, 3, back->version()), 5s));
  // A drained node is still a destination.
  CHECK(hopsTo(*around, 2).first != kNoNode);

  const auto events = eventsOf(dir, controller->adminAddress());
  CHECK(hasEvent(events, "EVENT_TYPE_LINK_DOWN", 1));
  CHECK(hasEvent(events, "EVENT_TYPE_FAILOVER", 1));
  CHECK(hasEvent(events, "EVENT_TYPE_LINK_UP", 1));
  CHECK(hasEvent(events, "EVENT_TYPE_NODE_DRAINED", 2));
  CHECK(hasEvent(events, "EVENT_TYPE_REROUTE", 1));
  for (std::size_t i = 0; i < events.size(); ++i) CHECK(events[i].at("sequence") == std::to_string(i + 1));

  const auto nodes = runCtl(dir, controller->adminAddress(), {"nodes", "--json"});
  REQUIRE(nodes.exit_code == 0);
  std::string text;
  for (const auto& line : nodes.out) text += line + "\n";
  const auto json = nlohmann::json::parse(text);
  REQUIRE(json.at("nodes").size() == 4);
  CHECK(json.at("nodes")[0].at("connected") == true);
  CHECK(json.at("nodes")[1].at("drained") == true);
  // Line b was provisioned with port 0: the relay's hello filled it in.
  CHECK(json.at("nodes")[0].at("lines")[1].at("address") == "127.0.1.2:4001");
}

TEST_CASE("a relay that is not provisioned, or not as provisioned, is refused with a reason") {
  TempDir dir;
  auto controller = ControllerProcess::start(dir, kConfig);
  FakeRelay stranger(*controller, 9);
  const v1::HelloAck refused = stranger.hello();
  CHECK_FALSE(refused.accepted());
  CHECK(refused.reason() == "node 9 is not provisioned");
  const auto end = stranger.waitForEnd(5s);
  REQUIRE(end);
  CHECK(end->error_code() == grpc::StatusCode::NOT_FOUND);

  provisionDiamond(dir, controller->adminAddress());
  FakeRelay one_line(*controller, 1, "eu", 1);
  CHECK(one_line.hello().reason() == "lines [a] differ from the provisioned [a, b]");
  CHECK(one_line.waitForEnd(5s)->error_code() == grpc::StatusCode::FAILED_PRECONDITION);
}

TEST_CASE("GetPath reflects a degraded link after a report") {
  TempDir dir;
  auto controller = ControllerProcess::start(dir, kConfig);
  provisionDiamond(dir, controller->adminAddress());
  Diamond mesh(*controller);
  REQUIRE(mesh.relay(1).waitForTable(via(4, 2), 5s));

  const auto path = [&] {
    const auto result = runCtl(dir, controller->adminAddress(), {"path", "1", "4", "--json"});
    REQUIRE(result.exit_code == 0);
    std::string text;
    for (const auto& line : result.out) text += line + "\n";
    return nlohmann::json::parse(text);
  };
  CHECK(path().at("primary").at("nodes") == nlohmann::json::array({1, 2, 4}));

  mesh.relay(1).report({{2, 10, v1::LINK_STATE_DEGRADED, 0.3}, {3, 20}});
  nlohmann::json after;
  REQUIRE(waitFor(
      [&] {
        after = path();
        return after.at("primary").at("nodes") == nlohmann::json::array({1, 3, 4});
      },
      5s));
  CHECK(after.at("backup").at("nodes") == nlohmann::json::array({1, 2, 4}));
  CHECK(after.at("backup").at("hops")[0].at("state") == "LINK_STATE_DEGRADED");
  CHECK(after.at("backup").at("hops")[0].at("loss") == Approx(0.3));

  const auto human = runCtl(dir, controller->adminAddress(), {"path", "1", "4"});
  REQUIRE(human.exit_code == 0);
  REQUIRE(human.out.size() >= 2);
  CHECK(human.out[1].starts_with("primary: 1 -> 3 -> 4"));
}

TEST_CASE("a controller killed with -9 loses nothing acknowledged and never reuses a route version") {
  TempDir dir;
  auto controller = ControllerProcess::start(dir, kConfig);
  provisionDiamond(dir, controller->adminAddress());
  std::uint64_t highest = 0;
  {
    Diamond mesh(*controller);
    REQUIRE(mesh.relay(1).waitForTable(via(4, 2), 5s));
    mesh.relay(1).report({{2, 10, v1::LINK_STATE_DOWN, 1.0}, {3, 20}});
    const auto down = mesh.relay(1).waitForTable(via(4, 3, 1), 5s);
    REQUIRE(down);
    mesh.relay(1).report({{2, 10}, {3, 20}});
    const auto up = mesh.relay(1).waitForTable(via(4, 2, down->version()), 5s);
    REQUIRE(up);
    // Acknowledged just before the kill: 3 no longer carries node 1's backup.
    REQUIRE(runCtl(dir, controller->adminAddress(), {"drain", "3"}).exit_code == 0);
    REQUIRE(mesh.relay(1).waitForTable(
        [&](const v1::RouteTable& t) { return t.version() > up->version() && hopsTo(t, 4).second == kNoNode; },
        5s));
    for (NodeId id = 1; id <= 4; ++id) highest = std::max(highest, mesh.relay(id).highestVersion());
    const auto events_before = eventsOf(dir, controller->adminAddress());
    REQUIRE_FALSE(events_before.empty());

    controller->process().signal(SIGKILL);
    REQUIRE(controller->process().waitExit(5s));
    for (NodeId id = 1; id <= 4; ++id) CHECK(mesh.relay(id).waitForEnd(5s));

    controller = ControllerProcess::start(dir, kConfig);
    const auto events_after = eventsOf(dir, controller->adminAddress());
    REQUIRE(events_after.size() >= events_before.size());
    for (std::size_t i = 0; i < events_before.size(); ++i) CHECK(events_after[i] == events_before[i]);
  }
  const auto nodes = runCtl(dir, controller->adminAddress(), {"nodes", "--json"});
  std::string text;
  for (const auto& line : nodes.out) text += line + "\n";
  const auto json = nlohmann::json::parse(text);
  REQUIRE(json.at("nodes").size() == 4);
  CHECK(json.at("nodes")[2].at("drained") == true);

  Diamond mesh(*controller);
  const auto table = mesh.relay(1).waitForTable([](const v1::RouteTable&) { return true; }, 5s);
  REQUIRE(table);
  CHECK(table->version() > highest);
  for (NodeId id = 2; id <= 4; ++id) {
    const auto other = mesh.relay(id).waitForTable([](const v1::RouteTable&) { return true; }, 5s);
    REQUIRE(other);
    CHECK(other->version() > highest);
  }
}

TEST_CASE("the controller's metrics count relays, reports, computations and pushes") {
  TempDir dir;
  auto controller = ControllerProcess::start(dir, kConfig, ControllerProcess::Metrics::kOn);
  provisionDiamond(dir, controller->adminAddress());
  Diamond mesh(*controller);
  REQUIRE(mesh.relay(1).waitForTable(via(4, 2), 5s));
  for (NodeId id = 2; id <= 4; ++id) {
    REQUIRE(mesh.relay(id).waitForTable([](const v1::RouteTable&) { return true; }, 5s));
  }
  // Every relay has a table now, and pushes are counted before they are
  // queued; reports may still be in flight.
  localmesh::MetricSamples samples;
  REQUIRE(waitFor(
      [&] {
        samples = controller->scrape();
        return localmesh::sumOf(samples, "overline_controller_reports_received_total") >= 4;
      },
      5s));
  CHECK(localmesh::valueOf(samples, "overline_controller_connected_relays") == 4);
  CHECK(localmesh::sumOf(samples, "overline_controller_route_version") >= 1);
  CHECK(localmesh::sumOf(samples, "overline_controller_route_pushes_total") >= 4);
  CHECK(localmesh::sumOf(samples, "overline_controller_route_computation_seconds_count") >= 1);
  CHECK(localmesh::valueOf(samples, "overline_controller_ignored_link_reports_total{reason=\"unknown_node\"}") == 0);
}

TEST_CASE("edge allocation offers connected relays with one token bound to them and the observed address") {
  TempDir dir;
  auto controller = ControllerProcess::start(dir, kConfig);
  provisionDiamond(dir, controller->adminAddress());
  Diamond mesh(*controller);
  REQUIRE(runCtl(dir, controller->adminAddress(), {"drain", "1"}).exit_code == 0);

  const auto trust = tls::loadTrust(controller->pkiDir() + "/ca.pem");
  REQUIRE(trust.ok());
  auto edge = v1::Edge::NewStub(
      tls::serverVerifiedChannel(controller->edgeAddress(), trust.value(), tls::kControllerServerName));
  v1::AllocateEdgeRequest request;
  request.add_roles(v1::JOIN_ROLE_SUBSCRIBE);
  request.mutable_scope()->set_prefix_bits(64);
  request.mutable_scope()->set_value(makeStreamId(3, 1));
  request.set_region_hint("eu");
  request.set_isp_hint("isp-b");
  v1::AllocateEdgeResponse response;
  grpc::ClientContext context;
  const grpc::Status status = edge->AllocateEdge(&context, request, &response);
  REQUIRE(status.ok());
  REQUIRE(response.candidates_size() == 3);
  CHECK(response.candidates(0).node_id() == 2);  // 1 is drained
  CHECK(response.candidates(0).isp() == "isp-b");
  CHECK(response.candidates(0).address() == "127.0.2.2:4002");
  // This test reaches the loopback controller from 127.0.0.1.
  CHECK(response.observed_address() == "127.0.0.1");
  const auto key = token::parseHexKey(kTokenKeyHex).value();
  const std::int64_t now_s = response.expires_unix_s() - 300;
  const std::string& join_token = response.candidates(0).join_token();
  for (int i = 0; i < response.candidates_size(); ++i) {
    const NodeId node = response.candidates(i).node_id();
    INFO("node " << node);
    CHECK(response.candidates(i).join_token() == join_token);
    const auto verified = token::verifyJoinToken(key, join_token, node, "127.0.0.1", now_s);
    REQUIRE(verified.ok());
    CHECK(verified.value().allows(token::Role::kSubscribe, makeStreamId(3, 1)));
    CHECK_FALSE(verified.value().allows(token::Role::kPublish, makeStreamId(3, 1)));
    CHECK_FALSE(verified.value().allows(token::Role::kSubscribe, makeStreamId(3, 2)));
  }
  CHECK(token::verifyJoinToken(key, join_token, 2, "198.51.100.8", now_s).error() ==
        token::TokenError::kBadSignature);
  CHECK(token::verifyJoinToken(key, join_token, 1, "127.0.0.1", now_s).error() == token::TokenError::kWrongEdge);

  request.clear_roles();
  grpc::ClientContext bad_context;
  const grpc::Status bad = edge->AllocateEdge(&bad_context, request, &response);
  CHECK(bad.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(bad.error_message() == "roles: ask for JOIN_ROLE_PUBLISH, JOIN_ROLE_SUBSCRIBE or both");
}

}  // namespace
}  // namespace overline::controller::testing
