#include "relay/config/relay_process_config.h"

#include <chrono>
#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <set>

#include "common/config/yaml_reader.h"
#include "common/tls/peer_identity.h"
#include "common/tls/pki.h"
#include "common/tls/tls_config.h"
#include "relay/config/auth_section.h"
#include "relay/config/join_section.h"

namespace overline::relay {
namespace {

using config::ErrorLatch;
using config::MapReader;
using config::SequenceReader;

constexpr std::uint64_t kMaxNodeId = std::numeric_limits<NodeId>::max();
constexpr std::uint64_t kMaxCount = std::numeric_limits<std::uint32_t>::max();
// LineIndex is 8 bits wide, so a node (or a neighbour) has at most 256 lines.
constexpr std::size_t kMaxLines = std::size_t{std::numeric_limits<LineIndex>::max()} + 1;
constexpr std::size_t kMaxLineNameChars = 32;
constexpr std::uint64_t kMaxTimerMs = 3'600'000;          // one hour
constexpr std::uint64_t kMaxClientExpiryMs = 86'400'000;  // one day
constexpr std::uint64_t kMinProbeIntervalMs = 5;     // the core ticks every interval / 4
constexpr std::uint64_t kMaxProbeIntervalMs = 60'000;
constexpr std::uint64_t kMaxUpAfterAcks = 1000;
constexpr std::uint64_t kMinLossWindow = 10;          // fewer probes make a meaningless ratio
constexpr std::uint64_t kMaxLossWindow = 10'000;      // 16 bytes per probe per link
constexpr std::uint64_t kMaxRttMs = 60'000;
constexpr std::size_t kMaxIspChars = 64;
constexpr std::size_t kMaxControllerAddresses = 16;
constexpr std::uint64_t kMinReportIntervalMs = 100;  // the controller's own bounds
constexpr std::uint64_t kMaxReportIntervalMs = 60'000;
constexpr std::uint64_t kMinBackoffMs = 10;
constexpr std::uint64_t kMaxBackoffMs = 600'000;
constexpr std::uint64_t kMaxDrainTimeoutMs = 600'000;
constexpr std::uint64_t kMaxCapacityBps = 1'000'000'000'000'000;
constexpr std::uint64_t kMaxReorderAllowanceMs = 1000;
constexpr std::uint64_t kMinLatencyBudgetMs = 10;
constexpr std::uint64_t kMaxLatencyBudgetMs = 60'000;
constexpr std::uint64_t kMinRetransmitPackets = 16;
constexpr std::uint64_t kMaxRetransmitPackets = 65'536;
constexpr std::uint64_t kMinRetransmitBytes = std::uint64_t{1} << 20;  // 1 MiB: ~780 packets
constexpr std::uint64_t kMaxRetransmitBytes = std::uint64_t{1} << 34;  // 16 GiB
constexpr std::uint64_t kMinSocketBufferBytes = 4096;
constexpr std::uint64_t kMaxSocketBufferBytes = std::uint64_t{1} << 30;  // fits the int libuv takes

bool isValidLineName(std::string_view name) {
  if (name.empty() || name.size() > kMaxLineNameChars) return false;
  for (const char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// Checks a sequence's entry count, latching "<path>: expected N..M entries, got K".
bool checkCount(const SequenceReader& seq, std::size_t min, std::size_t max, ErrorLatch& errors) {
  if (seq.size() >= min && seq.size() <= max) return true;
  std::string expected = max == min ? std::to_string(min) : std::to_string(min) + ".." + std::to_string(max);
  errors.fail(seq.path(), "expected " + expected + " entries, got " + std::to_string(seq.size()));
  return false;
}

void readLines(const MapReader& root, RelayProcessConfig& out, ErrorLatch& errors) {
  if (!root.has("lines")) {
    errors.fail(root.pathOf("lines"), "missing required key");
    return;
  }
  const SequenceReader lines(root.get("lines"), root.pathOf("lines"), errors);
  if (!checkCount(lines, 1, kMaxLines, errors)) return;
  std::map<std::string, std::string> path_of_name;
  std::map<Endpoint, std::string> path_of_bind;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    MapReader line(lines.at(i), lines.pathOf(i), {"name", "bind", "public", "isp"}, errors);
    LineConfig config;
    if (auto name = line.requiredString("name")) {
      if (!isValidLineName(*name)) {
        errors.fail(line.pathOf("name"), "\"" + *name + "\" must be 1.." + std::to_string(kMaxLineNameChars) +
                                             " characters of [a-z0-9_-]");
      } else if (const auto [it, inserted] = path_of_name.emplace(*name, line.path()); !inserted) {
        errors.fail(line.pathOf("name"), "\"" + *name + "\" is already used by " + it->second);
      }
      config.name = std::move(*name);
    }
    if (const auto bind = line.requiredEndpoint("bind")) {
      // Port 0 asks the kernel for a fresh port, so only fixed ports can collide.
      if (bind->port() != 0) {
        if (const auto [it, inserted] = path_of_bind.emplace(*bind, line.path()); !inserted) {
          errors.fail(line.pathOf("bind"), bind->toString() + " is already used by " + it->second);
        }
      }
      config.bind = *bind;
    }
    AdvertisedLine advertised;
    if (line.has("public")) {
      advertised.public_address = line.requiredEndpoint("public");
      if (advertised.public_address && advertised.public_address->port() == 0) {
        errors.fail(line.pathOf("public"), "port 0 is not a valid destination");
      }
    }
    advertised.isp = line.optionalString("isp", config.name);
    if (advertised.isp.empty() || advertised.isp.size() > kMaxIspChars) {
      errors.fail(line.pathOf("isp"), "must be 1.." + std::to_string(kMaxIspChars) + " characters");
    }
    out.lines.push_back(std::move(config));
    out.advertised_lines.push_back(std::move(advertised));
  }
}

void readNeighbours(const MapReader& root, RelayProcessConfig& out, ErrorLatch& errors) {
  const SequenceReader neighbours(root.get("neighbours"), root.pathOf("neighbours"), errors);
  std::map<NodeId, std::string> path_of_node;
  // The core recognises a neighbour by the source address of its packets, so
  // one address must not belong to two neighbours.
  std::map<Endpoint, NodeId> owner_of_address;
  for (std::size_t i = 0; i < neighbours.size(); ++i) {
    MapReader neighbour(neighbours.at(i), neighbours.pathOf(i), {"node_id", "lines"}, errors);
    NeighbourConfig config;
    if (const auto id = neighbour.requiredUnsigned("node_id", 1, kMaxNodeId)) {
      config.node_id = static_cast<NodeId>(*id);
      if (config.node_id == out.core.node_id) {
        errors.fail(neighbour.pathOf("node_id"), std::to_string(*id) + " is this node's own node_id");
      } else if (const auto [it, inserted] = path_of_node.emplace(config.node_id, neighbour.path());
                 !inserted) {
        errors.fail(neighbour.pathOf("node_id"),
                    std::to_string(*id) + " is already configured by " + it->second);
      }
    }
    if (!neighbour.has("lines")) {
      errors.fail(neighbour.pathOf("lines"), "missing required key");
    } else {
      const SequenceReader lines(neighbour.get("lines"), neighbour.pathOf("lines"), errors);
      if (checkCount(lines, 1, kMaxLines, errors)) {
        for (std::size_t j = 0; j < lines.size(); ++j) {
          const auto address = config::readEndpoint(lines.at(j), lines.pathOf(j), errors);
          if (!address) continue;
          if (address->port() == 0) {
            errors.fail(lines.pathOf(j), "port 0 is not a valid destination");
          } else if (const auto [it, inserted] = owner_of_address.emplace(*address, config.node_id);
                     !inserted) {
            errors.fail(lines.pathOf(j), address->toString() + " is already a line of neighbour " +
                                             std::to_string(it->second));
          }
          config.lines.push_back(*address);
        }
      }
    }
    out.core.neighbours.push_back(std::move(config));
  }
}

void readRoutes(const MapReader& root, RelayProcessConfig& out, ErrorLatch& errors) {
  const SequenceReader routes(root.get("routes"), root.pathOf("routes"), errors);
  std::set<NodeId> neighbour_ids;
  for (const auto& n : out.core.neighbours) neighbour_ids.insert(n.node_id);
  RouteTable table;
  std::map<NodeId, std::string> path_of_destination;
  for (std::size_t i = 0; i < routes.size(); ++i) {
    MapReader route(routes.at(i), routes.pathOf(i), {"destination", "next_hop", "backup"}, errors);
    const auto destination = route.requiredUnsigned("destination", 1, kMaxNodeId);
    if (destination) {
      if (*destination == out.core.node_id) {
        errors.fail(route.pathOf("destination"),
                    std::to_string(*destination) + " is this node's own node_id");
      } else if (const auto [it, inserted] =
                     path_of_destination.emplace(static_cast<NodeId>(*destination), route.path());
                 !inserted) {
        errors.fail(route.pathOf("destination"),
                    std::to_string(*destination) + " already has a route in " + it->second);
      }
    }
    const auto next_hop = route.requiredUnsigned("next_hop", 1, kMaxNodeId);
    if (next_hop && neighbour_ids.count(static_cast<NodeId>(*next_hop)) == 0) {
      errors.fail(route.pathOf("next_hop"), std::to_string(*next_hop) + " is not a configured neighbour");
    }
    std::optional<std::uint64_t> backup;
    if (route.has("backup")) {
      backup = route.requiredUnsigned("backup", 1, kMaxNodeId);
      if (backup && neighbour_ids.count(static_cast<NodeId>(*backup)) == 0) {
        errors.fail(route.pathOf("backup"), std::to_string(*backup) + " is not a configured neighbour");
      } else if (backup && next_hop && *backup == *next_hop) {
        errors.fail(route.pathOf("backup"), std::to_string(*backup) + " must differ from next_hop");
      }
    }
    if (destination && next_hop) {
      table.entries[static_cast<NodeId>(*destination)] =
          RouteEntry{static_cast<NodeId>(*next_hop), static_cast<NodeId>(backup.value_or(kNoNode))};
    }
  }
  out.core.routes = std::make_shared<const RouteTable>(std::move(table));
}

void readSubscriptions(const MapReader& root, RelayProcessConfig& out, ErrorLatch& errors) {
  MapReader section(root.get("subscriptions"), root.pathOf("subscriptions"),
                    {"refresh_interval_ms", "expiry_ms"}, errors);
  const SubscriptionTimers defaults;
  const std::uint64_t refresh_ms = section.optionalUnsigned("refresh_interval_ms", 1, kMaxTimerMs,
                                                            defaults.refresh_interval_us / kMillisecond);
  const std::uint64_t expiry_ms =
      section.optionalUnsigned("expiry_ms", 1, kMaxTimerMs, defaults.expiry_us / kMillisecond);
  if (expiry_ms <= refresh_ms) {
    errors.fail(section.pathOf("expiry_ms"), std::to_string(expiry_ms) +
                                                 " must be greater than refresh_interval_ms (" +
                                                 std::to_string(refresh_ms) + ")");
  }
  out.core.subscriptions.refresh_interval_us = static_cast<DurationUs>(refresh_ms) * kMillisecond;
  out.core.subscriptions.expiry_us = static_cast<DurationUs>(expiry_ms) * kMillisecond;
}

void readLimits(const MapReader& root, RelayProcessConfig& out, ErrorLatch& errors) {
  MapReader section(root.get("limits"), root.pathOf("limits"),
                    {"max_clients", "max_clients_per_ip", "max_streams", "max_client_streams",
                     "max_subscriptions_per_client", "max_publications_per_client", "client_expiry_ms"},
                    errors);
  Limits& limits = out.core.limits;
  limits.max_clients = section.optionalUnsigned("max_clients", 1, kMaxCount, limits.max_clients);
  limits.max_clients_per_ip =
      section.optionalUnsigned("max_clients_per_ip", 1, kMaxCount, limits.max_clients_per_ip);
  limits.max_streams = section.optionalUnsigned("max_streams", 1, kMaxCount, limits.max_streams);
  // Default: half of max_streams for streams clients create.
  limits.max_client_streams =
      section.optionalUnsigned("max_client_streams", 1, kMaxCount, std::max<std::size_t>(limits.max_streams / 2, 1));
  if (limits.max_client_streams > limits.max_streams) {
    errors.fail(section.pathOf("max_client_streams"), std::to_string(limits.max_client_streams) +
                                                          " must not exceed max_streams (" +
                                                          std::to_string(limits.max_streams) + ")");
  }
  limits.max_publications_per_client = section.optionalUnsigned("max_publications_per_client", 1, kMaxCount,
                                                                 limits.max_publications_per_client);
  limits.max_subscriptions_per_client = section.optionalUnsigned("max_subscriptions_per_client", 1, kMaxCount,
                                                                 limits.max_subscriptions_per_client);
  limits.client_expiry_us =
      static_cast<DurationUs>(section.optionalUnsigned("client_expiry_ms", 1, kMaxClientExpiryMs,
                                                       limits.client_expiry_us / kMillisecond)) *
      kMillisecond;
}

std::uint64_t toPercent(double ratio) { return static_cast<std::uint64_t>(std::lround(ratio * 100)); }

DurationUs fromMs(std::uint64_t ms) { return static_cast<DurationUs>(ms) * kMillisecond; }

void readProbing(const MapReader& root, RelayProcessConfig& out, ErrorLatch& errors) {
  MapReader section(root.get("probing"), root.pathOf("probing"),
                    {"interval_ms", "down_after_ms", "up_after_acks", "loss_window", "degraded_loss_percent",
                     "recovered_loss_percent", "degraded_rtt_ms"},
                    errors);
  ProbingConfig& probing = out.core.probing;
  const std::uint64_t interval_ms = section.optionalUnsigned("interval_ms", kMinProbeIntervalMs, kMaxProbeIntervalMs,
                                                             probing.interval_us / kMillisecond);
  const std::uint64_t down_after_ms =
      section.optionalUnsigned("down_after_ms", 1, kMaxTimerMs, probing.down_after_us / kMillisecond);
  if (down_after_ms <= interval_ms) {
    errors.fail(section.pathOf("down_after_ms"), std::to_string(down_after_ms) +
                                                     " must be greater than interval_ms (" +
                                                     std::to_string(interval_ms) + ")");
  }
  probing.interval_us = fromMs(interval_ms);
  probing.down_after_us = fromMs(down_after_ms);
  probing.up_after_acks =
      static_cast<std::uint32_t>(section.optionalUnsigned("up_after_acks", 1, kMaxUpAfterAcks, probing.up_after_acks));
  probing.loss_window = static_cast<std::uint32_t>(
      section.optionalUnsigned("loss_window", kMinLossWindow, kMaxLossWindow, probing.loss_window));
  const std::uint64_t degraded_percent =
      section.optionalUnsigned("degraded_loss_percent", 1, 100, toPercent(probing.degraded_loss));
  const std::uint64_t recovered_percent =
      section.optionalUnsigned("recovered_loss_percent", 0, 99, toPercent(probing.recovered_loss));
  if (recovered_percent >= degraded_percent) {
    errors.fail(section.pathOf("recovered_loss_percent"), std::to_string(recovered_percent) +
                                                              " must be less than degraded_loss_percent (" +
                                                              std::to_string(degraded_percent) + ")");
  }
  probing.degraded_loss = static_cast<double>(degraded_percent) / 100;
  probing.recovered_loss = static_cast<double>(recovered_percent) / 100;
  probing.degraded_rtt_us = fromMs(
      section.optionalUnsigned("degraded_rtt_ms", 0, kMaxRttMs, probing.degraded_rtt_us / kMillisecond));
}

void readPathChoice(const MapReader& root, RelayProcessConfig& out, ErrorLatch& errors) {
  MapReader section(root.get("path_choice"), root.pathOf("path_choice"),
                    {"switch_margin_percent", "min_margin_ms", "switch_hold_ms"}, errors);
  PathChoiceConfig& choice = out.core.path_choice;
  choice.switch_margin = static_cast<double>(section.optionalUnsigned("switch_margin_percent", 0, 99,
                                                                      toPercent(choice.switch_margin))) /
                         100;
  choice.min_margin_us =
      fromMs(section.optionalUnsigned("min_margin_ms", 0, kMaxRttMs, choice.min_margin_us / kMillisecond));
  choice.switch_hold_us =
      fromMs(section.optionalUnsigned("switch_hold_ms", 0, kMaxTimerMs, choice.switch_hold_us / kMillisecond));
}

void readFailover(const MapReader& root, RelayProcessConfig& out, ErrorLatch& errors) {
  MapReader section(root.get("failover"), root.pathOf("failover"), {"failback_hold_ms"}, errors);
  FailoverConfig& failover = out.core.failover;
  failover.failback_hold_us = fromMs(
      section.optionalUnsigned("failback_hold_ms", 0, kMaxTimerMs, failover.failback_hold_us / kMillisecond));
}

void readRecovery(const MapReader& root, RelayProcessConfig& out, ErrorLatch& errors) {
  MapReader section(root.get("recovery"), root.pathOf("recovery"),
                    {"nack", "fec", "reorder_allowance_ms", "default_latency_budget_ms", "retransmit_buffer_packets",
                     "retransmit_buffer_bytes"},
                    errors);
  RecoveryConfig& recovery = out.core.recovery;
  const auto read_switch = [&](const char* key, bool& value) {
    if (!section.has(key)) return;
    const YAML::Node node = section.get(key);
    const std::string text = node.IsScalar() ? node.Scalar() : std::string(config::describeKind(node));
    if (text == "true" || text == "false") {
      value = text == "true";
    } else {
      errors.fail(section.pathOf(key), "expected true or false, got \"" + text + "\"");
    }
  };
  read_switch("nack", recovery.nack);
  read_switch("fec", recovery.fec);
  const std::uint64_t allowance_ms = section.optionalUnsigned("reorder_allowance_ms", 0, kMaxReorderAllowanceMs,
                                                              recovery.reorder_allowance_us / kMillisecond);
  const std::uint64_t budget_ms =
      section.optionalUnsigned("default_latency_budget_ms", kMinLatencyBudgetMs, kMaxLatencyBudgetMs,
                               recovery.default_latency_budget_us / kMillisecond);
  if (allowance_ms >= budget_ms) {
    errors.fail(section.pathOf("reorder_allowance_ms"), std::to_string(allowance_ms) +
                                                            " must be less than default_latency_budget_ms (" +
                                                            std::to_string(budget_ms) + ")");
  }
  recovery.reorder_allowance_us = fromMs(allowance_ms);
  recovery.default_latency_budget_us = fromMs(budget_ms);
  recovery.retransmit_buffer_packets = section.optionalUnsigned(
      "retransmit_buffer_packets", kMinRetransmitPackets, kMaxRetransmitPackets, recovery.retransmit_buffer_packets);
  recovery.retransmit_buffer_bytes = section.optionalUnsigned(
      "retransmit_buffer_bytes", kMinRetransmitBytes, kMaxRetransmitBytes, recovery.retransmit_buffer_bytes);
}

// "HOST:PORT" with a non-empty host and a port in 1..65535.
bool isValidHostPort(std::string_view address) {
  const std::size_t colon = address.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == address.size()) return false;
  const std::string_view port = address.substr(colon + 1);
  if (port.size() > 5) return false;
  std::uint32_t value = 0;
  for (const char c : port) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<std::uint32_t>(c - '0');
  }
  return value >= 1 && value <= 65535;
}

std::int64_t wallClockUnixSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// `controller.tls`: loads the three files (tls::readIdentityKeys) and checks
// the certificate names relay `node_id`.
void readControllerTls(const MapReader& section, NodeId node_id, ControllerTlsConfig& out, ErrorLatch& errors) {
  if (!section.has("tls")) {
    errors.fail(section.pathOf("tls"), "missing required key (ca_file, cert_file and key_file: the relay's "
                                       "certificate for mutual TLS; overlinectl pki issues them)");
    return;
  }
  MapReader tls(section.get("tls"), section.pathOf("tls"), {"ca_file", "cert_file", "key_file", "server_name"},
                errors);
  out.server_name = tls.optionalString("server_name", tls::kControllerServerName);
  if (out.server_name.empty()) errors.fail(tls.pathOf("server_name"), "must not be empty");
  auto loaded = tls::readIdentityKeys(tls, errors, wallClockUnixSeconds());
  if (!loaded) return;
  const tls::PeerIdentity& identity = loaded->identity;
  if (identity.role != tls::PeerRole::kRelay) {
    errors.fail(tls.pathOf("cert_file"), loaded->cert_file + ": names " + tls::describe(identity) + ", not a relay");
    return;
  }
  if (identity.node != node_id) {
    errors.fail(tls.pathOf("cert_file"), loaded->cert_file + ": names " + tls::describe(identity) + ", but node_id is " +
                                             std::to_string(node_id));
    return;
  }
  out.files = std::move(*loaded);
}

void readController(const MapReader& root, RelayProcessConfig& out, ErrorLatch& errors) {
  if (!root.has("controller")) return;
  MapReader section(root.get("controller"), root.pathOf("controller"),
                    {"addresses", "report_interval_ms", "backoff_initial_ms", "backoff_max_ms", "capacity_bps",
                     "drain_timeout_ms", "tls"},
                    errors);
  ControllerClientConfig controller;
  if (!section.has("addresses")) {
    errors.fail(section.pathOf("addresses"), "missing required key");
  } else {
    const SequenceReader addresses(section.get("addresses"), section.pathOf("addresses"), errors);
    if (checkCount(addresses, 1, kMaxControllerAddresses, errors)) {
      for (std::size_t i = 0; i < addresses.size(); ++i) {
        auto address = config::readString(addresses.at(i), addresses.pathOf(i), errors);
        if (!address) continue;
        if (!isValidHostPort(*address)) {
          errors.fail(addresses.pathOf(i), "expected HOST:PORT, got \"" + *address + "\"");
        }
        controller.addresses.push_back(std::move(*address));
      }
    }
  }
  controller.report_interval_ms = static_cast<std::uint32_t>(section.optionalUnsigned(
      "report_interval_ms", kMinReportIntervalMs, kMaxReportIntervalMs, controller.report_interval_ms));
  controller.backoff_initial_ms = static_cast<std::uint32_t>(
      section.optionalUnsigned("backoff_initial_ms", kMinBackoffMs, kMaxBackoffMs, controller.backoff_initial_ms));
  controller.backoff_max_ms = static_cast<std::uint32_t>(
      section.optionalUnsigned("backoff_max_ms", kMinBackoffMs, kMaxBackoffMs, controller.backoff_max_ms));
  if (controller.backoff_max_ms < controller.backoff_initial_ms) {
    errors.fail(section.pathOf("backoff_max_ms"), std::to_string(controller.backoff_max_ms) +
                                                      " must be at least backoff_initial_ms (" +
                                                      std::to_string(controller.backoff_initial_ms) + ")");
  }
  controller.capacity_bps =
      section.optionalUnsigned("capacity_bps", 1, kMaxCapacityBps, controller.capacity_bps);
  controller.drain_timeout_ms = static_cast<std::uint32_t>(
      section.optionalUnsigned("drain_timeout_ms", 0, kMaxDrainTimeoutMs, controller.drain_timeout_ms));
  // Last: it reads files, which an earlier error makes pointless.
  if (!errors.failed()) readControllerTls(section, out.core.node_id, controller.tls, errors);
  out.controller = std::move(controller);
}

}  // namespace

