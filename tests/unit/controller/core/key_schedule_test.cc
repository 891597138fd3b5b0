#include "controller/core/key_schedule.h"

#include <catch2/catch.hpp>

namespace overline::controller {
namespace {

KeySecret secretOf(std::uint8_t byte) {
  KeySecret secret;
  secret.fill(byte);
  return secret;
}

TEST_CASE("the first epoch is live at once, later ones after the activation delay") {
  KeySchedule schedule;
  KeyPolicy policy;
  CHECK(schedule.rotationDue(1000, policy));
  CHECK_FALSE(schedule.sendingEpoch(1000));
  const KeyEpoch first = schedule.rotate(1000, secretOf(1), 30);
  CHECK(first.epoch == 1);
  CHECK(first.activate_at_unix_s == 1000);
  CHECK(schedule.sendingEpoch(1000) == 1u);
  const KeyEpoch second = schedule.rotate(2000, secretOf(2), 30);
  CHECK(second.epoch == 2);
  CHECK(second.activate_at_unix_s == 2030);
  CHECK(schedule.sendingEpoch(2029) == 1u);
  CHECK(schedule.sendingEpoch(2030) == 2u);
}

TEST_CASE("old epochs retire only after the newest has been active for retire_after") {
  KeySchedule schedule;
  schedule.rotate(1000, secretOf(1), 30);
  schedule.rotate(2000, secretOf(2), 30);  // active from 2030
  CHECK_FALSE(schedule.retire(2029, 300));
  CHECK_FALSE(schedule.retire(2329, 300));
  CHECK(schedule.epochs().size() == 2);
  CHECK(schedule.retire(2330, 300));
  REQUIRE(schedule.epochs().size() == 1);
  CHECK(schedule.epochs()[0].epoch == 2);
  CHECK_FALSE(schedule.retire(9999, 300));  // the sending epoch always stays
}

TEST_CASE("an epoch not yet active never lets the sending one retire") {
  KeySchedule schedule;
  schedule.rotate(1000, secretOf(1), 30);
  schedule.rotate(5000, secretOf(2), 1000);  // active from 6000
  CHECK_FALSE(schedule.retire(5999, 0));
  CHECK(schedule.epochs().size() == 2);
}

TEST_CASE("scheduled rotation falls due rotate_interval after the newest activation") {
  KeyPolicy policy;
  policy.rotate_interval_s = 3600;
  policy.retire_after_s = 300;
  KeySchedule schedule;
  schedule.rotate(1000, secretOf(1), 30);
  CHECK_FALSE(schedule.rotationDue(4599, policy));
  CHECK(schedule.rotationDue(4600, policy));
  CHECK(schedule.nextChangeAt(policy) == 4600);
  schedule.rotate(4600, secretOf(2), 30);
  CHECK(schedule.nextChangeAt(policy) == 4630 + 300);
  policy.rotate_interval_s = 0;
  CHECK_FALSE(schedule.rotationDue(1'000'000, policy));
}

TEST_CASE("stored epochs load in order without duplicates or epoch 0") {
  KeySchedule schedule({{3, secretOf(3), 0, 10}, {0, secretOf(9), 0, 0}, {2, secretOf(2), 0, 5},
                        {3, secretOf(4), 0, 11}});
  REQUIRE(schedule.epochs().size() == 2);
  CHECK(schedule.epochs()[0].epoch == 2);
  CHECK(schedule.epochs()[1].epoch == 3);
  CHECK(schedule.epochs()[1].secret == secretOf(3));
  CHECK(schedule.rotate(20, secretOf(5), 0).epoch == 4);
}

}  // namespace
}  // namespace overline::controller
