#pragma once
// A mesh to run on one machine: relays, their regions, the links between
// them, and the timers they use. Routes are static shortest paths, or (with
// MeshSpec::with_controller) whatever an overline-controller pushes.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/endpoint.h"
#include "common/types.h"

namespace overline::localmesh {

struct MeshNode {
  NodeId id = kNoNode;  // 1..254 here: it is also an octet of the node's addresses
  std::string region;
};

struct MeshSpec {
  std::vector<MeshNode> nodes;
  std::vector<std::pair<NodeId, NodeId>> links;  // undirected
  int lines_per_node = 2;
  int refresh_interval_ms = 500;
  int expiry_ms = 1500;
  int client_expiry_ms = 5000;
  // Backup next hops (relay config `routes[].backup`): node -> destination ->
  // backup neighbour. A direct neighbour with a backup gets a route entry
  // whose next hop is itself.
  std::map<NodeId, std::map<NodeId, NodeId>> backup_next_hops;
  // Every relay's `metrics.listen`.
  std::string metrics_listen = "127.0.0.1:0";
  // Give every route without an entry in backup_next_hops the backup
  // backupNextHops() computes, so a relay can fail over when every link to
  // its next hop is down.
  bool backup_routes = false;
  // Mesh secret (hex, >= 32 bytes) of every relay's `auth.mesh_keys` (epoch
  // 1); LocalMesh draws a random one when empty. relayConfigYaml with an
  // empty one writes `insecure_lab_mode: true` instead.
  std::string mesh_secret_hex;
  // Relay `probing:` settings; 0 = the relay's default.
  int probe_interval_ms = 0;
  int probe_down_after_ms = 0;
  // Run the relays behind an overline-impair switchboard (LocalMesh): every
  // relay binds its real line addresses but lists its neighbours' lines at
  // their stand-ins, so every relay-to-relay datagram crosses the proxy and
  // LocalMesh::impair() can cut or degrade any line. The harness's SDK
  // clients reach their edges through it too (its client access: a port
  // per client, `access_delay_ms` each way, never cut off by line
  // commands; deploy/impair/README.md), at the stand-ins, which is also
  // where a controller's edge allocation sends them. Node ids must be 1..54
  // (stand-ins use 127.<subnet>.<200 + node>.<line + 1>).
  bool impaired = false;
  // Impaired meshes: every relay-to-relay line pair gets the one-way delay
  // between its relays' regions (regionDelayMs; every pair of the spec's
  // regions must be in the table), so latency and connect times mean what
  // they would between real PoPs. Off: the switchboard adds no delay.
  bool geo_delays = false;
  // Impaired meshes: one-way delay of every SDK client's path to its edge,
  // each way (kAccessDelayMs for a realistic last mile).
  int access_delay_ms = 0;
  // Run an overline-controller too (LocalMesh): every relay is provisioned
  // with its region and lines (isp tag ispTag(line)) and its config has a
  // `controller:` section instead of static neighbours and routes: its peers
  // are every other provisioned relay (the controller's PeerList) and its
  // routes the controller's pushes. `links` and the static-route helpers
  // (shortestPathNextHops, expectedDownstreams, LocalMesh::waitForTree) then
  // do not describe the mesh.
  bool with_controller = false;
  // Relay `controller.report_interval_ms` and the controller's
  // `relays.report_interval_ms` (pushed, same value): how often relays
  // report link state, which bounds how fast routes follow a degradation.
  int controller_report_interval_ms = 200;
  // Controller `routes.recompute_interval_ms`: loss and RTT changes that do
  // not change a link's state are taken up at this pace.
  int controller_recompute_interval_ms = 250;

