#include "common/config/yaml_reader.h"

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <set>

namespace overline::config {
namespace {

// Quotes a scalar for an error message, shortened so one bad value cannot
// turn the single error line into a wall of text.
std::string quoted(std::string_view text) {
  constexpr std::size_t kMaxShown = 60;
  std::string out = "\"";
  out.append(text.substr(0, kMaxShown));
  if (text.size() > kMaxShown) out.append("...");
  out.append("\"");
  return out;
}

// Scalar text of a present node, or nullopt after latching a kind error.
std::optional<std::string> scalarText(const YAML::Node& node, const std::string& path,
                                      std::string_view expected, ErrorLatch& errors) {
  if (!node.IsDefined() || !node.IsScalar()) {
    errors.fail(path, "expected " + std::string(expected) + ", got " + std::string(describeKind(node)));
    return std::nullopt;
  }
  return node.Scalar();
}

bool absentOrNull(const YAML::Node& node) { return !node.IsDefined() || node.IsNull(); }

}  // namespace

void ErrorLatch::fail(std::string_view path, std::string_view problem) {
  if (failed_) return;
  failed_ = true;
  message_ = path.empty() ? std::string(problem) : std::string(path) + ": " + std::string(problem);
}

std::string childPath(std::string_view parent, std::string_view key) {
  if (parent.empty()) return std::string(key);
  return std::string(parent) + "." + std::string(key);
}

std::string indexPath(std::string_view parent, std::size_t index) {
  return std::string(parent) + "[" + std::to_string(index) + "]";
}

std::string_view describeKind(const YAML::Node& node) {
  if (!node.IsDefined()) return "nothing";
  switch (node.Type()) {
    case YAML::NodeType::Undefined: return "nothing";
    case YAML::NodeType::Null: return "null";
    case YAML::NodeType::Scalar: return "a scalar";
    case YAML::NodeType::Sequence: return "a sequence";
    case YAML::NodeType::Map: return "a mapping";
  }
  return "an unknown node";
}

std::optional<YAML::Node> parseYaml(std::string_view text, ErrorLatch& errors) {
  try {
    return YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    // Marks are 0-based; editors count from 1. A null mark has no position.
    if (e.mark.is_null()) {
      errors.fail("", "invalid YAML: " + e.msg);
    } else {
      errors.fail("", "line " + std::to_string(e.mark.line + 1) + ", column " +
                          std::to_string(e.mark.column + 1) + ": " + e.msg);
    }
    return std::nullopt;
  }
}

std::optional<std::uint64_t> readUnsigned(const YAML::Node& node, const std::string& path, std::uint64_t min,
                                          std::uint64_t max, ErrorLatch& errors) {
  const std::string range = std::to_string(min) + ".." + std::to_string(max);
  const auto text = scalarText(node, path, "an integer in " + range, errors);
  if (!text) return std::nullopt;
  std::uint64_t value = 0;
  const char* begin = text->data();
  const char* end = begin + text->size();
  const auto [stop, ec] = std::from_chars(begin, end, value);
  if (text->empty() || stop != end || (ec != std::errc() && ec != std::errc::result_out_of_range)) {
    errors.fail(path, "expected an integer in " + range + ", got " + quoted(*text));
    return std::nullopt;
  }
  if (ec == std::errc::result_out_of_range || value < min || value > max) {
    errors.fail(path, *text + " is out of range " + range);
    return std::nullopt;
  }
  return value;
}

std::optional<std::string> readString(const YAML::Node& node, const std::string& path, ErrorLatch& errors) {
  return scalarText(node, path, "a string", errors);
}

std::optional<Endpoint> readEndpoint(const YAML::Node& node, const std::string& path, ErrorLatch& errors) {
  const auto text = scalarText(node, path, "IPv4:port", errors);
  if (!text) return std::nullopt;
  const auto endpoint = Endpoint::parse(*text);
  if (!endpoint) {
    errors.fail(path, "expected IPv4:port, got " + quoted(*text));
    return std::nullopt;
  }
  return endpoint;
}

MapReader::MapReader(const YAML::Node& node, std::string path,
                     std::initializer_list<std::string_view> allowed_keys, ErrorLatch& errors)
    : node_(YAML::NodeType::Undefined), path_(std::move(path)), errors_(errors) {
  if (absentOrNull(node)) return;
  if (!node.IsMap()) {
    errors_.fail(path_, "expected a mapping, got " + std::string(describeKind(node)));
    return;
  }
  std::set<std::string, std::less<>> seen;
  for (const auto& entry : node) {
    if (!entry.first.IsScalar()) {
      errors_.fail(path_, "keys must be plain strings, got " + std::string(describeKind(entry.first)));
      return;
    }
    const std::string& key = entry.first.Scalar();
    bool allowed = false;
    for (const std::string_view candidate : allowed_keys) allowed = allowed || candidate == key;
    if (!allowed) {
      errors_.fail(pathOf(key), "unknown key");
      return;
    }
    if (!seen.insert(key).second) {
      errors_.fail(pathOf(key), "duplicate key");
      return;
    }
  }
  node_ = node;
}

bool MapReader::has(std::string_view key) const { return !absentOrNull(get(key)); }

YAML::Node MapReader::get(std::string_view key) const {
  if (!node_.IsDefined()) return YAML::Node(YAML::NodeType::Undefined);
  const YAML::Node& map = node_;  // const operator[] never inserts or throws on a mapping
  return map[std::string(key)];
}

bool MapReader::presentOrReportMissing(std::string_view key) {
  if (has(key)) return true;
  errors_.fail(pathOf(key), "missing required key");
  return false;
}

std::optional<std::uint64_t> MapReader::requiredUnsigned(std::string_view key, std::uint64_t min,
                                                         std::uint64_t max) {
  if (!presentOrReportMissing(key)) return std::nullopt;
  return readUnsigned(get(key), pathOf(key), min, max, errors_);
}

std::optional<std::string> MapReader::requiredString(std::string_view key) {
  if (!presentOrReportMissing(key)) return std::nullopt;
  return readString(get(key), pathOf(key), errors_);
}

std::optional<Endpoint> MapReader::requiredEndpoint(std::string_view key) {
  if (!presentOrReportMissing(key)) return std::nullopt;
  return readEndpoint(get(key), pathOf(key), errors_);
}

std::uint64_t MapReader::optionalUnsigned(std::string_view key, std::uint64_t min, std::uint64_t max,
                                          std::uint64_t fallback) {
  if (!has(key)) return fallback;
  return readUnsigned(get(key), pathOf(key), min, max, errors_).value_or(fallback);
}

std::string MapReader::optionalString(std::string_view key, std::string fallback) {
  if (!has(key)) return fallback;
  auto value = readString(get(key), pathOf(key), errors_);
  return value ? std::move(*value) : std::move(fallback);
}

SequenceReader::SequenceReader(const YAML::Node& node, std::string path, ErrorLatch& errors)
    : node_(node), path_(std::move(path)) {
  if (absentOrNull(node)) return;
  if (!node.IsSequence()) {
    errors.fail(path_, "expected a sequence, got " + std::string(describeKind(node)));
    return;
  }
  valid_ = true;
}

void readMetricsSection(const MapReader& root, std::optional<Endpoint>& listen, ErrorLatch& errors) {
  MapReader section(root.get("metrics"), root.pathOf("metrics"), {"listen"}, errors);
  if (!section.has("listen")) return;
  const YAML::Node node = section.get("listen");
  if (node.IsScalar() && node.Scalar() == "off") {
    listen.reset();
    return;
  }
  const auto endpoint = node.IsScalar() ? Endpoint::parse(node.Scalar()) : std::nullopt;
  if (!endpoint) {
    const std::string got = node.IsScalar() ? "\"" + node.Scalar() + "\"" : std::string(describeKind(node));
    errors.fail(section.pathOf("listen"), "expected IPv4:port or \"off\", got " + got);
    return;
  }
  listen = *endpoint;
}

void readLogLevel(MapReader& root, std::string& level, ErrorLatch& errors) {
  level = root.optionalString("log_level", level);
  for (const std::string_view known : {"trace", "debug", "info", "warn", "error"}) {
    if (level == known) return;
  }
  errors.fail(root.pathOf("log_level"), "expected one of trace|debug|info|warn|error, got \"" + level + "\"");
}

}  // namespace overline::config
