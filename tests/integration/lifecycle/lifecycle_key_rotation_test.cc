// Rotating the mesh secret mid-stream, as deploy/relay.example.yaml tells
// operators to: every relay of a line mesh 1 - 2 - 3 reloads (SIGHUP) a
// config that adds epoch 2 with an activation time 2 s ahead; once that
// time has passed, every relay reloads again without epoch 1. A stream from
// relay 1 to relay 3 runs throughout and must lose nothing: after the
// second step only epoch 2 exists anywhere, so a packet still tagged with
// epoch 1 would be a bad_tag drop.

#include <signal.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <thread>

#include "deploy/localmesh/local_mesh.h"
#include "deploy/localmesh/metrics_scrape.h"
#include "tests/integration/lifecycle/lifecycle_support.h"

namespace lm = overline::localmesh;
namespace ol = overline;
using namespace std::chrono_literals;
using ol::lifecycle_test::readFile;
using ol::lifecycle_test::startStream;
using ol::lifecycle_test::waitForLog;
using ol::lifecycle_test::writeFile;

namespace {

constexpr const char* kNewSecret = "f0e1d2c3b4a5968778695a4b3c2d1e0f00112233445566778899aabbccddeeff";

std::int64_t unixNowS() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Writes `keys` (the YAML list entries) as every relay's mesh keys and
// reloads them; waits until each logged its `reloads`-th reload with auth.
void reloadKeys(lm::LocalMesh& mesh, const std::string& keys, int reloads) {
  for (const ol::NodeId node : {1u, 2u, 3u}) {
    const std::string path = mesh.workDir() + "/relay-" + std::to_string(node) + ".yaml";
    std::string config = readFile(path);
    const auto at = config.find("auth:\n  mesh_keys:\n");
    REQUIRE(at != std::string::npos);
    config = config.substr(0, at) + "auth:\n  mesh_keys:\n" + keys;  // auth is the config's last section
    writeFile(path, config);
    mesh.relay(node).process->signal(SIGHUP);
  }
  for (const ol::NodeId node : {1u, 2u, 3u}) {
    INFO(mesh.logTail(node));
    REQUIRE(waitForLog(mesh.relay(node).log_path, "applied=auth", reloads, 3s));
  }
}

double dropped(lm::LocalMesh& mesh, ol::NodeId node, const std::string& reason) {
  const auto samples = mesh.scrape(node);
  REQUIRE(samples.has_value());
  return lm::valueOf(*samples, "overline_relay_dropped_packets_total{reason=\"" + reason + "\"}").value_or(-1);
}

}  // namespace

TEST_CASE("mesh keys rotate mid-stream by two reloads without losing a packet") {
  lm::MeshSpec spec;
  spec.nodes = {{1, "a"}, {2, "a"}, {3, "b"}};
  spec.links = {{1, 2}, {2, 3}};
  lm::LocalMeshOptions options;
  options.bin_dir = OVERLINE_BIN_DIR;
  auto started = lm::LocalMesh::start(spec, options);
  INFO((started ? std::string() : started.error()));
  REQUIRE(started.ok());
  lm::LocalMesh& mesh = *started.value();
  const std::string old_key = "    - {epoch: 1, secret_hex: \"" + mesh.spec().mesh_secret_hex + "\"}\n";

  constexpr std::uint64_t kPackets = 4000;  // 8 s at 500/s
  auto stream = startStream(mesh, 1, 3, 9, kPackets);

  // Step 1: every relay learns epoch 2, to be sent from 2 s on.
  const std::int64_t activate_at_s = unixNowS() + 2;
  reloadKeys(mesh,
             old_key + "    - {epoch: 2, secret_hex: \"" + kNewSecret +
                 "\", activate_at_unix_s: " + std::to_string(activate_at_s) + "}\n",
             1);
  // Step 2, once the activation time has passed on every relay (same clock
  // here; in a deployment, a few minutes of margin): epoch 1 goes.
  while (unixNowS() <= activate_at_s) std::this_thread::sleep_for(100ms);  // wall-clock time itself
  reloadKeys(mesh, std::string("    - {epoch: 2, secret_hex: \"") + kNewSecret + "\"}\n", 2);

  REQUIRE(stream.publisher.waitDone(30s) == kPackets);
  const auto summary = stream.subscriber.waitSummary(10s);
  REQUIRE(summary.has_value());
  WARN("key rotation: subscriber unique " << summary->unique << " of " << kPackets << ", lost " << summary->lost
                                          << ", duplicates " << summary->duplicates);
  CHECK(summary->unique == kPackets);
  CHECK(summary->lost == 0);
  for (const ol::NodeId node : {1u, 2u, 3u}) {
    CAPTURE(node);
    CHECK(dropped(mesh, node, "bad_tag") == 0);
    CHECK(dropped(mesh, node, "replayed") == 0);
    CHECK(dropped(mesh, node, "unauthenticated") == 0);
  }
}
