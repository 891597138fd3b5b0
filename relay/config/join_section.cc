#include "relay/config/join_section.h"

#include <string>
#include <utility>

#include "common/token/join_token.h"

namespace overline::relay {

void readJoinSection(const config::MapReader& root, JoinPolicy& out, config::ErrorLatch& errors) {
  if (!root.has("join")) return;
  config::MapReader section(root.get("join"), root.pathOf("join"), {"key_hex", "key_file", "require_token"},
                            errors);
  if (section.has("key_hex") == section.has("key_file")) {
    errors.fail(section.path(), "expected exactly one of key_hex and key_file");
  } else if (section.has("key_hex")) {
    if (const auto hex = section.requiredString("key_hex")) {
      auto key = token::parseHexKey(*hex);
      if (key) {
        out.key = std::move(key.value());
      } else {
        errors.fail(section.pathOf("key_hex"), key.error());
      }
    }
  } else if (const auto file = section.requiredString("key_file")) {
    const auto text = config::readTextFile(*file);
    if (!text) {
      errors.fail(section.pathOf("key_file"), text.error());
    } else if (auto key = token::parseHexKey(text.value())) {
      out.key = std::move(key.value());
    } else {
      errors.fail(section.pathOf("key_file"), *file + ": " + key.error());
    }
  }
  out.require_token = true;
  if (section.has("require_token")) {
    const YAML::Node value = section.get("require_token");
    const std::string text = value.IsScalar() ? value.Scalar() : std::string(config::describeKind(value));
    if (text == "true" || text == "false") {
      out.require_token = text == "true";
    } else {
      errors.fail(section.pathOf("require_token"), "expected true or false, got \"" + text + "\"");
    }
  }
}

}  // namespace overline::relay
