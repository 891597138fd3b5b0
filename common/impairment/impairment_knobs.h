#pragma once
// ImpairmentSettings in the units people type (milliseconds, percent,
// kbit/s), set by key name. One vocabulary for overline-impair's YAML config
// and `set` command, and for simulator scenarios:
//
//   key                 range          meaning
//   delay_ms            0..60000       one-way delay
//   jitter_ms           0..60000       +/- uniform jitter around delay_ms
//   loss_percent        0..100         independent random loss
//   burst_loss_percent  0..99.9        long-run loss of the bursty (Gilbert) model; 0 = off
//   burst_len           1..1000000     mean loss-burst length in packets
//   reorder_percent     0..100         packets held back by reorder_delay_ms
//   reorder_delay_ms    0..60000       how far a reordered packet is held back
//   rate_kbps           0..100000000   bottleneck rate, 1 kbit/s = 1000 bit/s; 0 = unlimited
//   queue_bytes         1..1073741824  bottleneck drop-tail queue (whole bytes)
//
// Values are plain decimals: digits with at most one '.', no sign or exponent.

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/impairment/impairment_settings.h"
#include "common/result.h"

namespace overline::impairment {

struct ImpairmentKnobs {
  double delay_ms = 0.0;
  double jitter_ms = 0.0;
  double loss_percent = 0.0;
  double burst_loss_percent = 0.0;
  double burst_len = 0.0;  // 0 = not set yet; must be >= 1 once burst_loss_percent > 0
  double reorder_percent = 0.0;
  double reorder_delay_ms = 10.0;
  double rate_kbps = 0.0;
  double queue_bytes = 64 * 1024;
};

// The keys above, in table order.
std::span<const std::string_view> knobKeys();

// Parses a plain decimal ("20", "0.5", "100."); nullopt for anything else.
std::optional<double> parseDecimal(std::string_view text);

// Readable text of a knob value, up to 10 significant digits: 20, 0.5, 100000000.
std::string formatDecimal(double value);

// Sets knob `key` from `value_text`. Returns the problem, without the key:
// `unknown key`, `expected a number in 0..100, got "x"`,
// `150 is out of range 0..100`, `expected a whole number, got "1.5"`.
std::optional<std::string> setKnob(ImpairmentKnobs& knobs, std::string_view key, std::string_view value_text);

// Every knob as (key, value), in table order (for status output).
std::vector<std::pair<std::string_view, double>> knobValues(const ImpairmentKnobs& knobs);

// The highest burst_loss_percent a burst model with mean bursts of
// `burst_len` packets can reach: 100 * burst_len / (burst_len + 1), since a
// good-state run lasts at least one packet.
double maxBurstLossPercent(double burst_len);

// The settings the knobs describe (no outages, keep_order on). Fails with
// "<key>: <problem>" when knobs do not fit together, e.g.
// `burst_len: must be set (>= 1) when burst_loss_percent > 0`,
// `burst_loss_percent: 90 is too high for burst_len 1 (at most 50)`.
Result<ImpairmentSettings, std::string> toSettings(const ImpairmentKnobs& knobs);

}  // namespace overline::impairment