Result<RelayProcessConfig, std::string> parseRelayProcessConfig(std::string_view yaml_text) {
  ErrorLatch errors;
  const auto document = config::parseYaml(yaml_text, errors);
  if (!document) return Err(errors.message());
  if (!document->IsMap()) {
    return Err("expected a mapping at the top level, got " + std::string(config::describeKind(*document)));
  }
  MapReader root(*document, "",
                 {"node_id", "region", "lines", "neighbours", "routes", "subscriptions", "limits", "probing",
                  "path_choice", "failover", "recovery", "metrics", "controller", "join", "socket_buffer_bytes",
                  "log_level", "auth", "insecure_lab_mode"},
                 errors);
  RelayProcessConfig out;
  out.core.node_id = static_cast<NodeId>(root.requiredUnsigned("node_id", 1, kMaxNodeId).value_or(kNoNode));
  if (auto region = root.requiredString("region")) {
    if (region->empty()) errors.fail(root.pathOf("region"), "must not be empty");
    out.region = std::move(*region);
  }
  readLines(root, out, errors);
  out.core.line_count = out.lines.size();
  readNeighbours(root, out, errors);
  readRoutes(root, out, errors);
  readSubscriptions(root, out, errors);
  readLimits(root, out, errors);
  readProbing(root, out, errors);
  readPathChoice(root, out, errors);
  readFailover(root, out, errors);
  readRecovery(root, out, errors);
  config::readMetricsSection(root, out.metrics_listen, errors);
  readController(root, out, errors);
  readJoinSection(root, out.core.join, errors);
  readAuthSection(root, out.controller.has_value(), out.core.auth, errors);
  if (!errors.failed() && !out.core.auth.insecure_lab_mode && out.core.auth.mesh_keys.empty() &&
      !out.core.neighbours.empty()) {
    errors.fail(root.pathOf("neighbours"), "static neighbours need auth.mesh_keys (the controller's keys "
                                           "come only with its peer list, which replaces them)");
  }
  out.socket_buffer_bytes = root.optionalUnsigned("socket_buffer_bytes", kMinSocketBufferBytes,
                                                  kMaxSocketBufferBytes, out.socket_buffer_bytes);
  config::readLogLevel(root, out.log_level, errors);
  if (errors.failed()) return Err(errors.message());
  return out;
}

Result<RelayProcessConfig, std::string> loadRelayProcessConfig(const std::string& file_path) {
  auto text = config::readTextFile(file_path);
  if (!text) return Err(text.error());
  return parseRelayProcessConfig(text.value());
}

}  // namespace overline::relay
