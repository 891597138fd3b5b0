#pragma once
// Shared command-line and output conventions of the SDK tools:
//  * stdout carries one compact JSON object per line (events; parsed by the
//    demo and the integration tests), flushed per line, each written whole
//    (the SDK thread prints session events too); logs go to stderr.
//  * bad flags: message on stderr, exit 2. --help: usage on stdout, exit 0.

#include <CLI/CLI.hpp>
#include <cmath>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "common/endpoint.h"
#include "common/types.h"

namespace overline::sdk::tools {

constexpr int kExitBadFlags = 2;
constexpr int kExitConnectFailed = 1;

// Parses the command line; returns the exit code when the tool should stop now.
inline std::optional<int> parseCommandLine(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help
    app.exit(e, std::cerr, std::cerr);
    return kExitBadFlags;
  }
  return std::nullopt;
}

inline CLI::Validator edgeEndpointValidator() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        const auto endpoint = Endpoint::parse(text);
        if (!endpoint || endpoint->address() == 0 || endpoint->port() == 0) {
          return "expected IPv4 IP:PORT with a non-zero address and port, got '" + text + "'";
        }
        return {};
      },
      "");
}

// Key order as inserted, so every line starts with "event".
using Event = nlohmann::ordered_json;

// One insertion per line: stdio's lock keeps lines from two threads whole.
inline void printEvent(const Event& event) { std::cout << (event.dump() + "\n") << std::flush; }

// Microseconds as milliseconds with microsecond precision (3 decimals).
inline double toMs(double us) { return std::round(us) / 1000.0; }
// Seconds with millisecond precision.
inline double toSeconds(DurationUs us) { return std::round(static_cast<double>(us) / 1000.0) / 1000.0; }

}  // namespace overline::sdk::tools
