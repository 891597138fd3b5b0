// Simulator: time order, FIFO ties, runUntil bounds, periodic tasks.
#include "simulations/simulator.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

namespace overline::sim {
namespace {

TEST_CASE("events run in time order and FIFO among equal times", "[sim][simulator]") {
  Simulator simulator;
  std::vector<std::string> ran;
  simulator.schedule(30, [&] { ran.push_back("c@30"); });
  simulator.schedule(10, [&] { ran.push_back("a@10"); });
  simulator.schedule(20, [&] { ran.push_back("b1@20"); });
  simulator.schedule(20, [&] { ran.push_back("b2@20"); });
  simulator.schedule(20, [&] { ran.push_back("b3@20"); });
  simulator.runUntil(100);
  CHECK(ran == std::vector<std::string>{"a@10", "b1@20", "b2@20", "b3@20", "c@30"});
  CHECK(simulator.now() == 100);
  CHECK(simulator.eventsRun() == 5);
}

TEST_CASE("now() is the event's time while it runs", "[sim][simulator]") {
  Simulator simulator(1000);
  std::vector<TimeUs> seen;
  simulator.schedule(1500, [&] { seen.push_back(simulator.now()); });
  simulator.scheduleAfter(200, [&] { seen.push_back(simulator.now()); });
  simulator.runFor(1000);
  CHECK(seen == std::vector<TimeUs>{1200, 1500});
  CHECK(simulator.now() == 2000);
}

TEST_CASE("runUntil stops at its bound and leaves later events pending", "[sim][simulator]") {
  Simulator simulator;
  int ran = 0;
  simulator.schedule(50, [&] { ++ran; });
  simulator.schedule(51, [&] { ++ran; });
  simulator.runUntil(50);
  CHECK(ran == 1);
  CHECK(simulator.pendingEvents() == 1);
  simulator.runUntil(51);
  CHECK(ran == 2);
}

TEST_CASE("events scheduled at now() by an event run after those already due", "[sim][simulator]") {
  Simulator simulator;
  std::vector<int> ran;
  simulator.schedule(10, [&] {
    ran.push_back(1);
    simulator.scheduleAfter(0, [&] { ran.push_back(3); });
  });
  simulator.schedule(10, [&] { ran.push_back(2); });
  simulator.runUntil(10);
  CHECK(ran == std::vector<int>{1, 2, 3});
}

TEST_CASE("a periodic task repeats at its interval until it returns false", "[sim][simulator]") {
  Simulator simulator;
  std::vector<TimeUs> runs;
  simulator.schedulePeriodic(5, 10, [&] {
    runs.push_back(simulator.now());
    return runs.size() < 4;
  });
  simulator.runUntil(1000);
  CHECK(runs == std::vector<TimeUs>{5, 15, 25, 35});
  CHECK(simulator.pendingEvents() == 0);
}

}  // namespace
}  // namespace overline::sim