  std::vector<NodeId> neighboursOf(NodeId node) const;
};

// Next hop from `from` toward every reachable destination: breadth-first
// shortest paths, ties broken toward the lowest neighbour id so the result is
// deterministic. Direct neighbours map to themselves.
std::map<NodeId, NodeId> shortestPathNextHops(const MeshSpec& spec, NodeId from);

// Line addresses of every node: node n, line l -> 127.<subnet>.<n>.<l+1> with
// a port that was free when picked. `subnet` separates concurrent meshes.
using LineAddresses = std::map<NodeId, std::vector<Endpoint>>;
LineAddresses assignLineAddresses(const MeshSpec& spec, std::uint8_t subnet);

// The relay YAML config of `node` (schema: deploy/relay.example.yaml).
std::string relayConfigYaml(const MeshSpec& spec, const LineAddresses& addresses, NodeId node);
// The same, but listing each neighbour's lines at `neighbour_addresses`
// (the switchboard's stand-ins) while `node` binds `addresses`. With
// spec.with_controller the relay instead reports to `controller` (the
// relays listener; required then) over mutual TLS with its certificate from
// `controller_tls_yaml` (controller_process.h, relayTlsYaml), publishes
// `neighbour_addresses` as its lines' `public:` addresses, has no static
// neighbours or routes, and takes its data-plane keys from the controller.
std::string relayConfigYaml(const MeshSpec& spec, const LineAddresses& addresses, NodeId node,
                            const LineAddresses& neighbour_addresses, const Endpoint& controller = Endpoint(),
                            const std::string& controller_tls_yaml = "");

// The ISP tag of a relay's line `line` with a controller: "isp-a", "isp-b",
// ... (lines of the same index share an ISP across the mesh).
std::string ispTag(int line);

// Backup next hop from `from` toward every destination that has one: the
// neighbour, other than the primary (shortestPathNextHops), whose own
// primary path to the destination is shortest among those that avoid `from`
// (no loop back) and the primary (unless the primary is the destination),
// ties toward the lowest id. Direct neighbours may get one too.
std::map<NodeId, NodeId> backupNextHops(const MeshSpec& spec, NodeId from);

// The switchboard name of a relay line: "r<node>.l<line>" (LocalMesh::impair).
std::string lineName(NodeId node, int line);

// Stand-in addresses of an impaired mesh: node n, line l ->
// 127.<subnet>.<200 + n>.<l + 1>, port 0 (the proxy picks). Nodes 1..54.
LineAddresses standInAddresses(const MeshSpec& spec, std::uint8_t subnet);

// One-way delays between the demo's regions, in ms: round figures of the
// usual one-way delay between PoPs in Europe, the United States and
// Asia-Pacific (half their round-trip times), and a few ms between two PoPs
// of one region. eu-ap is shorter than eu-us-ap, as on the real map, so the
// direct link stays the best route. The one table the demo and the tests
// use (MeshSpec::geo_delays).
struct RegionDelay {
  std::string_view a;
  std::string_view b;
  int one_way_ms;
};
inline constexpr RegionDelay kRegionDelays[] = {
    {"eu", "eu", 2}, {"us", "us", 2}, {"ap", "ap", 2},
    {"eu", "us", 40}, {"us", "ap", 60}, {"eu", "ap", 90},
};
// An SDK client's last mile to its edge, one way (MeshSpec::access_delay_ms
// with geo delays).
inline constexpr int kAccessDelayMs = 5;

// The table's delay between regions `a` and `b` (either order); nullopt
// when the pair is not in it.
std::optional<int> regionDelayMs(std::string_view a, std::string_view b);

// The demo's mesh: 6 relays in 3 regions (eu 1-2, us 3-4, ap 5-6), two lines
// each; each region's pair is linked and every region reaches the others over
// two disjoint links.
MeshSpec threeRegionMesh();

}  // namespace overline::localmesh

namespace overline::localmesh {

// How many downstreams each relay should hold once subscribers on `edges`
// (one per entry; repeats allowed) have joined a stream of `origin`, following
// shortestPathNextHops: local subscribers plus one per distinct child relay.
std::map<NodeId, int> expectedDownstreams(const MeshSpec& spec, const std::vector<NodeId>& edges,
                                          NodeId origin);

}  // namespace overline::localmesh
