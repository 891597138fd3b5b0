// ControlBridge (relay/control/control_bridge.h) on a libuv loop with a real
// RelayCore: route tables are fenced by version (older ones ignored and
// counted, resends of the running one not counted), and pushed peers the
// core could not key are left out and counted. Updates are posted the way
// the session threads post them, then the loop drains them.

#include "relay/control/control_bridge.h"

#include <catch2/catch.hpp>

#include <uv.h>

namespace overline::relay {
namespace {

class NullSink : public PacketSink {
 public:
  bool sendPacket(LineIndex, const Endpoint&, std::span<const std::byte>) override { return true; }
};

NeighbourConfig neighbour(NodeId node, std::vector<PairKey> keys = {}) {
  return NeighbourConfig{node, {Endpoint(0x7f000001u + (node << 8), 40001)}, std::move(keys)};
}

RouteTablePtr routesVia(NodeId next_hop) {
  return std::make_shared<const RouteTable>(RouteTable{{{9, RouteEntry{next_hop, kNoNode}}}});
}

struct Bridge {
  explicit Bridge(bool lab_mode) : core(coreConfig(lab_mode), sink) {
    REQUIRE(uv_loop_init(&loop) == 0);
    bridge.emplace(loop, core, 1000, 1'000'000);
  }
  ~Bridge() {
    bridge.reset();  // closes its handles
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
  }
  static RelayCoreConfig coreConfig(bool lab_mode) {
    RelayCoreConfig config;
    config.node_id = 1;
    config.line_count = 1;
    config.auth.insecure_lab_mode = lab_mode;  // else: no mesh keys, every key pushed
    return config;
  }
  // Runs the loop until the posted updates are applied.
  void drain() {
    for (int i = 0; i < 10; ++i) uv_run(&loop, UV_RUN_NOWAIT);
  }
  const ControlStatus& status() const { return bridge->status(); }

  uv_loop_t loop{};
  NullSink sink;
  RelayCore core;
  std::optional<ControlBridge> bridge;
};

TEST_CASE("ControlBridge fences route tables: older ignored and counted, newer applied, resends not ignored") {
  Bridge b(true);
  b.bridge->onPeerList({neighbour(2), neighbour(3)}, 0);
  b.bridge->onRouteTable(5, routesVia(2));
  b.drain();
  CHECK(b.status().route_table_version == 5);
  CHECK(b.status().route_tables_applied == 1);
  CHECK(b.status().route_tables_ignored == 0);

  // Older: ignored, counted, not applied.
  b.bridge->onRouteTable(3, routesVia(3));
  b.drain();
  CHECK(b.status().route_table_version == 5);
  CHECK(b.status().route_tables_applied == 1);
  CHECK(b.status().route_tables_ignored == 1);

  // The same version again (a reconnect's resend): running it already.
  b.bridge->onRouteTable(5, routesVia(2));
  b.drain();
  CHECK(b.status().route_table_version == 5);
  CHECK(b.status().route_tables_applied == 2);
  CHECK(b.status().route_tables_ignored == 1);

  // Newer: applied.
  b.bridge->onRouteTable(6, routesVia(3));
  b.drain();
  CHECK(b.status().route_table_version == 6);
  CHECK(b.status().route_tables_applied == 3);

  // A session going down and coming back changes nothing of that.
  b.bridge->onSessionChanged(false);
  b.bridge->onSessionChanged(true);
  b.drain();
  b.bridge->onRouteTable(4, routesVia(2));
  b.drain();
  CHECK(b.status().route_table_version == 6);
  CHECK(b.status().route_tables_ignored == 2);
}

TEST_CASE("ControlBridge fences before the mailbox: an older table right behind a newer one never wins") {
  Bridge b(true);
  b.bridge->onPeerList({neighbour(2)}, 0);
  // Both arrive before the loop runs: the mailbox keeps one table, and it
  // must be version 5.
  b.bridge->onRouteTable(5, routesVia(2));
  b.bridge->onRouteTable(3, routesVia(2));
  b.drain();
  CHECK(b.status().route_table_version == 5);
  CHECK(b.status().route_tables_applied == 1);
  CHECK(b.status().route_tables_ignored == 1);
}

TEST_CASE("ControlBridge leaves out pushed peers without a usable key and counts them and refused keys") {
  const crypto::Key128 key{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  Bridge b(false);  // auth on, no mesh keys
  b.bridge->onPeerList({neighbour(2, {PairKey{1, key, 0}}), neighbour(3)}, 4);
  b.drain();
  CHECK(b.status().peer_lists_applied == 1);
  CHECK(b.status().peers_without_key == 1);
  CHECK(b.status().pushed_keys_ignored == 4);
  CHECK(b.core.gauges().auth_sending_epoch == 1);
  // Links exist for neighbour 2 only.
  for (const LinkSnapshot& link : b.core.links()) CHECK(link.neighbour == 2);
  CHECK_FALSE(b.core.links().empty());

  // The session ends: neighbours and keys stay (headless).
  b.bridge->onSessionChanged(false);
  b.drain();
  CHECK(b.core.gauges().auth_sending_epoch == 1);
  CHECK_FALSE(b.core.links().empty());
}

TEST_CASE("ControlBridge in lab mode needs no keys") {
  Bridge b(true);
  b.bridge->onPeerList({neighbour(2), neighbour(3)}, 0);
  b.drain();
  CHECK(b.status().peers_without_key == 0);
  CHECK(b.core.links().size() == 2);
  CHECK(b.core.gauges().auth_sending_epoch == 0);
}

}  // namespace
}  // namespace overline::relay
