#include "deploy/impair/impair_config.h"

#include <array>
#include <limits>
#include <map>

#include "common/config/yaml_reader.h"

namespace overline::impair {
namespace {

using config::ErrorLatch;
using config::MapReader;
using config::SequenceReader;

constexpr std::size_t kMaxLinks = 1000;
constexpr std::size_t kMaxLinkNameChars = 64;
constexpr std::uint64_t kMaxDelayQueuePackets = 1'000'000;
constexpr std::uint64_t kMinSocketBufferBytes = 4096;
constexpr std::uint64_t kMaxSocketBufferBytes = std::uint64_t{1} << 30;  // fits the int libuv takes

// Direction keys that map one-to-one onto knobs of the same name.
constexpr std::array<std::string_view, 7> kFlatKnobKeys = {
    "delay_ms", "jitter_ms", "loss_percent", "reorder_percent", "reorder_delay_ms", "rate_kbps", "queue_bytes"};

// Sets knob `knob_key` from the scalar at `path`.
void readKnob(const YAML::Node& node, const std::string& path, std::string_view knob_key,
              impairment::ImpairmentKnobs& knobs, ErrorLatch& errors) {
  if (!node.IsScalar()) {
    errors.fail(path, "expected a number, got " + std::string(config::describeKind(node)));
    return;
  }
  if (auto problem = impairment::setKnob(knobs, knob_key, node.Scalar())) errors.fail(path, *problem);
}

impairment::ImpairmentKnobs readDirection(const YAML::Node& node, const std::string& path, ErrorLatch& errors) {
  impairment::ImpairmentKnobs knobs;
  const MapReader direction(node, path,
                            {"delay_ms", "jitter_ms", "loss_percent", "burst", "reorder_percent",
                             "reorder_delay_ms", "rate_kbps", "queue_bytes"},
                            errors);
  for (const std::string_view key : kFlatKnobKeys) {
    if (direction.has(key)) readKnob(direction.get(key), direction.pathOf(key), key, knobs, errors);
  }
  if (direction.has("burst")) {
    MapReader burst(direction.get("burst"), direction.pathOf("burst"),
                    {"mean_loss_percent", "mean_burst_packets"}, errors);
    // YAML key -> knob key.
    for (const auto& [key, knob_key] : {std::pair<std::string_view, std::string_view>{"mean_loss_percent",
                                                                                      "burst_loss_percent"},
                                        {"mean_burst_packets", "burst_len"}}) {
      if (burst.has(key)) {
        readKnob(burst.get(key), burst.pathOf(key), knob_key, knobs, errors);
      } else {
        errors.fail(burst.pathOf(key), "missing required key");
      }
    }
    const double max_loss_percent = impairment::maxBurstLossPercent(knobs.burst_len);
    if (!errors.failed() && knobs.burst_loss_percent > max_loss_percent) {
      errors.fail(burst.path(), "mean_loss_percent " + burst.get("mean_loss_percent").Scalar() +
                                    " is too high for mean_burst_packets " +
                                    burst.get("mean_burst_packets").Scalar() + " (at most " +
                                    impairment::formatDecimal(max_loss_percent) + ")");
    }
  }
  if (!errors.failed()) {
    // Every combination is checked above; this guards the knob contract.
    if (auto settings = impairment::toSettings(knobs); !settings) errors.fail(path, settings.error());
  }
  return knobs;
}

// A destination endpoint: port 0 cannot be sent to.
std::optional<Endpoint> readDestination(MapReader& link, std::string_view key, ErrorLatch& errors) {
  auto endpoint = link.requiredEndpoint(key);
  if (endpoint && endpoint->port() == 0) errors.fail(link.pathOf(key), "port 0 is not a valid destination");
  return endpoint;
}

// Latches an error when the fixed (non-zero port) bind address at `path`
// was already taken by another socket of the proxy.
void claimBind(const Endpoint& bind, const std::string& path, std::map<Endpoint, std::string>& path_of_bind,
               ErrorLatch& errors) {
  // Port 0 asks the kernel for a fresh port, so only fixed ports can collide.
  if (bind.port() == 0) return;
  if (const auto [it, inserted] = path_of_bind.emplace(bind, path); !inserted) {
    errors.fail(path, bind.toString() + " is already used by " + it->second);
  }
}

// Reads the entry's `name`, which must be valid and not yet in `path_of_name`.
std::string readName(MapReader& entry, std::map<std::string, std::string>& path_of_name, ErrorLatch& errors) {
  auto name = entry.requiredString("name");
  if (!name) return {};
  if (!isValidLinkName(*name)) {
    errors.fail(entry.pathOf("name"), "\"" + *name + "\" must be 1.." + std::to_string(kMaxLinkNameChars) +
                                          " characters of [A-Za-z0-9._:-]");
  } else if (const auto [it, inserted] = path_of_name.emplace(*name, entry.path()); !inserted) {
    errors.fail(entry.pathOf("name"), "\"" + *name + "\" is already used by " + it->second);
  }
  return std::move(*name);
}

void readLinks(const MapReader& root, ImpairConfig& out, std::map<Endpoint, std::string>& path_of_bind,
               ErrorLatch& errors) {
  if (!root.has("links")) {
    if (!root.has("switchboard")) {
      errors.fail(root.pathOf("links"), "missing required key (give links, switchboard or both)");
    }
    return;
  }
  const SequenceReader links(root.get("links"), root.pathOf("links"), errors);
  if (links.size() < 1 || links.size() > kMaxLinks) {
    errors.fail(links.path(), "expected 1.." + std::to_string(kMaxLinks) + " entries, got " +
                                  std::to_string(links.size()));
    return;
  }
  std::map<std::string, std::string> path_of_name;
  for (std::size_t i = 0; i < links.size(); ++i) {
    MapReader link(links.at(i), links.pathOf(i), {"name", "a", "a_side", "b", "b_side", "a_to_b", "b_to_a"},
                   errors);
    ImpairLinkConfig config;
    config.name = readName(link, path_of_name, errors);
    config.a = readDestination(link, "a", errors).value_or(Endpoint());
    for (const std::string_view side : {"a_side", "b_side"}) {
      const auto bind = link.requiredEndpoint(side);
      if (!bind) continue;
      claimBind(*bind, link.pathOf(side), path_of_bind, errors);
      (side == "a_side" ? config.a_side : config.b_side) = *bind;
    }
    config.b = readDestination(link, "b", errors).value_or(Endpoint());
    if (!errors.failed() && config.b == config.a) {
      errors.fail(link.pathOf("b"), config.b.toString() + " is also a; A and B must differ");
    }
    config.a_to_b = readDirection(link.get("a_to_b"), link.pathOf("a_to_b"), errors);
    config.b_to_a = readDirection(link.get("b_to_a"), link.pathOf("b_to_a"), errors);
    out.links.push_back(std::move(config));
  }
}

void readSwitchboard(const MapReader& root, ImpairConfig& out, std::map<Endpoint, std::string>& path_of_bind,
                     ErrorLatch& errors) {
  if (!root.has("switchboard")) return;
  const MapReader section(root.get("switchboard"), root.pathOf("switchboard"), {"default", "access", "lines"},
                          errors);
  SwitchboardConfig switchboard;
  switchboard.default_knobs = readDirection(section.get("default"), section.pathOf("default"), errors);
  if (section.has("access")) {
    switchboard.access_knobs = readDirection(section.get("access"), section.pathOf("access"), errors);
  }
  const SequenceReader lines(section.get("lines"), section.pathOf("lines"), errors);
  if (lines.size() < 1 || lines.size() > kMaxSwitchboardLines) {
    errors.fail(lines.path(), "expected 1.." + std::to_string(kMaxSwitchboardLines) + " entries, got " +
                                  std::to_string(lines.size()));
    return;
  }
  std::map<std::string, std::string> path_of_name;
  std::map<Endpoint, std::string> path_of_real;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    MapReader line(lines.at(i), lines.pathOf(i), {"name", "real", "stand_in"}, errors);
    SwitchboardLineConfig config;
    config.name = readName(line, path_of_name, errors);
    if (const auto real = readDestination(line, "real", errors)) {
      // The real endpoint identifies the line's packets, so it must be unique.
      if (const auto [it, inserted] = path_of_real.emplace(*real, line.path()); !inserted) {
        errors.fail(line.pathOf("real"), real->toString() + " is already the real address of " + it->second);
      }
      config.real = *real;
    }
    if (const auto stand_in = line.requiredEndpoint("stand_in")) {
      claimBind(*stand_in, line.pathOf("stand_in"), path_of_bind, errors);
      config.stand_in = *stand_in;
    }
    switchboard.lines.push_back(std::move(config));
  }
  out.switchboard = std::move(switchboard);
}

}  // namespace

