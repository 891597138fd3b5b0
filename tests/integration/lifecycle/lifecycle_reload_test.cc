// SIGHUP reloads a relay's config without a restart. The static diamond
// mesh (1 -> {2, 3} -> 4) carries a stream to a subscriber on relay 4;
// relay 2's probing.interval_ms goes from 20 to 100 ms in its file and
// SIGHUP: its probe rate drops about fivefold, the pid stays, the stream
// loses nothing. A broken file then is logged and changes nothing.

#include <signal.h>

#include <catch2/catch.hpp>

#include <string>
#include <thread>

#include "deploy/localmesh/local_mesh.h"
#include "tests/integration/lifecycle/lifecycle_support.h"

namespace ol = overline;
namespace lm = overline::localmesh;
using namespace std::chrono_literals;
using ol::lifecycle_test::readFile;
using ol::lifecycle_test::startStream;
using ol::lifecycle_test::waitForLog;
using ol::lifecycle_test::writeFile;

namespace {

constexpr ol::NodeId kTransit = 2;

lm::MeshSpec diamond() {
  lm::MeshSpec spec;
  spec.nodes = {{1, "a"}, {2, "a"}, {3, "b"}, {4, "b"}};
  spec.links = {{1, 2}, {1, 3}, {2, 4}, {3, 4}};
  spec.probe_interval_ms = 20;
  spec.probe_down_after_ms = 1000;  // must stay above the reloaded interval
  return spec;
}
constexpr const char* kProbes = "overline_relay_probe_packets_sent_total{kind=\"probe\"}";

double probesSent(lm::LocalMesh& mesh) {
  const auto samples = mesh.scrape(kTransit);
  REQUIRE(samples.has_value());
  return lm::valueOf(*samples, kProbes).value_or(0);
}

// Probes relay 2 sends per second, over `window`. The relay copies its
// counters into /metrics every 250 ms (relay/io/relay_metrics.h), so a
// window's ends are off by up to one copy each: 2 s keep that within ~25%.
double probeRate(lm::LocalMesh& mesh, std::chrono::milliseconds window) {
  const double before = probesSent(mesh);
  const auto start = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(window);
  const double after = probesSent(mesh);
  return (after - before) / std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Waits until /metrics has been copied `copies` more times (the probe
// counter moved that often), so that what it shows was counted after now.
bool waitForMetricCopies(lm::LocalMesh& mesh, int copies, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  double last = probesSent(mesh);
  while (copies > 0) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(20ms);
    const double now = probesSent(mesh);
    if (now != last) --copies;
    last = now;
  }
  return true;
}

}  // namespace

TEST_CASE("SIGHUP applies a new probe interval without a restart or a lost packet") {
  const lm::MeshSpec spec = diamond();
  lm::LocalMeshOptions options;
  options.bin_dir = OVERLINE_BIN_DIR;
  auto started = lm::LocalMesh::start(spec, options);
  INFO((started ? std::string() : started.error()));
  REQUIRE(started.ok());
  lm::LocalMesh& mesh = *started.value();
  const std::string config_path = mesh.workDir() + "/relay-" + std::to_string(kTransit) + ".yaml";
  const std::string log_path = mesh.relay(kTransit).log_path;

  constexpr std::uint64_t kPackets = 3000;  // 6 s at 500/s
  auto stream = startStream(mesh, 1, 4, 5, kPackets);

  const double rate_before = probeRate(mesh, 2000ms);
  const std::string config = readFile(config_path);
  const std::string old_interval = "  interval_ms: 20\n";
  const auto at = config.find(old_interval);
  REQUIRE(at != std::string::npos);
  std::string changed = config;
  changed.replace(at, old_interval.size(), "  interval_ms: 100\n");
  writeFile(config_path, changed);
  lm::ChildProcess& relay = *mesh.relay(kTransit).process;
  const pid_t pid = relay.pid();
  relay.signal(SIGHUP);
  INFO(mesh.logTail(kTransit));
  REQUIRE(waitForLog(log_path, "msg=\"config reloaded\"", 1, 3s));
  CHECK(waitForLog(log_path, "applied=probing", 1, 0s));
  // The first copy after the reload still holds probes sent at 20 ms; the
  // second holds only probes sent after the first, under the new interval.
  REQUIRE(waitForMetricCopies(mesh, 2, 3s));
  const double rate_after = probeRate(mesh, 2000ms);
  CHECK(rate_after < rate_before / 3);
  CHECK(rate_after > rate_before / 10);

  // A broken file: one error line, the relay runs on unchanged.
  writeFile(config_path, changed + "bogus_key: 1\n");
  relay.signal(SIGHUP);
  REQUIRE(waitForLog(log_path, "running on the previous config", 1, 3s));
  CHECK(relay.running());
  CHECK(relay.pid() == pid);

  REQUIRE(stream.publisher.waitDone(30s) == kPackets);
  const auto summary = stream.subscriber.waitSummary(10s);
  REQUIRE(summary.has_value());
  WARN("relay 2 probes/s: " << rate_before << " before SIGHUP, " << rate_after
                            << " after (interval 20 -> 100 ms); subscriber: unique " << summary->unique << " of "
                            << kPackets << ", lost " << summary->lost << ", duplicates " << summary->duplicates);
  CHECK(summary->lost == 0);
  CHECK(summary->duplicates == 0);
  CHECK(summary->unique == kPackets);
  CHECK(relay.running());
}
