#pragma once
// Strict YAML reading for config files.
//
// Every value is type- and range-checked, every unknown or duplicate key is
// an error, and a problem is reported as ONE line "<key path>: <problem>",
// e.g. `lines[1].bind: expected IPv4:port, got "foo"`. Key paths use dots for
// mapping keys and [i] for sequence entries; the top level has an empty path.
//
// All readers of one document share an ErrorLatch that keeps only the FIRST
// error: later checks usually fail because of the first one, so reporting
// them would point the operator at the wrong line. After an error, readers
// return nullopt/defaults and callers simply carry on to the end.
//
// Nothing here throws: yaml-cpp's throwing accessors (as<T>(), non-const
// operator[]) are not used, and yaml-cpp's parser exceptions are caught in
// parseYaml().

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "common/endpoint.h"
#include "common/result.h"
#include "common/text_file.h"

namespace overline::config {

// Keeps the first reported error as "<path>: <problem>" (just "<problem>"
// when the path is empty).
class ErrorLatch {
 public:
  void fail(std::string_view path, std::string_view problem);
  bool failed() const { return failed_; }
  const std::string& message() const { return message_; }

 private:
  bool failed_ = false;
  std::string message_;
};

// Key path helpers: childPath("lines[1]", "bind") == "lines[1].bind",
// indexPath("lines", 1) == "lines[1]".
std::string childPath(std::string_view parent, std::string_view key);
std::string indexPath(std::string_view parent, std::size_t index);

// Parses one YAML document. Syntax errors latch
// "line L, column C: <yaml-cpp's message>" (1-based) and return nullopt.
std::optional<YAML::Node> parseYaml(std::string_view text, ErrorLatch& errors);

// Reads a whole file (common/text_file.h).
using overline::readTextFile;

// Scalar readers for a node already known to be present. They latch an error
// naming `path` and return nullopt when the node is not a scalar of the
// expected form.
//
// Integers are plain decimal digits (no sign, no hex), within [min, max].
std::optional<std::uint64_t> readUnsigned(const YAML::Node& node, const std::string& path, std::uint64_t min,
                                          std::uint64_t max, ErrorLatch& errors);
std::optional<std::string> readString(const YAML::Node& node, const std::string& path, ErrorLatch& errors);
// "a.b.c.d:port" (see Endpoint::parse).
std::optional<Endpoint> readEndpoint(const YAML::Node& node, const std::string& path, ErrorLatch& errors);

// One YAML mapping at `path`. Construction checks the mapping's shape
// against `allowed_keys` (unknown, duplicate and non-string keys latch
// errors), so a typo is reported as "unknown key" rather than as a missing
// required key. A null or absent node reads as an empty mapping, so
// optional sections may be left empty (`neighbours:`).
class MapReader {
 public:
  // `errors` must outlive this reader.
  MapReader(const YAML::Node& node, std::string path, std::initializer_list<std::string_view> allowed_keys,
            ErrorLatch& errors);

  const std::string& path() const { return path_; }
  std::string pathOf(std::string_view key) const { return childPath(path_, key); }
  bool has(std::string_view key) const;
  // The value of `key`; an undefined node when absent.
  YAML::Node get(std::string_view key) const;

  // Required keys latch "<path>.<key>: missing required key" when absent or null.
  std::optional<std::uint64_t> requiredUnsigned(std::string_view key, std::uint64_t min, std::uint64_t max);
  std::optional<std::string> requiredString(std::string_view key);
  std::optional<Endpoint> requiredEndpoint(std::string_view key);
  // Optional keys return `fallback` when absent or null (and on error).
  std::uint64_t optionalUnsigned(std::string_view key, std::uint64_t min, std::uint64_t max,
                                 std::uint64_t fallback);
  std::string optionalString(std::string_view key, std::string fallback);

 private:
  bool presentOrReportMissing(std::string_view key);

  YAML::Node node_;
  std::string path_;
  ErrorLatch& errors_;
};

// A YAML sequence at `path`. A null or absent node reads as empty; any other
// non-sequence latches "<path>: expected a sequence, got <kind>".
class SequenceReader {
 public:
  SequenceReader(const YAML::Node& node, std::string path, ErrorLatch& errors);

  std::size_t size() const { return valid_ ? node_.size() : 0; }
  YAML::Node at(std::size_t index) const { return node_[index]; }
  std::string pathOf(std::size_t index) const { return indexPath(path_, index); }
  const std::string& path() const { return path_; }

 private:
  YAML::Node node_;
  std::string path_;
  bool valid_ = false;
};

// "a mapping", "a sequence", "null", ... for error messages.
std::string_view describeKind(const YAML::Node& node);

// Sections every Overline process shares, read the same way everywhere.
//
// `metrics: {listen: IPv4:port | "off"}` under `root`: sets `listen` to the
// endpoint, or to nullopt for "off"; leaves it unchanged when absent.
void readMetricsSection(const MapReader& root, std::optional<Endpoint>& listen, ErrorLatch& errors);
// `log_level: trace|debug|info|warn|error` under `root`; `level` holds the
// default and receives the value.
void readLogLevel(MapReader& root, std::string& level, ErrorLatch& errors);

}  // namespace overline::config
