// The relay config's `join:` section (relay/config/join_section.h).

#include <catch2/catch.hpp>

#include <string>

#include "relay/config/relay_process_config.h"

namespace overline::relay {
namespace {

constexpr const char* kMinimal = R"(
insecure_lab_mode: true
node_id: 1
region: eu-west
lines:
  - name: isp-a
    bind: 127.0.1.1:40001
)";
constexpr const char* kKeyHex = "000102030405060708090a0b0c0d0e0f";

std::string parseError(const std::string& yaml) {
  const auto result = parseRelayProcessConfig(yaml);
  REQUIRE_FALSE(result.ok());
  return result.error();
}

TEST_CASE("no join section: no key, no token required") {
  const auto result = parseRelayProcessConfig(kMinimal);
  REQUIRE(result.ok());
  CHECK(result->core.join.key.empty());
  CHECK_FALSE(result->core.join.require_token);
}

TEST_CASE("join.key_hex loads the key and requires tokens by default") {
  const auto result = parseRelayProcessConfig(std::string(kMinimal) + "join: {key_hex: \"" + kKeyHex + "\"}\n");
  REQUIRE(result.ok());
  CHECK(result->core.join.key == std::vector<std::uint8_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15});
  CHECK(result->core.join.require_token);

  const auto lax = parseRelayProcessConfig(std::string(kMinimal) + "join: {key_hex: \"" + kKeyHex +
                                           "\", require_token: false}\n");
  REQUIRE(lax.ok());
  CHECK_FALSE(lax->core.join.require_token);
}

TEST_CASE("bad join sections are one-line errors naming the key") {
  CHECK(parseError(std::string(kMinimal) + "join: {require_token: true}\n") ==
        "join: expected exactly one of key_hex and key_file");
  CHECK(parseError(std::string(kMinimal) + "join: {key_hex: \"00ff\"}\n").rfind("join.key_hex: ", 0) == 0);
  CHECK(parseError(std::string(kMinimal) + "join: {key_hex: \"" + kKeyHex + "\", require_token: yes}\n") ==
        "join.require_token: expected true or false, got \"yes\"");
  CHECK(parseError(std::string(kMinimal) + "join: {key_file: /nonexistent/join.key}\n").rfind("join.key_file: ", 0) ==
        0);
  CHECK(parseError(std::string(kMinimal) + "join: {key: x}\n") == "join.key: unknown key");
}

}  // namespace
}  // namespace overline::relay
