// sdk::Client against a FakeEdge on loopback. Every wait is for a condition
// with a deadline; nothing sleeps for a fixed time.

#include "sdk/client.h"

#include <algorithm>
#include <array>
#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <numeric>
#include <thread>
#include <vector>

#include "sdk/overline.h"
#include "tests/integration/sdk/fake_edge.h"

namespace overline::sdk {
namespace {

using namespace std::chrono_literals;
using testing::FakeEdge;
using wire::PacketType;

constexpr auto kDeadline = 5s;

struct Delivery {
  StreamId stream = 0;
  wire::Header header;
  std::vector<std::byte> payload;
  std::uint64_t arrival_us = 0;
};

// Collects receive callbacks (SDK thread) for the test thread to wait on.
class Inbox {
 public:
  ReceiveCallback callback() {
    return [this](StreamId stream, const wire::Header& header, std::span<const std::byte> payload,
                  std::uint64_t arrival_us) {
      {
        std::lock_guard lock(mutex_);
        deliveries_.push_back({stream, header, {payload.begin(), payload.end()}, arrival_us});
      }
      changed_.notify_all();
    };
  }
  bool waitForCount(std::size_t n) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, kDeadline, [&] { return deliveries_.size() >= n; });
  }
  std::vector<Delivery> deliveries() {
    std::lock_guard lock(mutex_);
    return deliveries_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<Delivery> deliveries_;
};

ClientOptions fastOptions() {
  ClientOptions options;
  options.connect_timeout_us = 2 * kSecond;
  options.hello_retry_us = 50 * kMillisecond;
  options.keepalive_interval_us = 50 * kMillisecond;
  options.refresh_interval_us = 50 * kMillisecond;
  // Tests that are not about dead edges: a loaded machine may stall a
  // thread for a few hundred ms, which must not count as a dead edge here.
  options.dead_after_us = 2 * kSecond;
  return options;
}

// Tests about moving between edges: dead after the default 300 ms.
ClientOptions failoverOptions() {
  ClientOptions options = fastOptions();
  options.dead_after_us = 300 * kMillisecond;
  options.join_timeout_us = 300 * kMillisecond;
  return options;
}

// Collects session events (SDK thread) for the test thread to wait on.
class EventLog {
 public:
  EventCallback callback() {
    return [this](const SessionEvent& event) {
      {
        std::lock_guard lock(mutex_);
        events_.push_back(event);
      }
      changed_.notify_all();
    };
  }
  // Waits until an event of `type` from `old_edge` to `new_edge` came.
  bool waitFor(SessionEventType type, NodeId old_edge, NodeId new_edge) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, kDeadline, [&] {
      return std::any_of(events_.begin(), events_.end(), [&](const SessionEvent& e) {
        return e.type == type && e.old_edge == old_edge && e.new_edge == new_edge;
      });
    });
  }
  std::vector<SessionEvent> events() {
    std::lock_guard lock(mutex_);
    return events_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<SessionEvent> events_;
};

std::unique_ptr<Client> connectTo(const FakeEdge& edge, const ClientOptions& options = fastOptions()) {
  auto connected = Client::connect(edge.endpoint(), options);
  INFO((connected ? std::string() : connected.error()));
  REQUIRE(connected);
  return std::move(connected.value());
}

std::vector<std::byte> bytes(std::initializer_list<int> values) {
  std::vector<std::byte> out;
  for (const int v : values) out.push_back(static_cast<std::byte>(v));
  return out;
}

TEST_CASE("Client::connect times out when the edge never answers") {
  FakeEdge edge(FakeEdge::Options{.node_id = 42, .answer_hello = false});
  ClientOptions options = fastOptions();
  options.connect_timeout_us = 400 * kMillisecond;
  const auto started = std::chrono::steady_clock::now();
  const auto connected = Client::connect(edge.endpoint(), options);
  const auto elapsed = std::chrono::steady_clock::now() - started;
  REQUIRE_FALSE(connected);
  CHECK(connected.error().find("no WELCOME") != std::string::npos);
  CHECK(elapsed >= 400ms);
  CHECK(elapsed < 3s);
  // HELLO was retried every 50 ms while waiting.
  CHECK(edge.waitForCount(PacketType::kHello, 4, kDeadline));
}

