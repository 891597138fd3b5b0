// Controller driven directly, without gRPC: relays are recording channels,
// time is a fake clock, routes are computed on the test's thread
// (recomputeRoutes(), no worker). The store is a real RocksDB in a temp dir.

#include "controller/controller.h"

#include <catch2/catch.hpp>

#include <map>
#include <optional>

#include "common/crypto/key_derivation.h"
#include "common/token/join_token.h"
#include "tests/unit/controller/temp_dir.h"

namespace overline::controller {
namespace {

using testing::TempDir;

const std::vector<std::uint8_t> kTokenKey = token::parseHexKey("000102030405060708090a0b0c0d0e0f").value();

// A relay session that records what the controller queues.
class RecordingChannel final : public RelayChannel {
 public:
  void send(v1::ControllerMessage message) override {
    if (!closed_) messages_.push_back(std::move(message));
  }
  void close(const grpc::Status& status) override {
    if (closed_) return;
    closed_ = true;
    status_ = status;
  }

  const std::vector<v1::ControllerMessage>& messages() const { return messages_; }
  bool closed() const { return closed_; }
  const grpc::Status& status() const { return status_; }
  std::vector<v1::RouteTable> tables() const {
    std::vector<v1::RouteTable> out;
    for (const auto& m : messages_) {
      if (m.has_route_table()) out.push_back(m.route_table());
    }
    return out;
  }
  v1::RouteTable lastTable() const {
    const auto all = tables();
    REQUIRE_FALSE(all.empty());
    return all.back();
  }
  std::optional<v1::PeerList> lastPeers() const {
    std::optional<v1::PeerList> out;
    for (const auto& m : messages_) {
      if (m.has_peer_list()) out = m.peer_list();
    }
    return out;
  }

 private:
  std::vector<v1::ControllerMessage> messages_;
  bool closed_ = false;
  grpc::Status status_;
};

struct LinkSpec {
  NodeId to = kNoNode;
  double rtt_ms = 10;
  v1::LinkState state = v1::LINK_STATE_UP;
  double loss = 0.0;
  std::uint32_t local_line = 0;
  std::uint32_t remote_line = 0;
};

// Primary and backup next hop of `destination` in `table`; kNoNode for none.
std::pair<NodeId, NodeId> hopsTo(const v1::RouteTable& table, NodeId destination) {
  for (const v1::Route& route : table.routes()) {
    if (route.destination() == destination) {
      return {route.primary().node_id(), route.has_backup() ? route.backup().node_id() : kNoNode};
    }
  }
  return {kNoNode, kNoNode};
}

class Fixture {
 public:
  Fixture() {
    auto opened = ControllerStore::open(dir_.file("db"));
    REQUIRE(opened.ok());
    store_ = std::move(opened.value());
    settings_.edge.token_key = kTokenKey;
    start();
  }

  Controller& controller() { return *controller_; }
  ControllerStore& store() { return *store_; }
  std::int64_t& nowMs() { return now_ms_; }
  const ControllerSettings& settings() const { return settings_; }

  // Drops every session and the controller, and starts a new one on the same store.
  void restart() {
    controller_.reset();
    channels_.clear();
    start();
  }

