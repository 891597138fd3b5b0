// FailoverTable alone, with a scripted NeighbourHealth.

#include "relay/core/failover_table.h"

#include <catch2/catch.hpp>
#include <map>
#include <memory>

namespace overline::relay {
namespace {

class FakeHealth : public NeighbourHealth {
 public:
  bool isDown(NodeId node) const override { return !up_since_.contains(node); }
  TimeUs upSince(NodeId node) const override { return up_since_.at(node); }

  void setUp(NodeId node, TimeUs since) { up_since_[node] = since; }
  void setDown(NodeId node) { up_since_.erase(node); }

 private:
  std::map<NodeId, TimeUs> up_since_;
};

constexpr DurationUs kHold = 3 * kSecond;

struct Fixture {
  Fixture() {
    table.setRoutes(std::make_shared<const RouteTable>(
        RouteTable{{{4, {2, 3}}, {5, {2, kNoNode}}, {2, {2, 3}}}}));
    health.setUp(2, 0);
    health.setUp(3, 0);
  }
  FailoverTable table{FailoverConfig{kHold}};
  FakeHealth health;
  TimeUs now = 100 * kSecond;
};

TEST_CASE("entries use their primary while it is not down") {
  Fixture f;
  CHECK_FALSE(f.table.update(f.health, f.now).any());
  CHECK(f.table.nextHop(4) == 2);
  CHECK(f.table.nextHop(5) == 2);
  CHECK(f.table.nextHop(2) == 2);
  CHECK(f.table.nextHop(9) == kNoNode);  // no entry
  // The other hop of each entry: its backup, none without one.
  CHECK(f.table.alternativeHop(4) == 3);
  CHECK(f.table.alternativeHop(5) == kNoNode);
  CHECK(f.table.alternativeHop(9) == kNoNode);
  // On the backup, the other hop is the primary.
  f.health.setDown(2);
  f.table.update(f.health, f.now);
  CHECK(f.table.nextHop(4) == 3);
  CHECK(f.table.alternativeHop(4) == 2);
}

TEST_CASE("a down primary fails over to the backup at once; failback waits for the hold") {
  Fixture f;
  f.health.setDown(2);
  const auto changes = f.table.update(f.health, f.now);
  CHECK(changes.failovers == 2);  // destinations 4 and 2; 5 has no backup
  CHECK(f.table.nextHop(4) == 3);
  CHECK(f.table.nextHop(2) == 3);  // a direct neighbour reached through its backup
  CHECK(f.table.nextHop(5) == 2);
  CHECK(f.table.waitingForFailback());

  const TimeUs back = f.now + kSecond;
  f.health.setUp(2, back);
  CHECK_FALSE(f.table.update(f.health, back + kHold - 1).any());
  CHECK(f.table.nextHop(4) == 3);
  const auto failback = f.table.update(f.health, back + kHold);
  CHECK(failback.failbacks == 2);
  CHECK(failback.failovers == 0);
  CHECK(f.table.nextHop(4) == 2);
  CHECK_FALSE(f.table.waitingForFailback());
}

TEST_CASE("a primary that flaps during the hold restarts it") {
  Fixture f;
  f.health.setDown(2);
  f.table.update(f.health, f.now);
  f.health.setUp(2, f.now + kSecond);
  f.table.update(f.health, f.now + 2 * kSecond);
  f.health.setDown(2);
  f.table.update(f.health, f.now + 2500 * kMillisecond);
  f.health.setUp(2, f.now + 3 * kSecond);
  CHECK_FALSE(f.table.update(f.health, f.now + 5 * kSecond).any());
  CHECK(f.table.nextHop(4) == 3);
  CHECK(f.table.update(f.health, f.now + 6 * kSecond).failbacks == 2);
}

TEST_CASE("both down: stay; backup down while the primary is up: back at once") {
  Fixture f;
  f.health.setDown(2);
  f.health.setDown(3);
  CHECK_FALSE(f.table.update(f.health, f.now).any());
  CHECK(f.table.nextHop(4) == 2);

  f.health.setUp(3, f.now);
  CHECK(f.table.update(f.health, f.now).failovers == 2);
  CHECK(f.table.nextHop(4) == 3);
  f.health.setDown(3);
  CHECK_FALSE(f.table.update(f.health, f.now).any());  // primary still down: stay
  CHECK(f.table.nextHop(4) == 3);
  f.health.setUp(2, f.now + kSecond);
  CHECK(f.table.update(f.health, f.now + kSecond).failovers == 2);
  CHECK(f.table.nextHop(4) == 2);
}

TEST_CASE("a new table keeps the state of unchanged entries only") {
  Fixture f;
  f.health.setDown(2);
  f.table.update(f.health, f.now);
  REQUIRE(f.table.nextHop(4) == 3);
  f.table.setRoutes(std::make_shared<const RouteTable>(RouteTable{{{4, {2, 3}}, {2, {2, 6}}}}));
  CHECK(f.table.nextHop(4) == 3);  // same primary and backup: still failed over
  CHECK(f.table.nextHop(2) == 2);  // new backup: starts on its primary
  CHECK(f.table.nextHop(5) == kNoNode);
  f.table.setRoutes(nullptr);
  CHECK(f.table.nextHop(4) == kNoNode);
  CHECK_FALSE(f.table.waitingForFailback());
}

}  // namespace
}  // namespace overline::relay