TEST_CASE("Client::connect rejects an unusable edge address") {
  CHECK_FALSE(Client::connect(Endpoint(0x7f000001, 0)));
  CHECK_FALSE(Client::connect(Endpoint(0, 4000)));
}

TEST_CASE("Client::connect learns the edge node id from its HELLO reply") {
  FakeEdge edge;
  const auto client = connectTo(edge);
  CHECK(client->edgeNode() == 42);
  CHECK(client->edge() == edge.endpoint());
  CHECK(client->publish(7).value() == makeStreamId(42, 7));
}

TEST_CASE("Client sends HELLO keepalives") {
  FakeEdge edge;
  const auto client = connectTo(edge);
  const std::size_t after_connect = edge.count(PacketType::kHello);
  CHECK(edge.waitForCount(PacketType::kHello, after_connect + 3, kDeadline));
}

TEST_CASE("Client sends SUBSCRIBE at once, refreshes it, and stops after UNSUBSCRIBE") {
  // Declared before the client: its receive thread may call them until the
  // client is destroyed.
  Inbox inbox;
  FakeEdge edge;
  const auto client = connectTo(edge);
  const StreamId stream = makeStreamId(9, 3);
  client->subscribe(stream, inbox.callback());
  CHECK(edge.waitForCount(PacketType::kSubscribe, 1, kDeadline, stream));
  CHECK(edge.waitForCount(PacketType::kSubscribe, 4, kDeadline, stream));  // refreshed every 50 ms

  client->unsubscribe(stream);
  REQUIRE(edge.waitForCount(PacketType::kUnsubscribe, 1, kDeadline, stream));
  // Keepalives tick at the refresh rate: after three more, a refresh would have shown up.
  const std::size_t subscribes = edge.count(PacketType::kSubscribe, stream);
  const std::size_t hellos = edge.count(PacketType::kHello);
  REQUIRE(edge.waitForCount(PacketType::kHello, hellos + 3, kDeadline));
  CHECK(edge.count(PacketType::kSubscribe, stream) == subscribes);
}

TEST_CASE("Client delivers DATA of a subscribed stream to its callback") {
  // Declared before the client: its receive thread may call them until the
  // client is destroyed.
  Inbox inbox;
  FakeEdge edge;
  const auto client = connectTo(edge);
  const StreamId stream = client->publish(7).value();
  client->subscribe(stream, inbox.callback());  // the fake edge forwards our own DATA back
  REQUIRE(edge.waitForCount(PacketType::kSubscribe, 1, kDeadline, stream));

  for (int i = 0; i < 10; ++i) REQUIRE(client->send(stream, bytes({i, 0xAB, 0xCD})));
  REQUIRE(inbox.waitForCount(10));

  const auto deliveries = inbox.deliveries();
  for (std::uint32_t i = 0; i < 10; ++i) {
    const Delivery& d = deliveries[i];
    CHECK(d.stream == stream);
    CHECK(d.header.type == PacketType::kData);
    CHECK(d.header.sequence == i);
    CHECK(d.header.sender_node_id == 42);
    CHECK(d.header.hop_limit == wire::kDefaultHopLimit - 1);
    CHECK(d.payload == bytes({static_cast<int>(i), 0xAB, 0xCD}));
    CHECK(d.arrival_us >= d.header.timestamp_us);  // one machine, one wall clock
    CHECK(d.arrival_us - d.header.timestamp_us < 5'000'000);
  }
  const ClientCounters counters = client->counters();
  CHECK(counters.data_delivered == 10);
  CHECK(counters.malformed == 0);
}

TEST_CASE("Client::send rejects what it cannot send") {
  FakeEdge edge;
  const auto client = connectTo(edge);
  const StreamId stream = client->publish(1).value();
  CHECK_FALSE(client->send(makeStreamId(42, 2), bytes({1})));  // not published
  const std::vector<std::byte> oversize(wire::kMaxPayloadBytes + 1);
  CHECK_FALSE(client->send(stream, oversize));
  CHECK(client->send(stream, {}));  // an empty payload is valid
  client->close();
  CHECK_FALSE(client->send(stream, bytes({1})));
}

