#include "common/impairment/impairment_knobs.h"

#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>

namespace overline::impairment {
namespace {

struct Knob {
  std::string_view key;
  double ImpairmentKnobs::*field;
  double min;
  double max;
  bool whole;  // integral values only
};

constexpr std::array<Knob, 9> kKnobs = {{
    {"delay_ms", &ImpairmentKnobs::delay_ms, 0, 60'000, false},
    {"jitter_ms", &ImpairmentKnobs::jitter_ms, 0, 60'000, false},
    {"loss_percent", &ImpairmentKnobs::loss_percent, 0, 100, false},
    {"burst_loss_percent", &ImpairmentKnobs::burst_loss_percent, 0, 99.9, false},
    {"burst_len", &ImpairmentKnobs::burst_len, 1, 1'000'000, false},
    {"reorder_percent", &ImpairmentKnobs::reorder_percent, 0, 100, false},
    {"reorder_delay_ms", &ImpairmentKnobs::reorder_delay_ms, 0, 60'000, false},
    {"rate_kbps", &ImpairmentKnobs::rate_kbps, 0, 100'000'000, false},
    {"queue_bytes", &ImpairmentKnobs::queue_bytes, 1, 1 << 30, true},
}};

constexpr std::array<std::string_view, kKnobs.size()> kKeys = [] {
  std::array<std::string_view, kKnobs.size()> keys{};
  for (std::size_t i = 0; i < kKnobs.size(); ++i) keys[i] = kKnobs[i].key;
  return keys;
}();

// Quotes user text for an error message, shortened so one bad value cannot
// turn a one-line error into a wall of text.
std::string quoted(std::string_view text) {
  constexpr std::size_t kMaxShown = 40;
  std::string out = "\"";
  out.append(text.substr(0, kMaxShown));
  if (text.size() > kMaxShown) out.append("...");
  return out + "\"";
}

DurationUs msToUs(double ms) { return static_cast<DurationUs>(std::llround(ms * 1000.0)); }

}  // namespace

std::span<const std::string_view> knobKeys() { return kKeys; }

std::optional<double> parseDecimal(std::string_view text) {
  // from_chars alone would also take "inf", "nan", exponents and a sign.
  constexpr std::size_t kMaxChars = 24;
  if (text.empty() || text.size() > kMaxChars) return std::nullopt;
  std::size_t digits = 0;
  std::size_t dots = 0;
  for (const char c : text) {
    if (c >= '0' && c <= '9') {
      ++digits;
    } else if (c == '.') {
      ++dots;
    } else {
      return std::nullopt;
    }
  }
  if (digits == 0 || dots > 1) return std::nullopt;
  double value = 0.0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::string formatDecimal(double value) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.10g", value);
  return text;
}

std::optional<std::string> setKnob(ImpairmentKnobs& knobs, std::string_view key, std::string_view value_text) {
  for (const Knob& knob : kKnobs) {
    if (knob.key != key) continue;
    const std::string range = formatDecimal(knob.min) + ".." + formatDecimal(knob.max);
    const std::optional<double> value = parseDecimal(value_text);
    if (!value) return "expected a number in " + range + ", got " + quoted(value_text);
    if (*value < knob.min || *value > knob.max) return std::string(value_text) + " is out of range " + range;
    if (knob.whole && *value != std::floor(*value)) return "expected a whole number, got " + quoted(value_text);
    knobs.*knob.field = *value;
    return std::nullopt;
  }
  return std::string("unknown key");
}

std::vector<std::pair<std::string_view, double>> knobValues(const ImpairmentKnobs& knobs) {
  std::vector<std::pair<std::string_view, double>> values;
  values.reserve(kKnobs.size());
  for (const Knob& knob : kKnobs) values.emplace_back(knob.key, knobs.*knob.field);
  return values;
}

double maxBurstLossPercent(double burst_len) { return 100.0 * burst_len / (burst_len + 1.0); }

Result<ImpairmentSettings, std::string> toSettings(const ImpairmentKnobs& knobs) {
  ImpairmentSettings settings;
  settings.delay_us = msToUs(knobs.delay_ms);
  settings.jitter_us = msToUs(knobs.jitter_ms);
  settings.loss = knobs.loss_percent / 100.0;
  if (knobs.burst_loss_percent > 0.0) {
    if (knobs.burst_len < 1.0) {
      return Err(std::string("burst_len: must be set (>= 1) when burst_loss_percent > 0"));
    }
    auto model = GilbertElliott::fromMeanLoss(knobs.burst_loss_percent / 100.0, knobs.burst_len);
    if (!model) {
      return Err("burst_loss_percent: " + formatDecimal(knobs.burst_loss_percent) + " is too high for burst_len " +
                 formatDecimal(knobs.burst_len) + " (at most " +
                 formatDecimal(maxBurstLossPercent(knobs.burst_len)) + ")");
    }
    settings.burst = model.value();
  }
  settings.reorder = knobs.reorder_percent / 100.0;
  settings.reorder_delay_us = msToUs(knobs.reorder_delay_ms);
  settings.rate_bps = static_cast<std::uint64_t>(std::llround(knobs.rate_kbps * 1000.0));
  settings.queue_limit_bytes = static_cast<std::size_t>(knobs.queue_bytes);
  if (auto problem = checkSettings(settings)) return Err(*problem);  // unreachable within the key ranges
  return settings;
}

}  // namespace overline::impairment
