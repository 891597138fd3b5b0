#include "controller/config/controller_config.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <set>

#include "common/config/yaml_reader.h"
#include "common/tls/tls_config.h"
#include "common/token/join_token.h"

namespace overline::controller {
namespace {

using config::ErrorLatch;
using config::MapReader;
using config::SequenceReader;

constexpr std::uint64_t kMaxTimerMs = 3'600'000;  // one hour
constexpr std::uint64_t kMaxShortMs = 60'000;
constexpr std::uint64_t kMaxTokenTtlS = 86'400;  // one day
// One join token names every candidate of an allocation.
constexpr std::uint64_t kMaxCandidates = token::kMaxTokenEdges;

DurationUs fromMs(std::uint64_t ms) { return static_cast<DurationUs>(ms) * kMillisecond; }

void readToken(const MapReader& root, ControllerProcessConfig& out, ErrorLatch& errors) {
  if (!root.has("token")) {
    errors.fail(root.pathOf("token"), "missing required key");
    return;
  }
  MapReader section(root.get("token"), root.pathOf("token"), {"key_hex", "key_file", "ttl_s"}, errors);
  EdgeSettings& edge = out.settings.edge;
  if (section.has("key_hex") == section.has("key_file")) {
    errors.fail(section.path(), "expected exactly one of key_hex and key_file");
  } else if (section.has("key_hex")) {
    if (const auto hex = section.requiredString("key_hex")) {
      auto key = token::parseHexKey(*hex);
      if (key) {
        edge.token_key = std::move(key.value());
      } else {
        errors.fail(section.pathOf("key_hex"), key.error());
      }
    }
  } else if (const auto file = section.requiredString("key_file")) {
    const auto text = config::readTextFile(*file);
    Result<std::vector<std::uint8_t>, std::string> key =
        text ? token::parseHexKey(text.value()) : Result<std::vector<std::uint8_t>, std::string>(Err(text.error()));
    if (key) {
      edge.token_key = std::move(key.value());
    } else {
      errors.fail(section.pathOf("key_file"), *file + ": " + key.error());
    }
  }
  edge.token_ttl_s = static_cast<std::int64_t>(
      section.optionalUnsigned("ttl_s", 1, kMaxTokenTtlS, static_cast<std::uint64_t>(edge.token_ttl_s)));
}

std::vector<std::string> readStrings(const YAML::Node& node, const std::string& path, ErrorLatch& errors) {
  std::vector<std::string> out;
  const SequenceReader seq(node, path, errors);
  for (std::size_t i = 0; i < seq.size(); ++i) {
    if (auto text = config::readString(seq.at(i), seq.pathOf(i), errors)) out.push_back(std::move(*text));
  }
  return out;
}

void readRegionRules(const MapReader& routes, RoutePolicy& policy, ErrorLatch& errors) {
  const SequenceReader rules(routes.get("region_rules"), routes.pathOf("region_rules"), errors);
  std::set<std::string> ruled;
  for (std::size_t i = 0; i < rules.size(); ++i) {
    MapReader rule(rules.at(i), rules.pathOf(i), {"destination_region", "allowed_regions"}, errors);
    RegionRule out;
    if (auto region = rule.requiredString("destination_region")) {
      if (region->empty()) {
        errors.fail(rule.pathOf("destination_region"), "must not be empty");
      } else if (!ruled.insert(*region).second) {
        errors.fail(rule.pathOf("destination_region"), "\"" + *region + "\" already has a rule");
      }
      out.destination_region = std::move(*region);
    }
    if (!rule.has("allowed_regions")) {
      errors.fail(rule.pathOf("allowed_regions"), "missing required key");
    } else {
      out.allowed_regions = readStrings(rule.get("allowed_regions"), rule.pathOf("allowed_regions"), errors);
      if (std::find(out.allowed_regions.begin(), out.allowed_regions.end(), out.destination_region) ==
          out.allowed_regions.end()) {
        errors.fail(rule.pathOf("allowed_regions"),
                    "must include destination_region \"" + out.destination_region + "\"");
      }
    }
    policy.region_rules.push_back(std::move(out));
  }
}

void readRoutes(const MapReader& root, ControllerProcessConfig& out, ErrorLatch& errors) {
  MapReader section(root.get("routes"), root.pathOf("routes"),
                    {"recompute_interval_ms", "debounce_ms", "link_expiry_ms", "hysteresis_percent",
                     "hysteresis_min_ms", "region_rules"},
                    errors);
  RouteSettings& routes = out.settings.routes;
  routes.recompute_interval_us = fromMs(section.optionalUnsigned("recompute_interval_ms", 10, kMaxTimerMs,
                                                                 routes.recompute_interval_us / kMillisecond));
  routes.debounce_us =
      fromMs(section.optionalUnsigned("debounce_ms", 0, kMaxShortMs, routes.debounce_us / kMillisecond));
  routes.link_expiry_us =
      fromMs(section.optionalUnsigned("link_expiry_ms", 100, kMaxTimerMs, routes.link_expiry_us / kMillisecond));
  Hysteresis& hysteresis = routes.policy.hysteresis;
  const auto default_percent = static_cast<std::uint64_t>(std::lround(hysteresis.relative * 100));
  hysteresis.relative =
      static_cast<double>(section.optionalUnsigned("hysteresis_percent", 0, 100, default_percent)) / 100;
  hysteresis.absolute_us = fromMs(
      section.optionalUnsigned("hysteresis_min_ms", 0, kMaxShortMs, hysteresis.absolute_us / kMillisecond));
  readRegionRules(section, routes.policy, errors);
}

void readRelays(const MapReader& root, ControllerProcessConfig& out, ErrorLatch& errors) {
  MapReader section(root.get("relays"), root.pathOf("relays"), {"probe_interval_ms", "report_interval_ms"},
                    errors);
  RelaySettings& relays = out.settings.relays;
  relays.probe_interval_ms = static_cast<std::uint32_t>(
      section.optionalUnsigned("probe_interval_ms", 5, kMaxShortMs, relays.probe_interval_ms));
  relays.report_interval_ms = static_cast<std::uint32_t>(
      section.optionalUnsigned("report_interval_ms", 100, kMaxShortMs, relays.report_interval_ms));
}

void readEdge(const MapReader& root, ControllerProcessConfig& out, ErrorLatch& errors) {
  MapReader section(root.get("edge"), root.pathOf("edge"), {"max_candidates", "max_load_percent"}, errors);
  EdgeSettings& edge = out.settings.edge;
  edge.max_candidates =
      static_cast<std::uint32_t>(section.optionalUnsigned("max_candidates", 1, kMaxCandidates, edge.max_candidates));
  const auto default_percent = static_cast<std::uint64_t>(std::lround(edge.max_load * 100));
  edge.max_load = static_cast<double>(section.optionalUnsigned("max_load_percent", 1, 100, default_percent)) / 100;
}

void readListeners(const MapReader& root, ControllerProcessConfig& out, ErrorLatch& errors) {
  if (root.has("listen") && !root.get("listen").IsMap()) {
    errors.fail(root.pathOf("listen"), "expected a mapping of relays, admin and edge listeners (IPv4:port each)");
    return;
  }
  MapReader section(root.get("listen"), root.pathOf("listen"), {"relays", "admin", "edge"}, errors);
  ControllerListeners& listen = out.listen;
  for (auto [key, endpoint] : {std::pair{"relays", &listen.relays}, std::pair{"admin", &listen.admin},
                               std::pair{"edge", &listen.edge}}) {
    if (!section.has(key)) continue;
    if (const auto parsed = section.requiredEndpoint(key)) *endpoint = *parsed;
  }
  // Three services, three ports; two on one port would serve neither.
  const auto clash = [](const Endpoint& a, const Endpoint& b) { return a.port() != 0 && a.port() == b.port(); };
  if (clash(listen.relays, listen.admin) || clash(listen.relays, listen.edge) || clash(listen.admin, listen.edge)) {
    errors.fail(section.path(), "relays, admin and edge need different ports");
  }
}

void readTls(const MapReader& root, ControllerProcessConfig& out, ErrorLatch& errors) {
  if (!root.has("tls")) {
    errors.fail(root.pathOf("tls"), "missing required key (the controller's certificate: overlinectl pki)");
    return;
  }
  MapReader section(root.get("tls"), root.pathOf("tls"), {"ca_file", "cert_file", "key_file"}, errors);
  const std::int64_t now_s =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  auto loaded = tls::readIdentityKeys(section, errors, now_s);
  if (!loaded) return;
  if (loaded->identity.role != tls::PeerRole::kController) {
    errors.fail(section.pathOf("cert_file"), loaded->cert_file + ": names " + tls::describe(loaded->identity) +
                                                 ", not a controller (overlinectl pki issue-controller)");
    return;
  }
  out.tls = std::move(*loaded);
}

void readKeys(const MapReader& root, ControllerProcessConfig& out, ErrorLatch& errors) {
  MapReader section(root.get("keys"), root.pathOf("keys"),
                    {"rotate_interval_s", "activation_delay_s", "retire_after_s"}, errors);
  KeyPolicy& keys = out.settings.keys;
  keys.rotate_interval_s = static_cast<std::int64_t>(section.optionalUnsigned(
      "rotate_interval_s", 0, 31'536'000, static_cast<std::uint64_t>(keys.rotate_interval_s)));
  if (keys.rotate_interval_s != 0 && keys.rotate_interval_s < 60) {
    errors.fail(section.pathOf("rotate_interval_s"), "expected 0 (on demand only) or 60..31536000");
  }
  keys.activation_delay_s = static_cast<std::int64_t>(
      section.optionalUnsigned("activation_delay_s", 1, 3600, static_cast<std::uint64_t>(keys.activation_delay_s)));
  keys.retire_after_s = static_cast<std::int64_t>(
      section.optionalUnsigned("retire_after_s", 1, 86'400, static_cast<std::uint64_t>(keys.retire_after_s)));
}

void readEvents(const MapReader& root, ControllerProcessConfig& out, ErrorLatch& errors) {
  MapReader section(root.get("events"), root.pathOf("events"), {"max_events"}, errors);
  out.max_events = section.optionalUnsigned("max_events", 1000, 100'000'000, out.max_events);
}

}  // namespace

Result<ControllerProcessConfig, std::string> parseControllerConfig(std::string_view yaml_text) {
  ErrorLatch errors;
  const auto document = config::parseYaml(yaml_text, errors);
  if (!document) return Err(errors.message());
  if (!document->IsMap()) {
    return Err("expected a mapping at the top level, got " + std::string(config::describeKind(*document)));
  }
  MapReader root(*document, "",
                 {"listen", "tls", "db_path", "token", "routes", "relays", "edge", "keys", "events", "metrics",
                  "log_level"},
                 errors);
  ControllerProcessConfig out;
  readListeners(root, out, errors);
  if (auto db_path = root.requiredString("db_path")) {
    if (db_path->empty()) errors.fail(root.pathOf("db_path"), "must not be empty");
    out.db_path = std::move(*db_path);
  }
  readToken(root, out, errors);
  readTls(root, out, errors);
  readKeys(root, out, errors);
  readEvents(root, out, errors);
  readRoutes(root, out, errors);
  readRelays(root, out, errors);
  readEdge(root, out, errors);
  config::readMetricsSection(root, out.metrics_listen, errors);
  config::readLogLevel(root, out.log_level, errors);
  if (errors.failed()) return Err(errors.message());
  return out;
}

Result<ControllerProcessConfig, std::string> loadControllerConfig(const std::string& file_path) {
  auto text = config::readTextFile(file_path);
  if (!text) return Err(text.error());
  return parseControllerConfig(text.value());
}

}  // namespace overline::controller