TEST_CASE("Client counts what it drops") {
  // Declared before the client: its receive thread may call them until the
  // client is destroyed.
  Inbox inbox;
  FakeEdge edge;
  const auto client = connectTo(edge);
  const StreamId stream = client->publish(7).value();
  client->subscribe(stream, inbox.callback());
  REQUIRE(edge.waitForCount(PacketType::kSubscribe, 1, kDeadline, stream));

  const Endpoint to = client->reflexiveAddress();
  edge.sendTo(to, bytes({0x4F, 1, 2}));  // too short
  wire::Header unexpected;
  unexpected.type = PacketType::kSubscribe;
  edge.sendTagged(to, unexpected);
  wire::Header unknown;
  unknown.type = PacketType::kData;
  unknown.stream_id = makeStreamId(42, 99);
  edge.sendTagged(to, unknown, bytes({1, 2}));
  // Forged: the edge's address, but no tag (or another key's): never delivered.
  wire::Header forged;
  forged.type = PacketType::kData;
  forged.stream_id = stream;
  forged.sequence = 1u << 31;
  edge.sendTo(to, forged, bytes({6}));
  // A datagram queued after the junk: once it is delivered, the junk was handled.
  REQUIRE(client->send(stream, bytes({7})));
  REQUIRE(inbox.waitForCount(1));

  const ClientCounters counters = client->counters();
  CHECK(counters.malformed == 1);
  CHECK(counters.unexpected_type == 1);
  CHECK(counters.unknown_stream == 1);
  CHECK(counters.unauthenticated == 1);
  CHECK(counters.data_delivered == 1);
}

TEST_CASE("A callback may unsubscribe itself") {
  FakeEdge edge;
  const auto client = connectTo(edge);
  const StreamId stream = client->publish(7).value();
  std::mutex mutex;
  std::condition_variable changed;
  int calls = 0;
  Client* raw = client.get();
  client->subscribe(stream, [&](StreamId s, const wire::Header&, std::span<const std::byte>, std::uint64_t) {
    raw->unsubscribe(s);  // must not deadlock on the SDK thread
    std::lock_guard lock(mutex);
    ++calls;
    changed.notify_all();
  });
  REQUIRE(edge.waitForCount(PacketType::kSubscribe, 1, kDeadline, stream));
  REQUIRE(client->send(stream, bytes({1})));
  {
    std::unique_lock lock(mutex);
    REQUIRE(changed.wait_for(lock, kDeadline, [&] { return calls == 1; }));
  }
  CHECK(edge.waitForCount(PacketType::kUnsubscribe, 1, kDeadline, stream));
}

TEST_CASE("Client::close unsubscribes every stream") {
  // Declared before the client: its receive thread may call them until the
  // client is destroyed.
  Inbox inbox;
  FakeEdge edge;
  const auto client = connectTo(edge);
  const StreamId a = makeStreamId(5, 1);
  const StreamId b = makeStreamId(6, 2);
  client->subscribe(a, inbox.callback());
  client->subscribe(b, inbox.callback());
  client->close();
  client->close();  // idempotent
  CHECK(edge.waitForCount(PacketType::kUnsubscribe, 1, kDeadline, a));
  CHECK(edge.waitForCount(PacketType::kUnsubscribe, 1, kDeadline, b));
}

std::uint64_t wallClockUs() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
}

// DATA as a relay would forward it to the client: as if the publisher sent
// one packet per millisecond from `first_sent_us` on. A copy sent again
// (duplicate, retransmission) keeps its original timestamp, as relays do.
wire::Header dataHeader(StreamId stream, std::uint32_t sequence, std::uint64_t first_sent_us,
                        std::uint8_t budget_units = 0) {
  wire::Header header;
  header.type = PacketType::kData;
  header.sender_node_id = 42;
  header.stream_id = stream;
  header.sequence = sequence;
  header.latency_budget = budget_units;
  header.timestamp_us = first_sent_us + sequence * 1000;
  return header;
}

std::vector<std::uint32_t> sequencesOf(const std::vector<Delivery>& deliveries) {
  std::vector<std::uint32_t> out;
  for (const Delivery& d : deliveries) out.push_back(d.header.sequence);
  return out;
}

