// MeshSpec's computed routes and the relay configs generated from it: backup
// next hops are loop-free, impaired meshes list neighbours at their
// stand-ins, and optional sections appear only when asked for.

#include "deploy/localmesh/mesh_spec.h"

#include <catch2/catch.hpp>

namespace ol = overline;
namespace lm = overline::localmesh;

namespace {

using Hops = std::map<ol::NodeId, ol::NodeId>;

lm::MeshSpec diamond() {
  lm::MeshSpec spec;
  spec.nodes = {{1, "a"}, {2, "a"}, {3, "b"}, {4, "b"}};
  spec.links = {{1, 2}, {1, 3}, {2, 4}, {3, 4}};
  return spec;
}

lm::LineAddresses addressesOf(const lm::MeshSpec& spec, std::uint8_t third_octet_offset) {
  lm::LineAddresses addresses;
  for (const auto& node : spec.nodes) {
    for (int line = 0; line < spec.lines_per_node; ++line) {
      const std::uint32_t address = (127u << 24) | (9u << 16) | ((third_octet_offset + node.id) << 8) |
                                    static_cast<std::uint32_t>(line + 1);
      addresses[node.id].push_back(ol::Endpoint(address, 40000));
    }
  }
  return addresses;
}

}  // namespace

TEST_CASE("backup next hops avoid the primary and never lead back") {
  const auto spec = diamond();
  // 4 reaches 1 via 2, and 3 reaches 1 on its own. 4 reaches 2 and 3
  // directly, and the other one reaches each of them via 1, not via 4.
  CHECK(lm::shortestPathNextHops(spec, 4) == Hops{{1, 2}, {2, 2}, {3, 3}});
  CHECK(lm::backupNextHops(spec, 4) == Hops{{1, 3}, {2, 3}, {3, 2}});
  // 2's other neighbour (4) reaches 1 through 2 itself: no backup toward 1.
  CHECK(lm::backupNextHops(spec, 2) == Hops{{3, 4}});

  // The demo mesh: 4 -> 1 via 2 (backup 3), 4 -> 2 direct (backup 6, whose
  // own path to 2 is direct; 3 would go 3 -> 1 -> 2, one hop longer).
  const auto mesh = lm::threeRegionMesh();
  const auto backups = lm::backupNextHops(mesh, 4);
  CHECK(backups.at(1) == 3);
  CHECK(backups.at(2) == 6);
  for (const auto& node : mesh.nodes) {
    for (const auto& [destination, backup] : lm::backupNextHops(mesh, node.id)) {
      INFO("relay " << node.id << " -> " << destination << " backup " << backup);
      CHECK(backup != lm::shortestPathNextHops(mesh, node.id).at(destination));
      // The backup's own next hop never points back at this relay.
      if (backup != destination) CHECK(lm::shortestPathNextHops(mesh, backup).at(destination) != node.id);
    }
  }
}

TEST_CASE("an impaired mesh's configs bind real addresses and list neighbours at their stand-ins") {
  auto spec = diamond();
  const auto real = addressesOf(spec, 0);
  const auto stand_ins = lm::standInAddresses(spec, 9);
  CHECK(stand_ins.at(3).at(1) == *ol::Endpoint::parse("127.9.203.2:0"));
  CHECK(lm::lineName(3, 1) == "r3.l1");

  const auto listed = addressesOf(spec, 200);  // stand-ins after the proxy bound them
  const std::string yaml = lm::relayConfigYaml(spec, real, 4, listed);
  CHECK(yaml.find("bind: \"127.9.4.1:40000\"") != std::string::npos);
  CHECK(yaml.find("lines: [\"127.9.202.1:40000\", \"127.9.202.2:40000\"]") != std::string::npos);
  CHECK(yaml.find("127.9.2.1:") == std::string::npos);
  // The three-argument form lists the neighbours' own addresses, as before.
  CHECK(lm::relayConfigYaml(spec, real, 4).find("lines: [\"127.9.2.1:40000\", \"127.9.2.2:40000\"]") !=
        std::string::npos);
}

TEST_CASE("backups and probing appear in the config only when asked for") {
  auto spec = diamond();
  const auto real = addressesOf(spec, 0);
  const std::string plain = lm::relayConfigYaml(spec, real, 4);
  CHECK(plain.find("backup:") == std::string::npos);
  CHECK(plain.find("probing:") == std::string::npos);

  spec.backup_routes = true;
  spec.probe_interval_ms = 10;
  spec.probe_down_after_ms = 50;
  const std::string tuned = lm::relayConfigYaml(spec, real, 4);
  CHECK(tuned.find("  - destination: 1\n    next_hop: 2\n    backup: 3\n") != std::string::npos);
  CHECK(tuned.find("probing:\n  interval_ms: 10\n  down_after_ms: 50\n") != std::string::npos);

  // An explicit backup wins over the computed one.
  auto mesh = lm::threeRegionMesh();
  mesh.backup_routes = true;
  mesh.backup_next_hops[4][1] = 6;
  CHECK(lm::relayConfigYaml(mesh, addressesOf(mesh, 0), 4)
            .find("  - destination: 1\n    next_hop: 2\n    backup: 6\n") != std::string::npos);
}
