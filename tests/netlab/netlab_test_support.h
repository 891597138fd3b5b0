#pragma once
// Shared set-up of the netlab tests: skipping without root, a lab per test
// with a fresh prefix, the relays of a MeshSpec running inside it, and
// reading per-line relay counters.

#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <sstream>
#include <string>
#include <thread>

#include "deploy/localmesh/local_mesh.h"
#include "deploy/netlab/command.h"
#include "deploy/netlab/lab_mesh.h"
#include "deploy/netlab/net_lab.h"
#include "tests/test_skip.h"

namespace overline::netlab::test {

namespace lm = overline::localmesh;

// Ends the test binary as skipped (exit 77, see tests/test_skip.h) when this
// machine cannot run labs, saying why.
inline void skipWithoutLab() {
  const std::string why = labUnavailableReason();
  if (!why.empty()) overline::test::skipTest("netlab test: " + why);
}

inline std::unique_ptr<ScopedNetLab> startLab(int nodes, int lines) {
  auto layout = LabLayout::make(randomPrefix(), nodes, lines);
  REQUIRE(layout.ok());
  auto lab = ScopedNetLab::create(layout.value());
  INFO((lab ? std::string() : lab.error()));
  REQUIRE(lab.ok());
  return std::move(lab.value());
}

// The relays of `spec` inside `lab`. Destroy the mesh before the lab.
inline std::unique_ptr<lm::LocalMesh> startLabMesh(const ScopedNetLab& lab, const lm::MeshSpec& spec) {
  auto options = labMeshOptions(lab.layout(), spec, OVERLINE_BIN_DIR);
  INFO((options ? std::string() : options.error()));
  REQUIRE(options.ok());
  auto mesh = lm::LocalMesh::start(spec, options.value());
  INFO((mesh ? std::string() : mesh.error()));
  REQUIRE(mesh.ok());
  return std::move(mesh.value());
}

// `ip netns list` lines naming a namespace of `prefix` (there must be none
// once the lab is gone).
inline std::vector<std::string> namespacesListed(const std::string& prefix) {
  auto listed = runForOutput({"ip", "netns", "list"});
  REQUIRE(listed.ok());
  std::vector<std::string> found;
  std::istringstream in(listed.value());
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(prefix + "-", 0) == 0) found.push_back(line);
  }
  return found;
}

// Per-line counter of a relay configured by relayConfigYaml (lines named
// line0, line1, ...); 0 if absent.
inline double lineCounter(const lm::MetricSamples& samples, const std::string& name, int line) {
  return lm::valueOf(samples, name + "{line=\"line" + std::to_string(line) + "\"}").value_or(0);
}

inline bool hasMetric(const lm::MetricSamples& samples, const std::string& name) {
  const auto it = samples.lower_bound(name);
  return it != samples.end() && it->first.compare(0, name.size(), name) == 0;
}

// Reads the subscriber's output until `predicate(latest figures)` holds or
// `timeout` passes.
template <typename Predicate>
bool waitForSubscriber(lm::SubscriberProcess& subscriber, std::chrono::milliseconds timeout, Predicate predicate) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const bool alive = subscriber.process().running();  // before reading: its last lines count too
    subscriber.poll();
    if (subscriber.latest() && predicate(*subscriber.latest())) return true;
    if (!alive || std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

// A stream the netlab tests measure: `packets` 1000-byte packets at 1,000
// packets/s from a publisher on relay `from` (stream from:local_id) to a
// subscriber on relay `to` started with `sub`. Returns once the subscription
// tree is built and the subscriber has `running_after` unique packets.
struct LabStream {
  lm::PublisherProcess publisher;
  lm::SubscriberProcess subscriber;
};
inline LabStream startStream(lm::LocalMesh& mesh, NodeId from, NodeId to, std::uint32_t local_id,
                             std::uint64_t packets, const lm::SubscriberOptions& sub, std::uint64_t running_after) {
  using namespace std::chrono_literals;
  const StreamId stream = makeStreamId(from, local_id);
  auto subscriber = mesh.startSubscriber(to, stream, sub);
  REQUIRE(subscriber.ok());
  REQUIRE(subscriber.value().waitJoined(5s));
  REQUIRE(mesh.waitForTree({to}, from, 5s) == "");

  lm::PublisherOptions pub;
  pub.local_id = local_id;
  pub.count = packets;
  pub.duration_s = 30;  // `count` ends it first
  pub.packet_bytes = 1000;
  pub.fps = 50;
  pub.bitrate_kbps = 8000;  // 1000 packets/s
  auto publisher = mesh.startPublisher(from, pub);
  REQUIRE(publisher.ok());
  REQUIRE(publisher.value().waitJoined(5s) == stream);
  REQUIRE(waitForSubscriber(subscriber.value(), 10s,
                            [running_after](const auto& f) { return f.unique >= running_after; }));
  return LabStream{std::move(publisher.value()), std::move(subscriber.value())};
}

inline long long msSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace overline::netlab::test
