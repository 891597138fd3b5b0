// RelayCoreMetrics against its registry: every entry of
// relay/core/relay_counter_list.h is a series under its declared name, help
// and label, and copy() moves each field's value, and only its own, there.

#include "relay/io/relay_metrics.h"

#include <prometheus/registry.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <map>
#include <string>
#include <utility>

namespace overline::relay {
namespace {

using Labels = std::map<std::string, std::string>;
using SeriesKey = std::pair<std::string, Labels>;  // metric name, labels

struct Scrape {
  std::map<SeriesKey, double> values;
  std::map<std::string, std::string> help;  // by metric name
};

Scrape scrape(const prometheus::Registry& registry) {
  Scrape result;
  for (const prometheus::MetricFamily& family : registry.Collect()) {
    result.help[family.name] = family.help;
    for (const prometheus::ClientMetric& metric : family.metric) {
      Labels labels;
      for (const prometheus::ClientMetric::Label& label : metric.label) labels[label.name] = label.value;
      const double value =
          family.type == prometheus::MetricType::Counter ? metric.counter.value : metric.gauge.value;
      result.values[{family.name, labels}] = value;
    }
  }
  return result;
}

// "name" or "name{label=value}".
std::string describe(const SeriesKey& key) {
  std::string text = key.first;
  for (const auto& [label, value] : key.second) text += "{" + label + "=" + value + "}";
  return text;
}

struct Family {
  std::string name;
  std::string label;
  std::string help;
};

// The list's families, by their identifier.
std::map<std::string, Family> families() {
  std::map<std::string, Family> result;
#define OVERLINE_TEST_FAMILY(family, name, label, help) result[#family] = {name, label, help};
  OVERLINE_RELAY_COUNTER_FAMILIES(OVERLINE_TEST_FAMILY)
#undef OVERLINE_TEST_FAMILY
  return result;
}

// Every field of `counters` and `gauges` set to a value no other field has.
void setDistinctValues(RelayCounters& counters, RelayGauges& gauges) {
  std::uint64_t next = 1;
#define OVERLINE_TEST_SET(field, ...) counters.field = next++;
#define OVERLINE_TEST_SET_ARRAY(field, ...) for (std::uint64_t& value : counters.field) value = next++;
#define OVERLINE_TEST_SET_GAUGE(type, field, ...) gauges.field = static_cast<type>(next++);
  OVERLINE_RELAY_COUNTERS(OVERLINE_TEST_SET, OVERLINE_TEST_SET, OVERLINE_TEST_SET_ARRAY, OVERLINE_TEST_SET)
  OVERLINE_RELAY_GAUGES(OVERLINE_TEST_SET_GAUGE)
#undef OVERLINE_TEST_SET
#undef OVERLINE_TEST_SET_ARRAY
#undef OVERLINE_TEST_SET_GAUGE
}

// What the list says the registry holds for `counters` and `gauges`, and
// each metric's help.
Scrape expected(const RelayCounters& counters, const RelayGauges& gauges) {
  const std::map<std::string, Family> by_id = families();
  Scrape result;
#define OVERLINE_TEST_COUNTER(field, name, help_text)              \
  result.values[{name, {}}] = static_cast<double>(counters.field); \
  result.help[name] = help_text;
#define OVERLINE_TEST_LABELLED(field, family, value)                                   \
  {                                                                                    \
    const Family& f = by_id.at(#family);                                               \
    result.values[{f.name, {{f.label, value}}}] = static_cast<double>(counters.field); \
    result.help[f.name] = f.help;                                                      \
  }
#define OVERLINE_TEST_ARRAY(field, Enum, count, family)                                     \
  {                                                                                         \
    const Family& f = by_id.at(#family);                                                    \
    for (std::size_t i = 0; i < (count); ++i) {                                             \
      const std::string label(toString(static_cast<Enum>(i)));                              \
      result.values[{f.name, {{f.label, label}}}] = static_cast<double>(counters.field[i]); \
    }                                                                                       \
    result.help[f.name] = f.help;                                                           \
  }
#define OVERLINE_TEST_UNEXPORTED(field)
#define OVERLINE_TEST_GAUGE(type, field, name, help_text)        \
  result.values[{name, {}}] = static_cast<double>(gauges.field); \
  result.help[name] = help_text;
  OVERLINE_RELAY_COUNTERS(OVERLINE_TEST_COUNTER, OVERLINE_TEST_LABELLED, OVERLINE_TEST_ARRAY,
                          OVERLINE_TEST_UNEXPORTED)
  OVERLINE_RELAY_GAUGES(OVERLINE_TEST_GAUGE)
#undef OVERLINE_TEST_COUNTER
#undef OVERLINE_TEST_LABELLED
#undef OVERLINE_TEST_ARRAY
#undef OVERLINE_TEST_UNEXPORTED
#undef OVERLINE_TEST_GAUGE
  return result;
}

void checkScrape(const Scrape& got, const Scrape& want) {
  for (const auto& [key, value] : want.values) {
    INFO(describe(key));
    const auto it = got.values.find(key);
    REQUIRE(it != got.values.end());
    CHECK(it->second == value);
  }
  CHECK(got.values.size() == want.values.size());  // nothing undeclared
  CHECK(got.help == want.help);
}

TEST_CASE("every declared counter and gauge is registered under its name, label and help, and copied") {
  prometheus::Registry registry;
  RelayCoreMetrics metrics(registry);
  RelayCounters counters;
  RelayGauges gauges;

  // All series exist, at 0, before the first copy.
  checkScrape(scrape(registry), expected(counters, gauges));

  setDistinctValues(counters, gauges);
  metrics.copy(counters, gauges);
  const Scrape got = scrape(registry);
  checkScrape(got, expected(counters, gauges));

  // UNEXPORTED fields reach no series.
#define OVERLINE_TEST_NOT_COPIED(field)                  \
  for (const auto& [key, value] : got.values) {          \
    INFO(#field " found in " << describe(key));          \
    CHECK(value != static_cast<double>(counters.field)); \
  }
#define OVERLINE_TEST_IGNORE(...)
  OVERLINE_RELAY_COUNTERS(OVERLINE_TEST_IGNORE, OVERLINE_TEST_IGNORE, OVERLINE_TEST_IGNORE, OVERLINE_TEST_NOT_COPIED)
#undef OVERLINE_TEST_NOT_COPIED
#undef OVERLINE_TEST_IGNORE
}

TEST_CASE("a copy advances counters by their growth since the previous copy and sets gauges") {
  prometheus::Registry registry;
  RelayCoreMetrics metrics(registry);
  RelayCounters counters;
  RelayGauges gauges;
  setDistinctValues(counters, gauges);
  metrics.copy(counters, gauges);
  metrics.copy(counters, gauges);  // nothing grew: nothing added
  checkScrape(scrape(registry), expected(counters, gauges));

  counters.data_forwarded += 5;
  counters.drop(DropReason::kDuplicate) += 3;
  gauges.streams -= 1;
  metrics.copy(counters, gauges);
  checkScrape(scrape(registry), expected(counters, gauges));
}

// The names, labels and help the README, deploy/grafana and the alerts
// use, spelled out here rather than taken from the list.
TEST_CASE("the core's metrics keep the names and labels dashboards read") {
  prometheus::Registry registry;
  RelayCoreMetrics metrics(registry);
  RelayCounters counters;
  RelayGauges gauges;
  counters.data_forwarded = 11;
  counters.drop(DropReason::kDuplicate) = 12;
  counters.malformed[static_cast<std::size_t>(wire::ParseError::kTooShort)] = 13;
  counters.probe_acks_sent = 14;
  counters.recovered_fec = 15;
  counters.neighbour_bytes_sent[static_cast<std::size_t>(SentKind::kRetransmit)] = 16;
  gauges.auth_sending_epoch = 17;
  metrics.copy(counters, gauges);

  const Scrape got = scrape(registry);
  CHECK(got.values.at({"overline_relay_data_packets_forwarded_total", {}}) == 11);
  CHECK(got.values.at({"overline_relay_dropped_packets_total", {{"reason", "duplicate"}}}) == 12);
  CHECK(got.values.at({"overline_relay_dropped_packets_total", {{"reason", "too_short"}}}) == 13);
  CHECK(got.values.at({"overline_relay_probe_packets_sent_total", {{"kind", "ack"}}}) == 14);
  CHECK(got.values.at({"overline_relay_recovered_packets_total", {{"method", "fec"}}}) == 15);
  CHECK(got.values.at({"overline_relay_sent_bytes_total", {{"kind", "retransmit"}}}) == 16);
  CHECK(got.values.at({"overline_relay_auth_sending_epoch", {}}) == 17);
  CHECK(got.help.at("overline_relay_dropped_packets_total") ==
        "Packets not forwarded, by reason (drop reasons and wire parse errors).");
}

}  // namespace
}  // namespace overline::relay