bool isValidLinkName(std::string_view name) {
  if (name.empty() || name.size() > kMaxLinkNameChars) return false;
  for (const char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '_' || c == ':' || c == '-';
    if (!ok) return false;
  }
  return true;
}

Result<ImpairConfig, std::string> parseImpairConfig(std::string_view yaml_text) {
  ErrorLatch errors;
  const auto document = config::parseYaml(yaml_text, errors);
  if (!document) return Err(errors.message());
  if (!document->IsMap()) {
    return Err("expected a mapping at the top level, got " + std::string(config::describeKind(*document)));
  }
  ImpairConfig out;
  MapReader root(*document, "",
                 {"links", "switchboard", "seed", "delay_queue_packets", "socket_buffer_bytes"}, errors);
  std::map<Endpoint, std::string> path_of_bind;
  readLinks(root, out, path_of_bind, errors);
  readSwitchboard(root, out, path_of_bind, errors);
  out.seed = root.optionalUnsigned("seed", 0, std::numeric_limits<std::uint64_t>::max(), out.seed);
  out.delay_queue_packets =
      root.optionalUnsigned("delay_queue_packets", 1, kMaxDelayQueuePackets, out.delay_queue_packets);
  out.socket_buffer_bytes = root.optionalUnsigned("socket_buffer_bytes", kMinSocketBufferBytes,
                                                  kMaxSocketBufferBytes, out.socket_buffer_bytes);
  if (errors.failed()) return Err(errors.message());
  return out;
}

Result<ImpairConfig, std::string> loadImpairConfig(const std::string& file_path) {
  auto text = config::readTextFile(file_path);
  if (!text) return Err(text.error());
  return parseImpairConfig(text.value());
}

}  // namespace overline::impair
