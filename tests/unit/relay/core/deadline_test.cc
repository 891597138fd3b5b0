// Deadlines, not scans: DeadlineQueue's contract, and a RelayCore driven
// only at its nextDeadline() (as relay/io does) keeps its soft state exact
// while idle streams cost no periodic ticks.

#include <catch2/catch.hpp>
#include <limits>
#include <vector>

#include "relay/core/deadline_queue.h"
#include "relay/core/relay_core.h"
#include "tests/unit/relay/core/test_network.h"
#include "tests/unit/relay/core/test_peers.h"

namespace overline::relay {
namespace {

using test::Bytes;
using test::clientEndpoint;
using test::makeControl;
using wire::PacketType;

std::vector<int> popDue(DeadlineQueue<int>& queue, TimeUs now) {
  std::vector<int> due;
  queue.popDue(now, due);
  return due;
}

TEST_CASE("DeadlineQueue returns each key once, at its earliest scheduled time, in order", "[deadline]") {
  DeadlineQueue<int> queue;
  CHECK(queue.next() == std::numeric_limits<TimeUs>::max());
  queue.schedule(1, 300);
  queue.schedule(2, 100);
  queue.schedule(3, 200);
  queue.schedule(2, 500);  // later than scheduled: ignored, it still fires at 100
  queue.schedule(3, 150);  // earlier: moves it
  CHECK(queue.next() == 100);
  CHECK(popDue(queue, 99).empty());
  CHECK(popDue(queue, 160) == std::vector<int>{2, 3});
  CHECK(popDue(queue, 250).empty());  // 3's superseded entry at 200 is stale
  CHECK(queue.size() == 1);
  CHECK(popDue(queue, 1000) == std::vector<int>{1});
  CHECK(popDue(queue, 2000).empty());
  CHECK(queue.size() == 0);
}

TEST_CASE("DeadlineQueue forgets cancelled keys and stays bounded under rescheduling", "[deadline]") {
  DeadlineQueue<int> queue;
  queue.schedule(7, 100);
  queue.cancel(7);
  CHECK(popDue(queue, 1000).empty());
  // A key moved earlier 10,000 times leaves stale entries that are compacted.
  for (TimeUs at = 20000; at > 10000; --at) queue.schedule(8, at);
  queue.schedule(9, 5);
  CHECK(popDue(queue, 10) == std::vector<int>{9});
  CHECK(popDue(queue, 10001) == std::vector<int>{8});
  CHECK(queue.size() == 0);
}

constexpr NodeId kSelf = 1;
constexpr std::size_t kStreams = 50;

// A relay with no neighbours and one client subscribed to kStreams of its
// own streams, ticked only when nextDeadline() says so.
struct DeadlineDrivenRelay {
  // A new core asks for a tick at once (its deadlines start at 0), as
  // relay/io gives it on start().
  DeadlineDrivenRelay() : core(config(), sink), peers(kSelf) { core.onTick(now); }

  static RelayCoreConfig config() {
    RelayCoreConfig config;
    config.node_id = kSelf;
    config.line_count = 1;
    return test::withTestAuth(std::move(config));
  }
  void fromClient(const Bytes& packet) {
    core.onDatagram(0, clientEndpoint(1), peers.fromClient(clientEndpoint(1), packet, now), now);
  }
  // Runs every tick the core asks for up to `until_us`; returns how many.
  int runUntil(TimeUs until_us) {
    int ticks = 0;
    for (TimeUs next = core.nextDeadline(); next <= until_us; next = core.nextDeadline()) {
      REQUIRE(next > now - core.tickInterval());  // never asks to go back in time
      now = std::max(now, next);
      core.onTick(now);
      ++ticks;
      REQUIRE(ticks < 100000);  // bounded whatever happens
    }
    now = until_us;
    return ticks;
  }

  test::RecordingSink sink;
  RelayCore core;
  test::TestPeers peers;
  TimeUs now = 1'000'000;
};

TEST_CASE("A relay ticked only at nextDeadline() expires idle subscriptions on time, in few ticks", "[deadline]") {
  DeadlineDrivenRelay relay;
  relay.fromClient(makeControl(PacketType::kHello, 0));
  for (std::uint32_t i = 1; i <= kStreams; ++i) relay.fromClient(makeControl(PacketType::kSubscribe, makeStreamId(kSelf, i)));
  REQUIRE(relay.core.gauges().streams == kStreams);
  CHECK(relay.core.gauges().downstreams == kStreams);
  const TimeUs subscribed_at = relay.now;

  // Idle: no neighbour to probe, no DATA. The core asks for a tick only at
  // its soft-state deadlines (refreshes every 500 ms, announcements), never
  // at the 5 ms cadence of the periodic parts.
  relay.core.onTick(relay.now);
  CHECK(relay.core.nextDeadline() - relay.now > relay.core.tickInterval());

  // The client stops refreshing: the subscriptions expire 1.5 s after the
  // last SUBSCRIBE, not a tick later than the refresh cadence allows.
  const DurationUs expiry_us = SubscriptionTimers{}.expiry_us;
  const int ticks_before = relay.runUntil(subscribed_at + expiry_us - 1);
  CHECK(relay.core.gauges().streams == kStreams);
  const int ticks_after = relay.runUntil(subscribed_at + expiry_us + SubscriptionTimers{}.refresh_interval_us);
  CHECK(relay.core.gauges().streams == 0);
  CHECK(relay.core.gauges().downstreams == 0);
  CHECK(relay.core.counters().downstreams_expired == kStreams);
  // 2 s of idleness with 50 streams: a handful of ticks, not 400 (every 5 ms).
  INFO("ticks " << ticks_before << " + " << ticks_after);
  CHECK(ticks_before + ticks_after <= 20);
}

TEST_CASE("A client that falls silent is removed at its expiry by the deadline tick", "[deadline]") {
  DeadlineDrivenRelay relay;
  relay.fromClient(makeControl(PacketType::kHello, 0));
  REQUIRE(relay.core.gauges().clients == 1);
  const TimeUs joined_at = relay.now;
  relay.runUntil(joined_at + Limits{}.client_expiry_us - 1);
  CHECK(relay.core.gauges().clients == 1);
  relay.runUntil(joined_at + Limits{}.client_expiry_us + relay.core.tickInterval());
  CHECK(relay.core.gauges().clients == 0);
  CHECK(relay.core.counters().clients_expired == 1);
}

}  // namespace
}  // namespace overline::relay
