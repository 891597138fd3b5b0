// ControllerStore on a real RocksDB in a temp dir: what is committed comes
// back after reopening, events get consecutive sequences, batches are atomic.

#include "controller/store/controller_store.h"

#include <catch2/catch.hpp>

#include <fstream>

#include "tests/unit/controller/temp_dir.h"

namespace overline::controller {
namespace {

using Durability = ControllerStore::Durability;
using testing::TempDir;

std::unique_ptr<ControllerStore> openStore(const TempDir& dir) {
  auto store = ControllerStore::open(dir.file("db"));
  REQUIRE(store.ok());
  return std::move(store.value());
}

ProvisionedNode node(NodeId id, bool drained = false) {
  return ProvisionedNode{id, "eu", {{"a", "127.0.0.1:4001", "isp-a"}, {"b", "127.0.0.2:0", "isp-b"}}, 1'000'000,
                         drained};
}

v1::Event event(v1::EventType type, NodeId node_id, const std::string& detail) {
  v1::Event e;
  e.set_type(type);
  e.set_node_id(node_id);
  e.set_time_unix_ms(1'700'000'000'000);
  e.set_detail(detail);
  return e;
}

StoredLink link(NodeId from, NodeId to, LinkState state) {
  return StoredLink{LinkMeasurement{from, 1, to, 0, 12'000, 800, 0.25, state}, 1'700'000'000'123};
}

TEST_CASE("a new store is empty") {
  TempDir dir;
  auto store = openStore(dir);
  const auto state = store->load();
  REQUIRE(state.ok());
  CHECK(state->nodes.empty());
  CHECK(state->sightings.empty());
  CHECK(state->links.empty());
  CHECK(state->route_version == 0);
  CHECK(state->last_event_sequence == 0);
  CHECK(store->readEvents(1, 10).value().empty());
}

TEST_CASE("committed state survives reopening") {
  TempDir dir;
  {
    auto store = openStore(dir);
    ControllerStore::Batch batch;
    batch.putNode(node(2, true));
    batch.putNode(node(1));
    batch.putSighting({1, 1'700'000'000'500, "0.1.0", {"127.0.0.1:4001", "127.0.0.2:5555"}});
    batch.putLink(link(1, 2, LinkState::kDegraded));
    batch.putLink(link(2, 1, LinkState::kDown));
    batch.putRouteVersion(41);
    REQUIRE(store->commit(std::move(batch), Durability::kSynced).ok());
  }
  auto store = openStore(dir);
  const auto state = store->load();
  REQUIRE(state.ok());
  REQUIRE(state->nodes.size() == 2);
  CHECK(state->nodes[0] == node(1));  // ascending id
  CHECK(state->nodes[1] == node(2, true));
  REQUIRE(state->sightings.size() == 1);
  CHECK(state->sightings[0].last_seen_unix_ms == 1'700'000'000'500);
  CHECK(state->sightings[0].software_version == "0.1.0");
  CHECK(state->sightings[0].announced_addresses == std::vector<std::string>{"127.0.0.1:4001", "127.0.0.2:5555"});
  REQUIRE(state->links.size() == 2);
  const LinkMeasurement& m = state->links[0].measurement;
  CHECK(keyOf(m) == LinkKey{1, 1, 2, 0});
  CHECK(m.rtt_us == 12'000);
  CHECK(m.jitter_us == 800);
  CHECK(m.loss == 0.25);
  CHECK(m.state == LinkState::kDegraded);
  CHECK(state->links[0].updated_unix_ms == 1'700'000'000'123);
  CHECK(state->links[1].measurement.state == LinkState::kDown);
  CHECK(state->route_version == 41);
}

TEST_CASE("deletes remove provisioning, sighting and links") {
  TempDir dir;
  auto store = openStore(dir);
  ControllerStore::Batch put;
  put.putNode(node(1));
  put.putNode(node(2));
  put.putSighting({1, 5, "v", {}});
  put.putLink(link(1, 2, LinkState::kUp));
  REQUIRE(store->commit(std::move(put), Durability::kBuffered).ok());
  ControllerStore::Batch del;
  del.deleteNode(1);
  del.deleteLink({1, 1, 2, 0});
  REQUIRE(store->commit(std::move(del), Durability::kSynced).ok());
  const auto state = store->load();
  REQUIRE(state->nodes.size() == 1);
  CHECK(state->nodes[0].id == 2);
  CHECK(state->sightings.empty());
  CHECK(state->links.empty());
}

TEST_CASE("events get consecutive sequences that continue after reopening") {
  TempDir dir;
  {
    auto store = openStore(dir);
    ControllerStore::Batch batch;
    batch.appendEvent(event(v1::EVENT_TYPE_NODE_PROVISIONED, 1, "first"));
    batch.appendEvent(event(v1::EVENT_TYPE_NODE_DRAINED, 1, "second"));
    const auto committed = store->commit(std::move(batch), Durability::kSynced);
    REQUIRE(committed.ok());
    REQUIRE(committed->size() == 2);
    CHECK(committed.value()[0].sequence() == 1);
    CHECK(committed.value()[1].sequence() == 2);
    CHECK(store->lastEventSequence() == 2);
  }
  auto store = openStore(dir);
  CHECK(store->lastEventSequence() == 2);
  CHECK(store->load()->last_event_sequence == 2);
  ControllerStore::Batch batch;
  batch.appendEvent(event(v1::EVENT_TYPE_LINK_DOWN, 3, "third"));
  CHECK(store->commit(std::move(batch), Durability::kBuffered).value()[0].sequence() == 3);

  const auto all = store->readEvents(1, 100);
  REQUIRE(all.ok());
  REQUIRE(all->size() == 3);
  CHECK(all.value()[0].detail() == "first");
  CHECK(all.value()[2].detail() == "third");
  CHECK(all.value()[2].node_id() == 3);
  CHECK(all.value()[2].type() == v1::EVENT_TYPE_LINK_DOWN);

  const auto page = store->readEvents(2, 1);
  REQUIRE(page->size() == 1);
  CHECK(page.value()[0].sequence() == 2);
  CHECK(store->readEvents(4, 10)->empty());
}

TEST_CASE("waitForEvents returns at once for an existing event and times out otherwise") {
  TempDir dir;
  auto store = openStore(dir);
  ControllerStore::Batch batch;
  batch.appendEvent(event(v1::EVENT_TYPE_NODE_CONNECTED, 1, ""));
  REQUIRE(store->commit(std::move(batch), Durability::kBuffered).ok());
  const auto started = std::chrono::steady_clock::now();
  store->waitForEvents(1, std::chrono::seconds(10));
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(5));
  store->waitForEvents(2, std::chrono::milliseconds(1));
  CHECK(store->lastEventSequence() == 1);
}

TEST_CASE("an unusable path is an error naming it") {
  TempDir dir;
  std::ofstream(dir.file("plain-file")) << "not a directory";
  const auto store = ControllerStore::open(dir.file("plain-file"));
  REQUIRE_FALSE(store.ok());
  CHECK(store.error().find(dir.file("plain-file")) != std::string::npos);
}

TEST_CASE("flush succeeds on an open store") {
  TempDir dir;
  auto store = openStore(dir);
  CHECK_FALSE(store->flush().has_value());
}

TEST_CASE("the event log keeps the newest max_events, across reopening") {
  TempDir dir;
  const auto sequences = [](ControllerStore& store) {
    std::vector<std::uint64_t> out;
    const auto events = store.readEvents(1, 100);
    REQUIRE(events.ok());
    for (const v1::Event& e : events.value()) out.push_back(e.sequence());
    return out;
  };
  {
    auto store = ControllerStore::open(dir.file("db"), 3);
    REQUIRE(store.ok());
    for (int i = 0; i < 5; ++i) {
      ControllerStore::Batch batch;
      batch.appendEvent(event(v1::EVENT_TYPE_NODE_PROVISIONED, 1, "e" + std::to_string(i)));
      REQUIRE(store.value()->commit(std::move(batch), Durability::kBuffered).ok());
    }
    CHECK(sequences(*store.value()) == std::vector<std::uint64_t>{3, 4, 5});
  }
  auto store = ControllerStore::open(dir.file("db"), 3);
  REQUIRE(store.ok());
  ControllerStore::Batch batch;
  batch.appendEvent(event(v1::EVENT_TYPE_NODE_REMOVED, 1, "e5"));
  batch.appendEvent(event(v1::EVENT_TYPE_NODE_REMOVED, 1, "e6"));
  REQUIRE(store.value()->commit(std::move(batch), Durability::kBuffered).ok());
  CHECK(sequences(*store.value()) == std::vector<std::uint64_t>{5, 6, 7});
  CHECK(store.value()->lastEventSequence() == 7);
}

TEST_CASE("key epochs survive reopening") {
  TempDir dir;
  KeySecret secret;
  secret.fill(7);
  {
    auto store = openStore(dir);
    ControllerStore::Batch batch;
    batch.putKeyEpochs({{1, secret, 100, 100}, {2, secret, 200, 230}});
    REQUIRE(store->commit(std::move(batch), Durability::kSynced).ok());
  }
  auto store = openStore(dir);
  const auto state = store->load();
  REQUIRE(state.ok());
  REQUIRE(state->key_epochs.size() == 2);
  CHECK(state->key_epochs[1] == KeyEpoch{2, secret, 200, 230});
}

}  // namespace
}  // namespace overline::controller