  void provision(NodeId id, const std::string& region = "eu", std::vector<std::string> isps = {"isp-a", "isp-b"},
                 bool port_zero_on_second_line = false) {
    v1::ProvisionNodeRequest request;
    request.set_node_id(id);
    request.set_region(region);
    for (std::size_t i = 0; i < isps.size(); ++i) {
      v1::Line* line = request.add_lines();
      line->set_name(std::string(1, static_cast<char>('a' + i)));
      const bool zero = port_zero_on_second_line && i == 1;
      line->set_address("127.0." + std::to_string(id) + "." + std::to_string(i + 1) + ":" +
                        (zero ? "0" : std::to_string(4000 + id)));
      line->set_isp(isps[i]);
    }
    request.set_capacity_bps(1'000'000'000);
    v1::ProvisionNodeResponse response;
    REQUIRE(controller_->provisionNode(request, response).ok());
  }

  static v1::RelayHello helloOf(NodeId id, const std::string& region = "eu", std::size_t lines = 2,
                                std::uint16_t port = 0) {
    v1::RelayHello hello;
    hello.set_node_id(id);
    hello.set_region(region);
    hello.set_software_version("test");
    for (std::size_t i = 0; i < lines; ++i) {
      v1::Line* line = hello.add_lines();
      line->set_name(std::string(1, static_cast<char>('a' + i)));
      line->set_address("127.0." + std::to_string(id) + "." + std::to_string(i + 1) + ":" +
                        std::to_string(port == 0 ? 4000 + id : port));
    }
    return hello;
  }

  RecordingChannel& connect(NodeId id, const std::string& region = "eu", std::uint16_t port = 0) {
    auto channel = std::make_unique<RecordingChannel>();
    const auto accepted = controller_->onHello(helloOf(id, region, 2, port), id, "test", *channel);
    REQUIRE(accepted.ok());
    RecordingChannel& ref = *channel;
    channels_[id] = std::move(channel);
    return ref;
  }

  RecordingChannel& channel(NodeId id) { return *channels_.at(id); }

  void report(NodeId from, const std::vector<LinkSpec>& links, double load = 0.0) {
    v1::RelayReport report;
    report.set_sequence(++report_sequence_);
    report.set_load(load);
    for (const LinkSpec& spec : links) {
      v1::LinkReport* link = report.add_links();
      link->set_neighbour(spec.to);
      link->set_local_line(spec.local_line);
      link->set_remote_line(spec.remote_line);
      link->set_rtt_us(static_cast<std::uint64_t>(spec.rtt_ms * 1000));
      link->set_jitter_us(100);
      link->set_loss(spec.loss);
      link->set_state(spec.state);
    }
    controller_->onReport(from, report, *channels_.at(from));
  }

  // 1 -10ms- 2 -10ms- 4 and 1 -20ms- 3 -20ms- 4, every node connected.
  void diamond() {
    for (NodeId id : {1, 2, 3, 4}) provision(id);
    for (NodeId id : {1, 2, 3, 4}) connect(id);
    report(1, {{2, 10}, {3, 20}});
    report(2, {{1, 10}, {4, 10}});
    report(3, {{1, 20}, {4, 20}});
    report(4, {{2, 10}, {3, 20}});
  }

  std::vector<v1::Event> events(v1::EventType type) {
    std::vector<v1::Event> out;
    const auto all = store_->readEvents(1, 10'000);
    REQUIRE(all.ok());
    for (const v1::Event& e : all.value()) {
      if (e.type() == type) out.push_back(e);
    }
    return out;
  }

 private:
  void start() {
    auto created = Controller::create(*store_, settings_, metrics_, [this] { return now_ms_; });
    REQUIRE(created.ok());
    controller_ = std::move(created.value());
  }

  TempDir dir_;
  std::unique_ptr<ControllerStore> store_;
  ControllerMetrics metrics_;
  ControllerSettings settings_;
  std::int64_t now_ms_ = 1'700'000'000'000;
  std::uint64_t report_sequence_ = 0;
  std::map<NodeId, std::unique_ptr<RecordingChannel>> channels_;
  std::unique_ptr<Controller> controller_;
};

TEST_CASE("a hello from an unprovisioned node is refused with a reason") {
  Fixture f;
  RecordingChannel channel;
  const auto result = f.controller().onHello(Fixture::helloOf(9), 9, "test", channel);
  REQUIRE_FALSE(result.ok());
  CHECK(result.error().error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(result.error().error_message() == "node 9 is not provisioned");
  REQUIRE(channel.messages().size() == 1);
  CHECK_FALSE(channel.messages()[0].hello_ack().accepted());
  CHECK(channel.messages()[0].hello_ack().reason() == "node 9 is not provisioned");
}

TEST_CASE("a hello must match the provisioned region and lines") {
  Fixture f;
  f.provision(1);
  RecordingChannel wrong_region;
  auto result = f.controller().onHello(Fixture::helloOf(1, "us"), 1, "test", wrong_region);
  REQUIRE_FALSE(result.ok());
  CHECK(result.error().error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(result.error().error_message() == "region \"us\" differs from the provisioned \"eu\"");

  RecordingChannel wrong_lines;
  result = f.controller().onHello(Fixture::helloOf(1, "eu", 1), 1, "test", wrong_lines);
  REQUIRE_FALSE(result.ok());
  CHECK(result.error().error_message() == "lines [a] differ from the provisioned [a, b]");
}

TEST_CASE("an accepted hello gets ack, config and peers; announced addresses fill in port 0") {
  Fixture f;
  f.provision(1, "eu", {"isp-a", "isp-b"}, /*port_zero_on_second_line=*/true);
  f.provision(2);
  RecordingChannel& two = f.connect(2);
  RecordingChannel& one = f.connect(1, "eu", 5555);

  REQUIRE(one.messages().size() >= 3);
  CHECK(one.messages()[0].hello_ack().accepted());
  CHECK(one.messages()[1].config().probe_interval_ms() == 20);
  CHECK(one.messages()[1].config().report_interval_ms() == 1000);
  const auto peers_of_one = one.lastPeers();
  REQUIRE(peers_of_one);
  REQUIRE(peers_of_one->peers_size() == 1);
  CHECK(peers_of_one->peers(0).node_id() == 2);
  CHECK(peers_of_one->peers(0).lines(1).address() == "127.0.2.2:4002");

  // Node 1's line b was provisioned with port 0: node 2 learns the announced one.
  const auto peers_of_two = two.lastPeers();
  REQUIRE(peers_of_two);
  REQUIRE(peers_of_two->peers_size() == 1);
  CHECK(peers_of_two->peers(0).lines(0).address() == "127.0.1.1:4001");  // provisioned wins
  CHECK(peers_of_two->peers(0).lines(1).address() == "127.0.1.2:5555");  // announced fills in
  CHECK(f.events(v1::EVENT_TYPE_NODE_CONNECTED).size() == 2);
}

TEST_CASE("reports produce versioned route tables, pushed only when they change") {
  Fixture f;
  f.diamond();
  f.controller().recomputeRoutes();
  for (NodeId id : {1, 2, 3, 4}) {
    INFO("node " << id);
    REQUIRE(f.channel(id).tables().size() == 1);
    CHECK(f.channel(id).lastTable().version() == 1);
  }
  const v1::RouteTable table = f.channel(1).lastTable();
  CHECK(hopsTo(table, 4) == std::pair<NodeId, NodeId>{2, 3});
  CHECK(hopsTo(table, 2).first == 2);
  CHECK(hopsTo(table, 3).first == 3);
  CHECK(hopsTo(table, 1).first == kNoNode);  // no route to itself

  // Same measurements: nothing to push, no new version.
  f.report(1, {{2, 10.5}, {3, 20}});
  f.controller().recomputeRoutes();
  for (NodeId id : {1, 2, 3, 4}) CHECK(f.channel(id).tables().size() == 1);

  v1::ListNodesResponse nodes;
  f.controller().listNodes(nodes);
  REQUIRE(nodes.nodes_size() == 4);
  CHECK(nodes.nodes(0).route_version() == 1);
  CHECK(nodes.nodes(0).connected());
}

TEST_CASE("a line-pair change alone costs no new route version and no push") {
  Fixture f;
  f.diamond();
  f.controller().recomputeRoutes();
  REQUIRE(f.channel(1).tables().size() == 1);
  // Node 1 reaches 2 over two line pairs, and the cheaper pair swaps: the
  // next hops stay the same, and relays pick line pairs themselves.
  // (Node 2 sees the same from its end: each pair's cost is the worse end's.)
  f.report(1, {{2, 10, v1::LINK_STATE_UP, 0.0, 0, 0}, {2, 30, v1::LINK_STATE_UP, 0.0, 1, 1}, {3, 20}});
  f.report(2, {{1, 10, v1::LINK_STATE_UP, 0.0, 0, 0}, {1, 30, v1::LINK_STATE_UP, 0.0, 1, 1}, {4, 10}});
  f.controller().recomputeRoutes();
  f.report(1, {{2, 30, v1::LINK_STATE_UP, 0.0, 0, 0}, {2, 10, v1::LINK_STATE_UP, 0.0, 1, 1}, {3, 20}});
  f.report(2, {{1, 30, v1::LINK_STATE_UP, 0.0, 0, 0}, {1, 10, v1::LINK_STATE_UP, 0.0, 1, 1}, {4, 10}});
  f.controller().recomputeRoutes();
  for (NodeId id : {1, 2, 3, 4}) {
    INFO("node " << id);
    CHECK(f.channel(id).tables().size() == 1);
  }
}

TEST_CASE("a link going down records the failover and the reroute under a new version") {
  Fixture f;
  f.diamond();
  f.controller().recomputeRoutes();
  f.report(1, {{2, 10, v1::LINK_STATE_DOWN, 1.0}, {3, 20}});

  const auto down = f.events(v1::EVENT_TYPE_LINK_DOWN);
  REQUIRE(down.size() == 1);
  CHECK(down[0].node_id() == 1);
  CHECK(down[0].peer_node_id() == 2);
  CHECK(down[0].detail() == "node 1 line 0 (a) -> node 2 line 0 (a): up -> down, rtt 10.0 ms, loss 100.0%");
  const auto failover = f.events(v1::EVENT_TYPE_FAILOVER);
  REQUIRE(failover.size() == 1);
  CHECK(failover[0].node_id() == 1);
  CHECK(failover[0].peer_node_id() == 2);

  f.controller().recomputeRoutes();
  const v1::RouteTable table = f.channel(1).lastTable();
  CHECK(table.version() == 2);
  CHECK(hopsTo(table, 4).first == 3);
  CHECK(hopsTo(table, 2).first == 3);
  const auto reroutes = f.events(v1::EVENT_TYPE_REROUTE);
  REQUIRE_FALSE(reroutes.empty());
  CHECK(reroutes[0].route_version() == 2);

  // Back up: a LINK_UP event, and the cheaper route returns.
  f.report(1, {{2, 10}, {3, 20}});
  CHECK(f.events(v1::EVENT_TYPE_LINK_UP).size() == 1);
  f.controller().recomputeRoutes();
  CHECK(f.channel(1).lastTable().version() == 3);
  CHECK(hopsTo(f.channel(1).lastTable(), 4).first == 2);
}

TEST_CASE("GetPath shows the pushed route and reflects a degraded link") {
  Fixture f;
  f.diamond();
  f.controller().recomputeRoutes();
  v1::GetPathRequest request;
  request.set_source(1);
  request.set_destination(4);
  v1::GetPathResponse before;
  REQUIRE(f.controller().getPath(request, before).ok());
  CHECK(std::vector<std::uint32_t>(before.primary().nodes().begin(), before.primary().nodes().end()) ==
        std::vector<std::uint32_t>{1, 2, 4});
  REQUIRE(before.has_backup());
  CHECK(std::vector<std::uint32_t>(before.backup().nodes().begin(), before.backup().nodes().end()) ==
        std::vector<std::uint32_t>{1, 3, 4});
  CHECK(before.primary().hops(1).state() == v1::LINK_STATE_UP);
  CHECK(before.route_version() == 1);

  f.report(1, {{2, 10, v1::LINK_STATE_DEGRADED, 0.3}, {3, 20}});
  f.controller().recomputeRoutes();
  v1::GetPathResponse after;
  REQUIRE(f.controller().getPath(request, after).ok());
  CHECK(std::vector<std::uint32_t>(after.primary().nodes().begin(), after.primary().nodes().end()) ==
        std::vector<std::uint32_t>{1, 3, 4});
  REQUIRE(after.has_backup());
  CHECK(after.primary().cost_us() < after.backup().cost_us());
  REQUIRE(after.backup().hops_size() == 2);
  CHECK(after.backup().hops(0).state() == v1::LINK_STATE_DEGRADED);
  CHECK(after.backup().hops(0).loss() == Approx(0.3));
  CHECK(after.backup_kind() == "node_disjoint");
  CHECK(after.route_version() == 2);
  CHECK(f.events(v1::EVENT_TYPE_LINK_DEGRADED).size() == 1);

  v1::GetPathRequest unknown;
  unknown.set_source(1);
  unknown.set_destination(7);
  v1::GetPathResponse ignored;
  const grpc::Status status = f.controller().getPath(unknown, ignored);
  CHECK(status.error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(status.error_message() == "node 7 is not provisioned");
}

TEST_CASE("a drained node carries no transit but stays a destination") {
  Fixture f;
  f.diamond();
  f.controller().recomputeRoutes();
  bool changed = false;
  REQUIRE(f.controller().setDrained(2, true, changed).ok());
  CHECK(changed);
  REQUIRE(f.controller().setDrained(2, true, changed).ok());
  CHECK_FALSE(changed);
  f.controller().recomputeRoutes();
  CHECK(hopsTo(f.channel(1).lastTable(), 4).first == 3);
  CHECK(hopsTo(f.channel(1).lastTable(), 2).first == 2);
  CHECK(hopsTo(f.channel(4).lastTable(), 1).first == 3);
  CHECK(f.events(v1::EVENT_TYPE_NODE_DRAINED).size() == 1);

  REQUIRE(f.controller().setDrained(2, false, changed).ok());
  f.controller().recomputeRoutes();
  CHECK(hopsTo(f.channel(1).lastTable(), 4).first == 2);

  const grpc::Status unknown = f.controller().setDrained(7, true, changed);
  CHECK(unknown.error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(unknown.error_message() == "node 7 is not provisioned");
}

TEST_CASE("a relay's own drain holds until its next hello and is not the operator's drain") {
  // A session's channel must outlive the controller, which closes it on stop.
  RecordingChannel back;
  Fixture f;
  f.diamond();
  f.controller().recomputeRoutes();
  REQUIRE(hopsTo(f.channel(1).lastTable(), 4).first == 2);
  RecordingChannel stale;
  f.controller().onDrain(2, stale);  // not node 2's session: ignored
  f.controller().recomputeRoutes();
  CHECK(hopsTo(f.channel(1).lastTable(), 4).first == 2);

  f.controller().onDrain(2, f.channel(2));
  f.controller().onDrain(2, f.channel(2));  // once is enough
  f.controller().recomputeRoutes();
  CHECK(hopsTo(f.channel(1).lastTable(), 4).first == 3);
  CHECK(hopsTo(f.channel(1).lastTable(), 2).first == 2);
  CHECK(f.events(v1::EVENT_TYPE_NODE_DRAINED).size() == 1);
  v1::ListNodesResponse nodes;
  f.controller().listNodes(nodes);
  for (const auto& node : nodes.nodes()) CHECK_FALSE(node.drained());  // not persisted as intent

  // The session ends (the relay exits): still no transit through it...
  f.controller().onSessionEnded(2, f.channel(2));
  f.controller().recomputeRoutes();
  CHECK(hopsTo(f.channel(1).lastTable(), 4).first == 3);
  // ...until it says hello again.
  REQUIRE(f.controller().onHello(Fixture::helloOf(2), 2, "test", back).ok());
  f.controller().recomputeRoutes();
  CHECK(hopsTo(f.channel(1).lastTable(), 4).first == 2);
}

TEST_CASE("provisioning, events and route versions survive a restart") {
  Fixture f;
  f.diamond();
  f.controller().recomputeRoutes();
  f.report(1, {{2, 10, v1::LINK_STATE_DOWN, 1.0}, {3, 20}});
  f.controller().recomputeRoutes();
  REQUIRE(f.channel(1).lastTable().version() == 2);
  const std::uint64_t events_before = f.store().lastEventSequence();

  f.restart();
  v1::ListNodesResponse nodes;
  f.controller().listNodes(nodes);
  CHECK(nodes.nodes_size() == 4);
  CHECK_FALSE(nodes.nodes(0).connected());
  v1::ListLinksResponse links;
  f.controller().listLinks(links);
  CHECK(links.links_size() == 8);
  CHECK(f.store().readEvents(1, 1000)->size() == events_before);

  f.controller().recomputeRoutes();  // before anyone reconnects
  RecordingChannel& one = f.connect(1);
  CHECK(one.lastTable().version() == 3);
  CHECK(hopsTo(one.lastTable(), 4).first == 3);  // the down link is remembered
}

TEST_CASE("links not reported within the expiry are left out of routing") {
  Fixture f;
  f.diamond();
  f.controller().recomputeRoutes();
  f.nowMs() += f.settings().routes.link_expiry_us / kMillisecond + 1000;
  f.controller().recomputeRoutes();
  CHECK(f.channel(1).lastTable().routes_size() == 0);
  v1::ListLinksResponse links;
  f.controller().listLinks(links);
  REQUIRE(links.links_size() == 8);
  CHECK(links.links(0).stale());
}

TEST_CASE("a newer session replaces the older one, whose reports are then ignored") {
  RecordingChannel newer;  // outlives the controller, which closes it on stop
  Fixture f;
  f.diamond();
  RecordingChannel& old_session = f.channel(1);
  REQUIRE(f.controller().onHello(Fixture::helloOf(1), 1, "test", newer).ok());
  CHECK(old_session.closed());
  CHECK(old_session.status().error_code() == grpc::StatusCode::ABORTED);

  v1::RelayReport report;
  v1::LinkReport* link = report.add_links();
  link->set_neighbour(2);
  link->set_state(v1::LINK_STATE_DOWN);
  f.controller().onReport(1, report, old_session);
  CHECK(f.events(v1::EVENT_TYPE_LINK_DOWN).empty());

  // The old session's end does not disconnect the node.
  f.controller().onSessionEnded(1, old_session);
  v1::ListNodesResponse nodes;
  f.controller().listNodes(nodes);
  CHECK(nodes.nodes(0).connected());
  f.controller().onSessionEnded(1, newer);
  nodes.Clear();
  f.controller().listNodes(nodes);
  CHECK_FALSE(nodes.nodes(0).connected());
  CHECK(f.events(v1::EVENT_TYPE_NODE_DISCONNECTED).size() == 1);
}

TEST_CASE("removing a node ends its session and forgets its links") {
  Fixture f;
  f.diamond();
  REQUIRE(f.controller().removeNode(2).ok());
  CHECK(f.channel(2).closed());
  CHECK(f.channel(2).status().error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(f.channel(2).status().error_message() == "node 2 was removed");
  v1::ListLinksResponse links;
  f.controller().listLinks(links);
  for (const v1::Link& link : links.links()) {
    CHECK(link.from_node() != 2);
    CHECK(link.to_node() != 2);
  }
  const auto peers = f.channel(1).lastPeers();
  REQUIRE(peers);
  CHECK(peers->peers_size() == 2);
  CHECK(f.controller().removeNode(2).error_code() == grpc::StatusCode::NOT_FOUND);
}

TEST_CASE("link reports about unknown nodes, lines or bad figures are ignored") {
  Fixture f;
  f.provision(1);
  f.provision(2);
  f.provision(3);  // room for six links in one report (2 lines x 4 lines of others)
  f.connect(1);
  f.report(1, {{9, 10},                                      // unknown node
               {1, 10},                                      // itself
               {2, 10, v1::LINK_STATE_UP, 0.0, 5, 0},        // no line 5 here
               {2, 10, v1::LINK_STATE_UP, 1.5, 0, 0},        // loss above 1
               {2, 10, v1::LINK_STATE_UNSPECIFIED, 0, 0, 1},  // no state
               {2, 10, v1::LINK_STATE_UP, 0.0, 1, 1}});      // fine
  v1::ListLinksResponse links;
  f.controller().listLinks(links);
  REQUIRE(links.links_size() == 1);
  CHECK(links.links(0).from_line() == 1);
  CHECK(links.links(0).to_line() == 1);
  CHECK(links.links(0).from_line_name() == "b");
}

TEST_CASE("provisioning requests are validated field by field") {
  Fixture f;
  const auto problem = [&](auto edit) {
    v1::ProvisionNodeRequest request;
    request.set_node_id(1);
    request.set_region("eu");
    v1::Line* line = request.add_lines();
    line->set_name("a");
    line->set_address("127.0.0.1:1");
    request.set_capacity_bps(1);
    edit(request);
    v1::ProvisionNodeResponse response;
    const grpc::Status status = f.controller().provisionNode(request, response);
    CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    return status.error_message();
  };
  CHECK(problem([](auto& r) { r.set_node_id(0); }) == "node_id: must be 1..4294967295");
  CHECK(problem([](auto& r) { r.set_region(""); }) == "region: \"\" must be 1..64 characters of [A-Za-z0-9_.-]");
  CHECK(problem([](auto& r) { r.clear_lines(); }) == "lines: expected 1..256 lines, got 0");
  CHECK(problem([](auto& r) { *r.add_lines() = r.lines(0); }) == "lines[1].name: \"a\" is used twice");
  CHECK(problem([](auto& r) { r.mutable_lines(0)->set_address("x"); }) ==
        "lines[0].address: expected IPv4:port, got \"x\"");
  CHECK(problem([](auto& r) { r.set_capacity_bps(0); }) == "capacity_bps: must be greater than 0");
}

// What the Edge service passes as the caller: gRPC's peer string.
constexpr const char* kPeer = "ipv4:203.0.113.5:40123";
constexpr const char* kObserved = "203.0.113.5";

v1::AllocateEdgeRequest subscribeRequest() {
  v1::AllocateEdgeRequest request;
  request.add_roles(v1::JOIN_ROLE_SUBSCRIBE);
  return request;
}

token::JoinGrant verifiedGrant(const std::string& join_token, NodeId node, std::int64_t now_s,
                               std::string_view client = kObserved,
                               const std::vector<std::uint8_t>& key = kTokenKey) {
  const auto verified = token::verifyJoinToken(key, join_token, node, client, now_s);
  INFO("token " << join_token << " at node " << node);
  REQUIRE(verified.ok());
  return verified.value();
}

TEST_CASE("edge allocation ranks same region and ISP first and signs one token for all candidates") {
  Fixture f;
  f.provision(1, "eu", {"isp-a", "isp-b"});
  f.provision(2, "eu", {"isp-c", "isp-d"});
  f.provision(3, "us", {"isp-b", "isp-a"});
  f.provision(4, "eu", {"isp-b", "isp-c"});
  f.provision(5, "eu", {"isp-b", "isp-c"});
  for (NodeId id : {1, 2, 4, 5}) f.connect(id);
  f.connect(3, "us");
  bool changed = false;
  REQUIRE(f.controller().setDrained(4, true, changed).ok());
  f.report(5, {}, 0.95);  // overloaded

  v1::AllocateEdgeRequest request = subscribeRequest();
  request.set_region_hint("eu");
  request.set_isp_hint("isp-b");
  request.mutable_scope()->set_prefix_bits(64);
  request.mutable_scope()->set_value(makeStreamId(1, 7));
  v1::AllocateEdgeResponse response;
  REQUIRE(f.controller().allocateEdge(request, kPeer, response).ok());
  REQUIRE(response.candidates_size() == 3);
  CHECK(response.candidates(0).node_id() == 1);
  CHECK(response.candidates(0).address() == "127.0.1.2:4001");  // its isp-b line
  CHECK(response.candidates(0).isp() == "isp-b");
  CHECK(response.candidates(1).node_id() == 2);  // same region
  CHECK(response.candidates(2).node_id() == 3);  // same ISP
  CHECK(response.expires_unix_s() == f.nowMs() / 1000 + 300);
  CHECK(response.observed_address() == kObserved);

  // One token on every candidate, good at each of their nodes.
  const std::string& join_token = response.candidates(0).join_token();
  token::JoinGrant expected;
  expected.expires_unix_s = response.expires_unix_s();
  expected.roles = static_cast<std::uint8_t>(token::Role::kSubscribe);
  expected.scope = token::StreamScope::exactly(makeStreamId(1, 7));
  expected.edges = {1, 2, 3};
  for (int i = 0; i < response.candidates_size(); ++i) {
    CHECK(response.candidates(i).join_token() == join_token);
    CHECK(verifiedGrant(join_token, response.candidates(i).node_id(), f.nowMs() / 1000) == expected);
  }
  // Not at the relays it did not offer.
  for (const NodeId other : {4, 5}) {
    CHECK(token::verifyJoinToken(kTokenKey, join_token, other, kObserved, f.nowMs() / 1000).error() ==
          token::TokenError::kWrongEdge);
  }

  request.set_max_candidates(1);
  response.Clear();
  REQUIRE(f.controller().allocateEdge(request, kPeer, response).ok());
  REQUIRE(response.candidates_size() == 1);
  CHECK(verifiedGrant(response.candidates(0).join_token(), 1, f.nowMs() / 1000).edges == std::vector<NodeId>{1});
  CHECK(token::verifyJoinToken(kTokenKey, response.candidates(0).join_token(), 2, kObserved, f.nowMs() / 1000)
            .error() == token::TokenError::kWrongEdge);
}

TEST_CASE("the token is bound to the caller's observed address, not to one the request claims") {
  Fixture f;
  f.provision(1);
  f.connect(1);
  // What an older client sent: field 1, client_address, now reserved, set to
  // somebody else's address.
  v1::AllocateEdgeRequest request;
  const std::string claimed = "198.51.100.7";
  REQUIRE(request.ParseFromString(std::string("\x0a") + static_cast<char>(claimed.size()) + claimed));
  REQUIRE(request.ByteSizeLong() > 0);  // kept as an unknown field
  request.add_roles(v1::JOIN_ROLE_PUBLISH);

  for (const std::string peer : {"ipv4:203.0.113.5:40123", "ipv6:[::ffff:203.0.113.5]:40123",
                                 "ipv6:%5B::ffff:203.0.113.5%5D:40123", "ipv6:%5b::FFFF:203.0.113.5%5d:1"}) {
    INFO("peer " << peer);
    v1::AllocateEdgeResponse response;
    REQUIRE(f.controller().allocateEdge(request, peer, response).ok());
    CHECK(response.observed_address() == kObserved);
    REQUIRE(response.candidates_size() == 1);
    const std::string& join_token = response.candidates(0).join_token();
    CHECK(verifiedGrant(join_token, 1, f.nowMs() / 1000).roles == static_cast<std::uint8_t>(token::Role::kPublish));
    CHECK(token::verifyJoinToken(kTokenKey, join_token, 1, claimed, f.nowMs() / 1000).error() ==
          token::TokenError::kBadSignature);
  }

  SECTION("a caller seen at a non-IPv4 address gets no token") {
    for (const std::string peer : {"ipv6:[2001:db8::1]:40123", "ipv6:%5B::1%5D:40123", "unix:/tmp/controller.sock",
                                   "ipv4:203.0.113.5", "ipv4:203.0.113:1", "ipv6:::ffff:203.0.113.5:1", ""}) {
      INFO("peer " << peer);
      v1::AllocateEdgeResponse response;
      const grpc::Status status = f.controller().allocateEdge(request, peer, response);
      CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
      CHECK(status.error_message() ==
            "join tokens bind the client's IPv4 address, and edges take IPv4 clients only: peer \"" + peer +
                "\" is not an IPv4 address");
      CHECK(response.candidates_size() == 0);
    }
  }
}

TEST_CASE("edge allocation grants the roles and stream scope asked for") {
  Fixture f;
  f.provision(1);
  f.connect(1);
  const auto grantOf = [&](const v1::AllocateEdgeRequest& request) {
    v1::AllocateEdgeResponse response;
    const grpc::Status status = f.controller().allocateEdge(request, kPeer, response);
    INFO(status.error_message());
    REQUIRE(status.ok());
    return verifiedGrant(response.candidates(0).join_token(), 1, f.nowMs() / 1000);
  };
  const auto problem = [&](const v1::AllocateEdgeRequest& request) {
    v1::AllocateEdgeResponse response;
    const grpc::Status status = f.controller().allocateEdge(request, kPeer, response);
    CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    return status.error_message();
  };

  v1::AllocateEdgeRequest request;
  CHECK(problem(request) == "roles: ask for JOIN_ROLE_PUBLISH, JOIN_ROLE_SUBSCRIBE or both");
  request.add_roles(v1::JOIN_ROLE_UNSPECIFIED);
  CHECK(problem(request) == "roles: expected JOIN_ROLE_PUBLISH or JOIN_ROLE_SUBSCRIBE, got 0");
  request.clear_roles();
  request.add_roles(static_cast<v1::JoinRole>(9));
  CHECK(problem(request) == "roles: expected JOIN_ROLE_PUBLISH or JOIN_ROLE_SUBSCRIBE, got 9");

  request.clear_roles();
  request.add_roles(v1::JOIN_ROLE_PUBLISH);
  token::JoinGrant grant = grantOf(request);
  CHECK(grant.roles == static_cast<std::uint8_t>(token::Role::kPublish));
  CHECK(grant.scope == token::StreamScope::any());  // scope unset
  CHECK(grant.allows(token::Role::kPublish, makeStreamId(9, 9)));
  CHECK_FALSE(grant.allows(token::Role::kSubscribe, makeStreamId(9, 9)));

  request.add_roles(v1::JOIN_ROLE_SUBSCRIBE);
  request.add_roles(v1::JOIN_ROLE_PUBLISH);  // repeats are harmless
  request.mutable_scope()->set_prefix_bits(32);
  request.mutable_scope()->set_value(makeStreamId(4, 0));
  grant = grantOf(request);
  CHECK(grant.roles == token::kAllRoles);
  CHECK(grant.scope == token::StreamScope::prefix(makeStreamId(4, 0), 32));
  CHECK(grant.allows(token::Role::kSubscribe, makeStreamId(4, 12)));
  CHECK_FALSE(grant.allows(token::Role::kSubscribe, makeStreamId(5, 12)));

  request.mutable_scope()->set_value(makeStreamId(4, 1));
  CHECK(problem(request) == "scope.value: bits below the 32-bit prefix must be zero");
  request.mutable_scope()->set_prefix_bits(65);
  CHECK(problem(request) == "scope.prefix_bits: expected 0..64, got 65");
  request.mutable_scope()->set_prefix_bits(64);
  CHECK(grantOf(request).scope == token::StreamScope::exactly(makeStreamId(4, 1)));
}

TEST_CASE("edge allocation offers at most the edges one token can name") {
  Fixture f;
  ControllerSettings settings = f.settings();
  settings.edge.max_candidates = 32;  // beyond what the config file allows
  f.controller().updateSettings(settings);
  for (NodeId id = 1; id <= 10; ++id) {
    f.provision(id);
    f.connect(id);
  }
  v1::AllocateEdgeRequest request = subscribeRequest();
  request.set_max_candidates(10);
  v1::AllocateEdgeResponse response;
  REQUIRE(f.controller().allocateEdge(request, kPeer, response).ok());
  REQUIRE(response.candidates_size() == static_cast<int>(token::kMaxTokenEdges));
  const token::JoinGrant grant = verifiedGrant(response.candidates(7).join_token(), 8, f.nowMs() / 1000);
  CHECK(grant.edges == std::vector<NodeId>{1, 2, 3, 4, 5, 6, 7, 8});
}

TEST_CASE("edge allocation without a usable relay is UNAVAILABLE") {
  Fixture f;
  f.provision(1);
  v1::AllocateEdgeResponse response;
  CHECK(f.controller().allocateEdge(subscribeRequest(), kPeer, response).error_code() ==
        grpc::StatusCode::UNAVAILABLE);
}

TEST_CASE("updated settings are pushed to connected relays and apply to the next allocation") {
  Fixture f;
  f.provision(1);
  f.provision(2);
  RecordingChannel& one = f.connect(1);
  RecordingChannel& two = f.connect(2);
  const std::size_t before = one.messages().size();

  ControllerSettings settings = f.settings();
  settings.relays.report_interval_ms = 250;
  settings.edge.max_candidates = 1;
  settings.edge.token_ttl_s = 60;
  settings.edge.token_key = token::parseHexKey("ffeeddccbbaa99887766554433221100").value();
  f.controller().updateSettings(settings);

  REQUIRE(one.messages().size() == before + 1);
  CHECK(one.messages().back().config().report_interval_ms() == 250);
  CHECK(one.messages().back().config().probe_interval_ms() == 20);
  CHECK(two.messages().back().config().report_interval_ms() == 250);

  v1::AllocateEdgeResponse response;
  REQUIRE(f.controller().allocateEdge(subscribeRequest(), kPeer, response).ok());
  REQUIRE(response.candidates_size() == 1);
  CHECK(response.expires_unix_s() == f.nowMs() / 1000 + 60);
  const NodeId node = response.candidates(0).node_id();
  CHECK(verifiedGrant(response.candidates(0).join_token(), node, f.nowMs() / 1000, kObserved,
                      settings.edge.token_key)
            .expires_unix_s == response.expires_unix_s());
  CHECK(token::verifyJoinToken(kTokenKey, response.candidates(0).join_token(), node, kObserved, f.nowMs() / 1000)
            .error() == token::TokenError::kBadSignature);

  // Unchanged relay settings push nothing.
  f.controller().updateSettings(settings);
  CHECK(one.messages().size() == before + 1);
}

TEST_CASE("stop closes every session and refuses new ones") {
  Fixture f;
  f.diamond();
  f.controller().stop();
  CHECK(f.channel(3).closed());
  CHECK(f.channel(3).status().error_code() == grpc::StatusCode::UNAVAILABLE);
  RecordingChannel late;
  CHECK(f.controller().onHello(Fixture::helloOf(1), 1, "test", late).error().error_code() ==
        grpc::StatusCode::UNAVAILABLE);
  v1::ProvisionNodeRequest request;
  request.set_node_id(9);
  request.set_region("eu");
  request.add_lines()->set_address("127.0.0.1:1");
  request.mutable_lines(0)->set_name("a");
  request.set_capacity_bps(1);
  v1::ProvisionNodeResponse response;
  CHECK(f.controller().provisionNode(request, response).error_code() == grpc::StatusCode::UNAVAILABLE);
}

TEST_CASE("a hello for another node than the certificate names is refused and leaves that node alone") {
  Fixture f;
  f.provision(1);
  f.provision(2);
  RecordingChannel& two = f.connect(2);
  RecordingChannel impostor;
  const auto result = f.controller().onHello(Fixture::helloOf(2), /*certified_node=*/1, "test", impostor);
  REQUIRE_FALSE(result.ok());
  CHECK(result.error().error_code() == grpc::StatusCode::PERMISSION_DENIED);
  CHECK(result.error().error_message() == "the certificate names relay 1, the hello node 2");
  CHECK_FALSE(impostor.messages().at(0).hello_ack().accepted());
  CHECK_FALSE(two.closed());
  v1::ListNodesResponse nodes;
  f.controller().listNodes(nodes);
  CHECK(nodes.nodes(1).connected());
  CHECK(f.events(v1::EVENT_TYPE_NODE_CONNECTED).size() == 1);
}

TEST_CASE("each relay is sent the pair keys of its own neighbours, per key epoch") {
  Fixture f;
  for (NodeId id : {1, 2, 3}) f.provision(id);
  RecordingChannel& one = f.connect(1);
  RecordingChannel& two = f.connect(2);
  const auto keyOf = [](const v1::PeerList& list, NodeId peer) {
    for (const v1::Peer& p : list.peers()) {
      if (p.node_id() == peer) return p;
    }
    FAIL("no peer " << peer);
    return v1::Peer();
  };
  const v1::Peer two_seen_by_one = keyOf(*one.lastPeers(), 2);
  const v1::Peer one_seen_by_two = keyOf(*two.lastPeers(), 1);
  const v1::Peer three_seen_by_one = keyOf(*one.lastPeers(), 3);
  REQUIRE(two_seen_by_one.keys_size() == 1);
  CHECK(two_seen_by_one.keys(0).epoch() == 1);
  CHECK(two_seen_by_one.keys(0).key().size() == 16);
  // Both ends of a pair hold the same key; another pair has another.
  CHECK(two_seen_by_one.keys(0).key() == one_seen_by_two.keys(0).key());
  CHECK(three_seen_by_one.keys(0).key() != two_seen_by_one.keys(0).key());

  v1::RotateKeysResponse rotated;
  REQUIRE(f.controller().rotateKeys(rotated).ok());
  CHECK(rotated.epoch().epoch() == 2);
  CHECK(rotated.epoch().activate_at_unix_s() == f.nowMs() / 1000 + f.settings().keys.activation_delay_s);
  CHECK_FALSE(rotated.epoch().sending());
  // Pushed at once, both epochs: relays accept 2 before anyone sends with it.
  const v1::Peer after = keyOf(*one.lastPeers(), 2);
  REQUIRE(after.keys_size() == 2);
  CHECK(after.keys(0).key() == two_seen_by_one.keys(0).key());
  CHECK(after.keys(1).epoch() == 2);
  CHECK(after.keys(1).key() != after.keys(0).key());
  CHECK(f.events(v1::EVENT_TYPE_KEYS_ROTATED).size() == 2);  // the first epoch, then this one

  // Epochs survive a restart: the same keys again, no third epoch.
  f.restart();
  RecordingChannel& again = f.connect(1);
  const v1::Peer restarted = keyOf(*again.lastPeers(), 2);
  REQUIRE(restarted.keys_size() == 2);
  CHECK(restarted.keys(1).key() == after.keys(1).key());
  v1::ListKeyEpochsResponse epochs;
  f.controller().listKeyEpochs(epochs);
  REQUIRE(epochs.epochs_size() == 2);
  CHECK(epochs.epochs(0).sending());
}

TEST_CASE("a relay's reports are bounded in rate and size") {
  Fixture f;
  f.diamond();
  // The diamond used one report per node; a burst of 5, then two per interval.
  for (int i = 0; i < 4; ++i) f.report(1, {{2, 10}, {3, 20}});
  f.report(1, {{2, 99}, {3, 20}});  // the sixth, at the same instant: ignored
  v1::ListLinksResponse links;
  f.controller().listLinks(links);
  const auto rtt_1_to_2 = [&] {
    v1::ListLinksResponse now;
    f.controller().listLinks(now);
    for (const v1::Link& link : now.links()) {
      if (link.from_node() == 1 && link.to_node() == 2) return link.rtt_us();
    }
    return std::uint64_t{0};
  };
  CHECK(rtt_1_to_2() == 10'000);
  f.nowMs() += f.settings().relays.report_interval_ms / 2;  // one more allowed
  f.report(1, {{2, 99}, {3, 20}});
  CHECK(rtt_1_to_2() == 99'000);

  // 2 lines x 3 other nodes x 2 lines = at most 12 links.
  f.nowMs() += f.settings().relays.report_interval_ms;
  std::vector<LinkSpec> too_many;
  for (std::uint32_t i = 0; i < 13; ++i) too_many.push_back({2, 5, v1::LINK_STATE_UP, 0.0, i % 2, i / 2 % 2});
  f.report(1, too_many);
  CHECK(rtt_1_to_2() == 99'000);
}

TEST_CASE("a relay cannot make a link look better than its other end sees it") {
  Fixture f;
  for (NodeId id : {1, 2, 3}) f.provision(id);
  for (NodeId id : {1, 2, 3}) f.connect(id);
  // Node 1 claims 1 ms to node 2; node 2 measures 100 ms back. Via 3: 10 + 10.
  f.report(1, {{2, 1}, {3, 10}});
  f.report(2, {{1, 100}, {3, 10}});
  f.report(3, {{1, 10}, {2, 10}});
  f.controller().recomputeRoutes();
  CHECK(hopsTo(f.channel(1).lastTable(), 2).first == 3);
  CHECK(hopsTo(f.channel(2).lastTable(), 1).first == 3);
}

}  // namespace
}  // namespace overline::controller