template <typename Condition>
bool waitUntil(Condition condition) {
  const auto deadline = std::chrono::steady_clock::now() + kDeadline;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

TEST_CASE("Client playout delivers reordered DATA in sequence order") {
  // Declared before the client: its receive thread may call them until the
  // client is destroyed.
  Inbox inbox;
  FakeEdge edge;
  const auto client = connectTo(edge);
  const StreamId stream = makeStreamId(9, 1);
  REQUIRE_FALSE(client->subscribe(stream, inbox.callback()));
  const Endpoint to = client->reflexiveAddress();
  const std::uint64_t first_sent_us = wallClockUs();
  for (const std::uint32_t s : {0u, 2u, 1u, 1u, 3u}) {
    edge.sendTagged(to, dataHeader(stream, s, first_sent_us), bytes({1}));
  }
  REQUIRE(inbox.waitForCount(4));
  CHECK(sequencesOf(inbox.deliveries()) == std::vector<std::uint32_t>{0, 1, 2, 3});
  REQUIRE(waitUntil([&] { return client->counters().playout_duplicates == 1; }));
  const ClientCounters counters = client->counters();
  CHECK(counters.playout_reordered == 1);
  CHECK(counters.playout_lost == 0);
  CHECK(counters.playout_held == 0);
  CHECK(counters.data_delivered == 4);
}

TEST_CASE("Client playout gives up a gap at its deadline on its own thread") {
  // Declared before the client: its receive thread may call them until the
  // client is destroyed.
  Inbox inbox;
  FakeEdge edge;
  const auto client = connectTo(edge);
  const StreamId stream = makeStreamId(9, 2);
  REQUIRE_FALSE(client->subscribe(stream, inbox.callback()));
  const Endpoint to = client->reflexiveAddress();
  constexpr std::uint8_t kBudget50ms = 5;
  const auto sent = std::chrono::steady_clock::now();
  const std::uint64_t first_sent_us = wallClockUs();
  for (const std::uint32_t s : {0u, 2u, 3u}) {
    edge.sendTagged(to, dataHeader(stream, s, first_sent_us, kBudget50ms), bytes({1}));
  }
  REQUIRE(inbox.waitForCount(3));  // nothing else arrives: the SDK thread's timer releases 2 and 3
  const auto released = std::chrono::steady_clock::now();
  CHECK(sequencesOf(inbox.deliveries()) == std::vector<std::uint32_t>{0, 2, 3});
  CHECK(released - sent >= 45ms);  // 1's deadline: its send time + ~0 path delay + 50 ms
  // The counters are updated by the SDK thread after the callbacks return.
  CHECK(waitUntil([&] { return client->counters().playout_lost == 1 && client->counters().playout_held == 0; }));

  edge.sendTagged(to, dataHeader(stream, 1, first_sent_us, kBudget50ms), bytes({1}));  // too late now
  // 4 is stamped now: the gap before it (1..3) is over, so it is released at once.
  edge.sendTagged(to, dataHeader(stream, 4, wallClockUs() - 4000, kBudget50ms), bytes({1}));
  REQUIRE(inbox.waitForCount(4));
  CHECK(inbox.deliveries().back().header.sequence == 4);
  CHECK(waitUntil([&] { return client->counters().playout_late == 1; }));
}

TEST_CASE("Client without playout delivers DATA as it arrives") {
  // Declared before the client: its receive thread may call them until the
  // client is destroyed.
  Inbox inbox;
  Inbox arrivals;
  FakeEdge edge;
  const auto client = connectTo(edge);
  const StreamId stream = makeStreamId(9, 3);
  SubscribeOptions options;
  options.playout = false;
  options.on_arrival = arrivals.callback();
  REQUIRE_FALSE(client->subscribe(stream, inbox.callback(), options));
  const Endpoint to = client->reflexiveAddress();
  const std::uint64_t first_sent_us = wallClockUs();
  for (const std::uint32_t s : {0u, 2u, 1u, 1u}) edge.sendTagged(to, dataHeader(stream, s, first_sent_us), bytes({1}));
  REQUIRE(inbox.waitForCount(4));
  CHECK(sequencesOf(inbox.deliveries()) == std::vector<std::uint32_t>{0, 2, 1, 1});
  REQUIRE(arrivals.waitForCount(4));
  CHECK(sequencesOf(arrivals.deliveries()) == std::vector<std::uint32_t>{0, 2, 1, 1});
  CHECK(client->counters().playout_reordered == 0);
}

TEST_CASE("Client sees every arrival through on_arrival, before playout") {
  // Declared before the client: its receive thread may call them until the
  // client is destroyed.
  Inbox inbox;
  Inbox arrivals;
  FakeEdge edge;
  const auto client = connectTo(edge);
  const StreamId stream = makeStreamId(9, 4);
  SubscribeOptions options;
  options.on_arrival = arrivals.callback();
  REQUIRE_FALSE(client->subscribe(stream, inbox.callback(), options));
  const Endpoint to = client->reflexiveAddress();
  const std::uint64_t first_sent_us = wallClockUs();
  for (const std::uint32_t s : {0u, 2u, 2u, 1u}) edge.sendTagged(to, dataHeader(stream, s, first_sent_us), bytes({1}));
  REQUIRE(arrivals.waitForCount(4));
  CHECK(sequencesOf(arrivals.deliveries()) == std::vector<std::uint32_t>{0, 2, 2, 1});
  REQUIRE(inbox.waitForCount(3));
  CHECK(sequencesOf(inbox.deliveries()) == std::vector<std::uint32_t>{0, 1, 2});
}

TEST_CASE("Client publishes the latency budget in every DATA header") {
  // Declared before the client: its receive thread may call them until the
  // client is destroyed.
  Inbox inbox;
  FakeEdge edge;
  const auto client = connectTo(edge);
  SECTION("rounded up to 10 ms units") {
    const auto stream = client->publish(7, {.latency_budget_us = 55 * kMillisecond});
    REQUIRE(stream);
    REQUIRE(client->send(*stream, bytes({1})));
    REQUIRE(edge.waitForCount(PacketType::kData, 1, kDeadline, *stream));
    CHECK(edge.waitFor([&](const auto& packets) {
      return std::any_of(packets.begin(), packets.end(), [&](const auto& p) {
        return p.header.stream_id == *stream && p.header.type == PacketType::kData && p.header.latency_budget == 6;
      });
    }, kDeadline));
  }
  SECTION("400 ms by default") {
    const StreamId stream = client->publish(8).value();
    REQUIRE(client->send(stream, bytes({1})));
    // Any packet, not the last one: the edge also records HELLO keepalives,
    // and before the DATA arrives there may be nothing at all.
    CHECK(edge.waitFor([&](const auto& packets) {
      return std::any_of(packets.begin(), packets.end(), [&](const auto& p) {
        return p.header.stream_id == stream && p.header.type == PacketType::kData && p.header.latency_budget == 40;
      });
    }, kDeadline));
  }
  SECTION("out of range: a clear error") {
    for (const DurationUs bad : {DurationUs{0}, 9 * kMillisecond, 2551 * kMillisecond}) {
      const auto stream = client->publish(9, {.latency_budget_us = bad});
      REQUIRE_FALSE(stream);
      CHECK(stream.error().find("latency budget") != std::string::npos);
    }
    CHECK_FALSE(client->send(makeStreamId(42, 9), bytes({1})));  // not published
    SubscribeOptions options;
    options.default_latency_budget_us = 3 * kSecond;
    CHECK(client->subscribe(makeStreamId(9, 9), inbox.callback(), options));
  }
}

std::vector<EdgeCandidate> candidatesOf(std::initializer_list<const FakeEdge*> edges) {
  std::vector<EdgeCandidate> out;
  for (const FakeEdge* edge : edges) out.push_back({edge->endpoint(), ""});
  return out;
}

TEST_CASE("Client moves to the next candidate when its edge dies, keeping its streams") {
  // Declared before the client: its thread may call them until it is destroyed.
  Inbox inbox;
  EventLog events;
  FakeEdge a(FakeEdge::Options{.node_id = 42});
  FakeEdge b(FakeEdge::Options{.node_id = 43});
  ClientOptions options = failoverOptions();
  options.on_event = events.callback();
  auto connected = Client::connect(candidatesOf({&a, &b}), options);
  REQUIRE(connected);
  Client& client = *connected.value();
  CHECK(client.edgeNode() == 42);
  CHECK(events.waitFor(SessionEventType::kConnected, kNoNode, 42));
  const StreamId stream = client.publish(7).value();
  CHECK(stream == makeStreamId(42, 7));
  client.subscribe(stream, inbox.callback());  // the fake edges forward our own DATA back
  REQUIRE(a.waitForCount(PacketType::kSubscribe, 1, kDeadline, stream));
  for (int i = 0; i < 5; ++i) REQUIRE(client.send(stream, bytes({i})));
  REQUIRE(inbox.waitForCount(5));

  a.setDown(true);
  REQUIRE(events.waitFor(SessionEventType::kEdgeChanged, 42, 43));
  CHECK(client.edgeNode() == 43);
  CHECK(client.edge() == b.endpoint());
  REQUIRE(b.waitForCount(PacketType::kSubscribe, 1, kDeadline, stream));  // resubscribed there
  for (int i = 5; i < 10; ++i) CHECK(client.send(stream, bytes({i})));
  REQUIRE(inbox.waitForCount(10));
  // The same stream, numbered on, through the new edge.
  CHECK(sequencesOf(inbox.deliveries()) == std::vector<std::uint32_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
  REQUIRE(b.waitForCount(PacketType::kData, 5, kDeadline, stream));
  CHECK(b.count(PacketType::kData) == 5);
  CHECK(inbox.deliveries().back().header.sender_node_id == 43);
  const ClientCounters counters = client.counters();
  CHECK(counters.dead_edges >= 1);
  CHECK(counters.edge_changes >= 1);
  CHECK(counters.joins >= 2);
}

TEST_CASE("Client::connect passes over a candidate that does not answer") {
  EventLog events;
  FakeEdge silent(FakeEdge::Options{.node_id = 42, .answer_hello = false});
  FakeEdge b(FakeEdge::Options{.node_id = 43});
  ClientOptions options = failoverOptions();
  options.on_event = events.callback();
  auto connected = Client::connect(candidatesOf({&silent, &b}), options);
  REQUIRE(connected);
  Client& client = *connected.value();
  CHECK(client.edgeNode() == 43);
  CHECK(client.publish(1).value() == makeStreamId(43, 1));  // the first edge joined names the stream
  CHECK(events.waitFor(SessionEventType::kConnected, kNoNode, 43));
  CHECK(client.counters().join_timeouts >= 1);
  CHECK(silent.count(PacketType::kHello) >= 2);  // it was tried first
}

TEST_CASE("Client::connect names every candidate when none answers") {
  FakeEdge a(FakeEdge::Options{.node_id = 42, .answer_hello = false});
  FakeEdge b(FakeEdge::Options{.node_id = 43, .answer_hello = false});
  ClientOptions options = failoverOptions();
  options.connect_timeout_us = 700 * kMillisecond;
  const auto connected = Client::connect(candidatesOf({&a, &b}), options);
  REQUIRE_FALSE(connected);
  CHECK(connected.error().find("no WELCOME from any of edges " + a.endpoint().toString() + ", " +
                               b.endpoint().toString()) == 0);
  CHECK(a.count(PacketType::kHello) >= 1);
  CHECK(b.count(PacketType::kHello) >= 1);  // tried after a's join timed out
  CHECK_FALSE(Client::connect(candidatesOf({&a, &a}), options));  // listed twice
}

TEST_CASE("A dual-homed client sends and receives through both edges, and loses nothing when one dies") {
  // Declared before the client: its thread may call them until it is destroyed.
  Inbox inbox;
  EventLog events;
  FakeEdge a(FakeEdge::Options{.node_id = 42});
  FakeEdge b(FakeEdge::Options{.node_id = 43});
  ClientOptions options = failoverOptions();
  options.homes = 2;
  options.on_event = events.callback();
  auto connected = Client::connect(candidatesOf({&a, &b}), options);
  REQUIRE(connected);
  Client& client = *connected.value();
  // Both join at once; the first to answer is the primary.
  REQUIRE(events.waitFor(SessionEventType::kJoined, kNoNode, 42));
  REQUIRE(events.waitFor(SessionEventType::kJoined, kNoNode, 43));
  const auto edges = client.edges();
  REQUIRE(edges.size() == 2);
  CHECK(edges[0].primary);
  CHECK_FALSE(edges[1].primary);
  CHECK(edges[0].node != edges[1].node);
  CHECK(edges[1].reflexive == edges[0].reflexive);
  const NodeId primary = edges[0].node;
  const NodeId other = edges[1].node;
  CHECK(client.edgeNode() == primary);

  const StreamId stream = client.publish(7).value();
  CHECK(stream == makeStreamId(primary, 7));
  client.subscribe(stream, inbox.callback());  // each fake edge forwards our DATA back: two copies
  REQUIRE(a.waitForCount(PacketType::kSubscribe, 1, kDeadline, stream));
  REQUIRE(b.waitForCount(PacketType::kSubscribe, 1, kDeadline, stream));
  for (int i = 0; i < 10; ++i) REQUIRE(client.send(stream, bytes({i})));
  REQUIRE(a.waitForCount(PacketType::kData, 10, kDeadline, stream));
  REQUIRE(b.waitForCount(PacketType::kData, 10, kDeadline, stream));
  REQUIRE(inbox.waitForCount(10));
  CHECK(waitUntil([&] { return client.counters().playout_duplicates == 10; }));

  (primary == 42 ? a : b).setDown(true);
  for (int i = 10; i < 20; ++i) CHECK(client.send(stream, bytes({i})));  // the other edge still carries them
  REQUIRE(inbox.waitForCount(20));
  std::vector<std::uint32_t> expected(20);
  std::iota(expected.begin(), expected.end(), 0u);
  CHECK(sequencesOf(inbox.deliveries()) == expected);
  CHECK(events.waitFor(SessionEventType::kEdgeChanged, primary, other));
  CHECK(client.counters().playout_lost == 0);
}

// The C API over the same fake edge.
struct CInbox {
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<std::pair<std::uint32_t, std::vector<std::uint8_t>>> packets;
  std::uint64_t stream = 0;
};

extern "C" void onCPacket(void* user, uint64_t stream_id, uint32_t sequence, uint64_t /*timestamp_us*/,
                          const uint8_t* payload, size_t len) {
  auto* inbox = static_cast<CInbox*>(user);
  {
    std::lock_guard lock(inbox->mutex);
    inbox->stream = stream_id;
    inbox->packets.emplace_back(sequence, std::vector<std::uint8_t>(payload, payload + len));
  }
  inbox->changed.notify_all();
}

TEST_CASE("C API: connect, publish, subscribe, send, receive, destroy") {
  FakeEdge edge;
  const std::string address = edge.endpoint().toString();
  overline_client* client = nullptr;
  REQUIRE(overline_connect(address.c_str(), 2000, &client) == OVERLINE_OK);
  REQUIRE(client != nullptr);
  CHECK(overline_edge_node(client) == 42);

  std::uint64_t stream = 0;
  REQUIRE(overline_publish(client, 7, &stream) == OVERLINE_OK);
  CHECK(stream == makeStreamId(42, 7));
  CInbox inbox;
  REQUIRE(overline_subscribe(client, stream, &onCPacket, &inbox) == OVERLINE_OK);
  REQUIRE(edge.waitForCount(PacketType::kSubscribe, 1, kDeadline, stream));

  const std::uint8_t payload[] = {1, 2, 3};
  REQUIRE(overline_send(client, stream, payload, sizeof(payload)) == OVERLINE_OK);
  REQUIRE(overline_send(client, stream, payload, 0) == OVERLINE_OK);
  {
    std::unique_lock lock(inbox.mutex);
    REQUIRE(inbox.changed.wait_for(lock, kDeadline, [&] { return inbox.packets.size() == 2; }));
    CHECK(inbox.stream == stream);
    CHECK(inbox.packets[0].first == 0);
    CHECK(inbox.packets[0].second == std::vector<std::uint8_t>{1, 2, 3});
    CHECK(inbox.packets[1].first == 1);
    CHECK(inbox.packets[1].second.empty());
  }

  CHECK(overline_send(client, makeStreamId(42, 8), payload, 1) == OVERLINE_ERR_SEND);
  std::uint64_t budget_stream = 0;
  CHECK(overline_publish_with_budget(client, 9, 5, &budget_stream) == OVERLINE_ERR_INVALID_ARGUMENT);
  CHECK(overline_publish_with_budget(client, 9, 2551, &budget_stream) == OVERLINE_ERR_INVALID_ARGUMENT);
  REQUIRE(overline_publish_with_budget(client, 9, 100, &budget_stream) == OVERLINE_OK);
  CHECK(budget_stream == makeStreamId(42, 9));
  REQUIRE(overline_send(client, budget_stream, payload, 1) == OVERLINE_OK);
  CHECK(edge.waitFor([&](const auto& packets) {
    return std::any_of(packets.begin(), packets.end(), [&](const auto& p) {
      return p.header.stream_id == budget_stream && p.header.type == PacketType::kData &&
             p.header.latency_budget == 10;
    });
  }, kDeadline));
  CHECK(overline_send(client, stream, nullptr, 1) == OVERLINE_ERR_INVALID_ARGUMENT);
  CHECK(overline_send(client, stream, payload, OVERLINE_MAX_PAYLOAD_BYTES + 1) ==
        OVERLINE_ERR_INVALID_ARGUMENT);
  CHECK(overline_subscribe(client, stream, nullptr, nullptr) == OVERLINE_ERR_INVALID_ARGUMENT);
  REQUIRE(overline_unsubscribe(client, stream) == OVERLINE_OK);
  CHECK(edge.waitForCount(PacketType::kUnsubscribe, 1, kDeadline, stream));
  overline_destroy(client);
}

struct CEvents {
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<std::array<std::uint32_t, 3>> events;  // event, old, new
};

extern "C" void onCEvent(void* user, int event, uint32_t old_edge, uint32_t new_edge) {
  auto* log = static_cast<CEvents*>(user);
  {
    std::lock_guard lock(log->mutex);
    log->events.push_back({static_cast<std::uint32_t>(event), old_edge, new_edge});
  }
  log->changed.notify_all();
}

bool waitForCEvent(CEvents& log, int event, std::uint32_t old_edge, std::uint32_t new_edge) {
  std::unique_lock lock(log.mutex);
  const std::array<std::uint32_t, 3> wanted{static_cast<std::uint32_t>(event), old_edge, new_edge};
  return log.changed.wait_for(lock, kDeadline, [&] {
    return std::find(log.events.begin(), log.events.end(), wanted) != log.events.end();
  });
}

TEST_CASE("C API: connect with candidates, hear the events, move") {
  CEvents log;
  FakeEdge a(FakeEdge::Options{.node_id = 42});
  FakeEdge b(FakeEdge::Options{.node_id = 43});
  const std::string a_address = a.endpoint().toString();
  const std::string b_address = b.endpoint().toString();
  const char* const edges[] = {a_address.c_str(), b_address.c_str()};
  const char* const tokens[] = {"", nullptr};
  overline_client* client = nullptr;

  CHECK(overline_connect_candidates(edges, tokens, 0, 1, 2000, &onCEvent, &log, &client) ==
        OVERLINE_ERR_INVALID_ARGUMENT);
  CHECK(overline_connect_candidates(edges, tokens, 2, 3, 2000, &onCEvent, &log, &client) ==
        OVERLINE_ERR_INVALID_ARGUMENT);
  const char* const twice[] = {a_address.c_str(), a_address.c_str()};
  CHECK(overline_connect_candidates(twice, nullptr, 2, 1, 2000, nullptr, nullptr, &client) ==
        OVERLINE_ERR_INVALID_ARGUMENT);
  const std::string long_token(wire::kMaxJoinTokenBytes + 1, 't');
  const char* const bad_tokens[] = {long_token.c_str(), nullptr};
  CHECK(overline_connect_candidates(edges, bad_tokens, 2, 1, 2000, nullptr, nullptr, &client) ==
        OVERLINE_ERR_INVALID_ARGUMENT);
  CHECK(client == nullptr);

  // Dual-homed: both join at once, the first to answer is the primary.
  REQUIRE(overline_connect_candidates(edges, tokens, 2, 2, 2000, &onCEvent, &log, &client) == OVERLINE_OK);
  REQUIRE(client != nullptr);
  const std::uint32_t primary = overline_edge_node(client);
  REQUIRE((primary == 42 || primary == 43));
  const std::uint32_t other = primary == 42 ? 43 : 42;
  CHECK(waitForCEvent(log, OVERLINE_EVENT_EDGE_JOINED, 0, primary));
  CHECK(waitForCEvent(log, OVERLINE_EVENT_CONNECTED, 0, primary));
  CHECK(waitForCEvent(log, OVERLINE_EVENT_EDGE_JOINED, 0, other));  // the second home
  std::uint64_t stream = 0;
  REQUIRE(overline_publish(client, 7, &stream) == OVERLINE_OK);
  CHECK(stream == makeStreamId(primary, 7));

  (primary == 42 ? a : b).setDown(true);
  CHECK(waitForCEvent(log, OVERLINE_EVENT_EDGE_CHANGED, primary, other));
  CHECK(overline_edge_node(client) == other);
  const std::uint8_t payload[] = {1};
  REQUIRE(overline_send(client, stream, payload, 1) == OVERLINE_OK);
  CHECK((primary == 42 ? b : a).waitForCount(PacketType::kData, 1, kDeadline, stream));
  overline_destroy(client);
}

}  // namespace
}  // namespace overline::sdk
