// The text vocabulary shared by overline-impair's config and `set` command.

#include "common/impairment/impairment_knobs.h"

#include <catch2/catch.hpp>

namespace imp = overline::impairment;
using overline::kMillisecond;

TEST_CASE("plain decimals parse; anything else does not") {
  CHECK(imp::parseDecimal("20") == 20.0);
  CHECK(imp::parseDecimal("0.5") == 0.5);
  CHECK(imp::parseDecimal("100.") == 100.0);
  CHECK(imp::parseDecimal(".25") == 0.25);
  for (const char* bad : {"", ".", "-1", "+1", "1e3", "inf", "nan", "1.2.3", "0x10", " 1", "1 "}) {
    INFO(bad);
    CHECK_FALSE(imp::parseDecimal(bad).has_value());
  }
}

TEST_CASE("knobs convert to settings in model units") {
  imp::ImpairmentKnobs knobs;
  CHECK_FALSE(imp::setKnob(knobs, "delay_ms", "20.5"));
  CHECK_FALSE(imp::setKnob(knobs, "jitter_ms", "5"));
  CHECK_FALSE(imp::setKnob(knobs, "loss_percent", "1"));
  CHECK_FALSE(imp::setKnob(knobs, "burst_loss_percent", "10"));
  CHECK_FALSE(imp::setKnob(knobs, "burst_len", "5"));
  CHECK_FALSE(imp::setKnob(knobs, "reorder_percent", "2"));
  CHECK_FALSE(imp::setKnob(knobs, "reorder_delay_ms", "3"));
  CHECK_FALSE(imp::setKnob(knobs, "rate_kbps", "1500"));
  CHECK_FALSE(imp::setKnob(knobs, "queue_bytes", "30000"));
  const auto settings = imp::toSettings(knobs);
  REQUIRE(settings.ok());
  CHECK(settings->delay_us == 20'500);
  CHECK(settings->jitter_us == 5 * kMillisecond);
  CHECK(settings->loss == Approx(0.01));
  REQUIRE(settings->burst.has_value());
  CHECK(settings->burst->meanLoss() == Approx(0.10));
  CHECK(settings->burst->meanBadRunPackets() == Approx(5.0));
  CHECK(settings->reorder == Approx(0.02));
  CHECK(settings->reorder_delay_us == 3 * kMillisecond);
  CHECK(settings->rate_bps == 1'500'000);
  CHECK(settings->queue_limit_bytes == 30'000);
  CHECK(settings->keep_order);
  CHECK(imp::knobValues(knobs).size() == imp::knobKeys().size());
}

TEST_CASE("bad knobs are reported without the key") {
  imp::ImpairmentKnobs knobs;
  CHECK(imp::setKnob(knobs, "delay", "1") == "unknown key");
  CHECK(imp::setKnob(knobs, "loss_percent", "150") == "150 is out of range 0..100");
  CHECK(imp::setKnob(knobs, "loss_percent", "x") == "expected a number in 0..100, got \"x\"");
  CHECK(imp::setKnob(knobs, "queue_bytes", "1.5") == "expected a whole number, got \"1.5\"");
  CHECK(knobs.loss_percent == 0.0);  // untouched on error
}

TEST_CASE("burst knobs must fit together") {
  imp::ImpairmentKnobs knobs;
  knobs.burst_loss_percent = 10;
  auto missing_len = imp::toSettings(knobs);
  REQUIRE_FALSE(missing_len.ok());
  CHECK(missing_len.error().rfind("burst_len:", 0) == 0);
  knobs.burst_loss_percent = 90;
  knobs.burst_len = 1;
  auto too_lossy = imp::toSettings(knobs);
  REQUIRE_FALSE(too_lossy.ok());
  CHECK(too_lossy.error() == "burst_loss_percent: 90 is too high for burst_len 1 (at most 50)");
  knobs.burst_loss_percent = 0;  // off again: burst_len is ignored
  auto off = imp::toSettings(knobs);
  REQUIRE(off.ok());
  CHECK_FALSE(off->burst.has_value());
}
