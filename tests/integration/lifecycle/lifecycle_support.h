#pragma once
// What the lifecycle tests share: reading a relay's files and log, and a
// stream of 500 packets/s from relay `publisher_edge` to a subscriber on
// relay `subscriber_edge` that must lose nothing while the test acts.

#include <catch2/catch.hpp>

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "deploy/localmesh/local_mesh.h"

namespace overline::lifecycle_test {

inline std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

inline void writeFile(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

// Waits until the file at `path` (a relay's log) has `count` lines containing `needle`.
inline bool waitForLog(const std::string& path, const std::string& needle, int count,
                       std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const std::string log = readFile(path);
    int found = 0;
    for (std::size_t at = log.find(needle); at != std::string::npos; at = log.find(needle, at + 1)) ++found;
    if (found >= count) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

// A publisher on `publisher_edge` sending `packets` of 1,000 bytes at 500/s
// on stream (publisher_edge, local_id), and a subscriber on
// `subscriber_edge`, joined and with its tree built before the first packet.
struct RunningStream {
  localmesh::SubscriberProcess subscriber;
  localmesh::PublisherProcess publisher;
};
inline RunningStream startStream(localmesh::LocalMesh& mesh, NodeId publisher_edge, NodeId subscriber_edge,
                                 std::uint32_t local_id, std::uint64_t packets) {
  using namespace std::chrono_literals;
  const StreamId stream = makeStreamId(publisher_edge, local_id);
  localmesh::SubscriberOptions sub;
  sub.expect_count = packets;
  sub.idle_exit_ms = 3000;
  auto subscriber = mesh.startSubscriber(subscriber_edge, stream, sub);
  REQUIRE(subscriber.ok());
  REQUIRE(subscriber.value().waitJoined(5s));
  REQUIRE(mesh.waitForTree({subscriber_edge}, publisher_edge, 5s) == "");
  localmesh::PublisherOptions pub;
  pub.local_id = local_id;
  pub.count = packets;
  pub.duration_s = 30;
  pub.packet_bytes = 1000;
  pub.fps = 50;
  pub.bitrate_kbps = 4000;  // 500 packets/s
  auto publisher = mesh.startPublisher(publisher_edge, pub);
  REQUIRE(publisher.ok());
  REQUIRE(publisher.value().waitJoined(5s) == stream);
  return RunningStream{std::move(subscriber.value()), std::move(publisher.value())};
}

}  // namespace overline::lifecycle_test
