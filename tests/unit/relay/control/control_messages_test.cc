// toNeighbours (relay/control/control_messages.h): a peer list's keys are
// hostile input; each bad key is refused and counted, the rest kept.

#include "relay/control/control_messages.h"

#include <catch2/catch.hpp>

#include <string>

namespace overline::relay {
namespace {

constexpr NodeId kSelf = 1;

v1::Peer& addPeer(v1::PeerList& list, NodeId node, const std::string& address) {
  v1::Peer& peer = *list.add_peers();
  peer.set_node_id(node);
  peer.set_region("eu");
  v1::Line& line = *peer.add_lines();
  line.set_name("a");
  line.set_address(address);
  return peer;
}

void addKey(v1::Peer& peer, std::uint32_t epoch, std::size_t bytes = 16, std::int64_t activate_at_s = 0,
            char fill = 'k') {
  v1::PairKey& key = *peer.add_keys();
  key.set_epoch(epoch);
  key.set_key(std::string(bytes, fill));
  key.set_activate_at_unix_s(activate_at_s);
}

TEST_CASE("toNeighbours carries each peer's keys, ascending epoch") {
  v1::PeerList list;
  v1::Peer& two = addPeer(list, 2, "127.0.2.1:40001");
  addKey(two, 7, 16, 1'900'000'000, 'b');
  addKey(two, 6, 16, 0, 'a');
  addPeer(list, 3, "127.0.3.1:40001");  // no keys: fine here; ControlBridge decides
  const PeerListUpdate update = toNeighbours(list, kSelf);
  CHECK(update.keys_ignored == 0);
  CHECK(update.problems.empty());
  REQUIRE(update.neighbours.size() == 2);
  const auto& keys = update.neighbours[0].keys;
  REQUIRE(keys.size() == 2);
  CHECK(keys[0].epoch == 6);
  CHECK(keys[0].key[0] == 'a');
  CHECK(keys[0].activate_at_unix_us == 0);
  CHECK(keys[1].epoch == 7);
  CHECK(keys[1].key[15] == 'b');
  CHECK(keys[1].activate_at_unix_us == 1'900'000'000 * kSecond);
  CHECK(update.neighbours[1].keys.empty());
}

TEST_CASE("toNeighbours refuses malformed keys one by one and counts them") {
  v1::PeerList list;
  v1::Peer& two = addPeer(list, 2, "127.0.2.1:40001");
  addKey(two, 1);          // good
  addKey(two, 0);          // epoch 0
  addKey(two, 2, 15);      // short
  addKey(two, 3, 32);      // long
  addKey(two, 4, 0);       // empty
  addKey(two, 5, 16, -1);  // negative activation time
  addKey(two, 1, 16, 0, 'x');  // repeated epoch: the first stands
  const PeerListUpdate update = toNeighbours(list, kSelf);
  CHECK(update.keys_ignored == 6);
  REQUIRE(update.problems.size() == 6);
  CHECK(update.problems[0] == "peer 2: key epoch 0 (epochs start at 1); ignored");
  CHECK(update.problems[1] == "peer 2: key epoch 2 has 15 bytes, not 16; ignored");
  CHECK(update.problems[5] == "peer 2: key epoch 1 appears twice (the first stands); ignored");
  REQUIRE(update.neighbours.size() == 1);
  REQUIRE(update.neighbours[0].keys.size() == 1);
  CHECK(update.neighbours[0].keys[0].epoch == 1);
  CHECK(update.neighbours[0].keys[0].key[0] == 'k');
}

TEST_CASE("toNeighbours keeps the newest 8 epochs of a peer") {
  v1::PeerList list;
  v1::Peer& two = addPeer(list, 2, "127.0.2.1:40001");
  for (std::uint32_t epoch = 10; epoch >= 1; --epoch) addKey(two, epoch);
  const PeerListUpdate update = toNeighbours(list, kSelf);
  CHECK(update.keys_ignored == 2);
  REQUIRE(update.problems.size() == 2);
  CHECK(update.problems[0] == "peer 2: key epoch 1 is beyond the newest 8 epochs; ignored");
  REQUIRE(update.neighbours.size() == 1);
  const auto& keys = update.neighbours[0].keys;
  REQUIRE(keys.size() == kMaxKeyEpochs);
  CHECK(keys.front().epoch == 3);
  CHECK(keys.back().epoch == 10);
}

TEST_CASE("toNeighbours lists a bounded number of problems but counts them all") {
  v1::PeerList list;
  for (NodeId node = 2; node < 12; ++node) {
    v1::Peer& peer = addPeer(list, node, "127.0." + std::to_string(node) + ".1:40001");
    addKey(peer, 0);
    addKey(peer, 1, 3);
    addKey(peer, 2);
  }
  const PeerListUpdate update = toNeighbours(list, kSelf);
  CHECK(update.keys_ignored == 20);
  CHECK(update.problems.size() == kMaxListedProblems);
  REQUIRE(update.neighbours.size() == 10);
  for (const NeighbourConfig& neighbour : update.neighbours) {
    REQUIRE(neighbour.keys.size() == 1);
    CHECK(neighbour.keys[0].epoch == 2);
  }
}

}  // namespace
}  // namespace overline::relay
