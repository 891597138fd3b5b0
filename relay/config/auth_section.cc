#include "relay/config/auth_section.h"

#include <set>
#include <string>
#include <utility>

#include "common/token/join_token.h"

namespace overline::relay {
namespace {

constexpr std::uint64_t kMaxEpoch = 0xffffffffu;
constexpr std::uint64_t kMaxUnixSeconds = 253402300799;  // 9999-12-31
constexpr std::size_t kMaxMeshKeys = kMaxKeyEpochs;

// A secret as hex digits, >= kMinMeshSecretBytes bytes.
std::optional<std::vector<std::uint8_t>> readSecret(const config::MapReader& key, config::ErrorLatch& errors) {
  std::string text;
  std::string where;
  if (key.has("secret_hex") == key.has("secret_file")) {
    errors.fail(key.path(), "expected exactly one of secret_hex and secret_file");
    return std::nullopt;
  }
  if (key.has("secret_hex")) {
    where = key.pathOf("secret_hex");
    const auto hex = config::readString(key.get("secret_hex"), where, errors);
    if (!hex) return std::nullopt;
    text = *hex;
  } else {
    where = key.pathOf("secret_file");
    const auto file = config::readString(key.get("secret_file"), where, errors);
    if (!file) return std::nullopt;
    auto contents = config::readTextFile(*file);
    if (!contents) {
      errors.fail(where, contents.error());
      return std::nullopt;
    }
    text = std::move(contents.value());
  }
  auto secret = token::parseHexKey(text);
  if (!secret) {
    errors.fail(where, secret.error());
    return std::nullopt;
  }
  if (secret->size() < kMinMeshSecretBytes) {
    errors.fail(where, "a mesh secret needs at least " + std::to_string(kMinMeshSecretBytes) + " bytes (" +
                           std::to_string(2 * kMinMeshSecretBytes) + " hex digits), got " +
                           std::to_string(secret->size()));
    return std::nullopt;
  }
  return std::move(secret.value());
}

}  // namespace

void readAuthSection(config::MapReader& root, bool controller_configured, AuthConfig& out,
                     config::ErrorLatch& errors) {
  bool lab_mode = false;
  if (root.has("insecure_lab_mode")) {
    const YAML::Node value = root.get("insecure_lab_mode");
    const std::string text = value.IsScalar() ? value.Scalar() : std::string(config::describeKind(value));
    if (text == "true" || text == "false") {
      lab_mode = text == "true";
    } else {
      errors.fail(root.pathOf("insecure_lab_mode"), "expected true or false, got \"" + text + "\"");
    }
  }
  out.insecure_lab_mode = lab_mode;
  if (!root.has("auth")) {
    // With a controller and no lab mode, every key comes from the controller.
    if (!lab_mode && !controller_configured) {
      errors.fail("auth", "missing: relay-to-relay packets must be authenticated; give auth.mesh_keys (the "
                          "same on every relay), a controller section (it pushes the keys), or "
                          "insecure_lab_mode: true for a lab");
    }
    return;
  }
  if (lab_mode) {
    errors.fail(root.pathOf("insecure_lab_mode"), "true contradicts the auth section; remove one of them");
    return;
  }
  config::MapReader section(root.get("auth"), root.pathOf("auth"), {"mesh_keys"}, errors);
  const config::SequenceReader keys(section.get("mesh_keys"), section.pathOf("mesh_keys"), errors);
  if (keys.size() == 0 || keys.size() > kMaxMeshKeys) {
    errors.fail(keys.path(), "expected 1.." + std::to_string(kMaxMeshKeys) + " keys");
    return;
  }
  std::set<std::uint32_t> epochs;
  out.mesh_keys.clear();
  for (std::size_t i = 0; i < keys.size(); ++i) {
    config::MapReader key(keys.at(i), keys.pathOf(i), {"epoch", "secret_hex", "secret_file", "activate_at_unix_s"},
                          errors);
    MeshKey mesh;
    if (const auto epoch = key.requiredUnsigned("epoch", 1, kMaxEpoch)) {
      mesh.epoch = static_cast<std::uint32_t>(*epoch);
      if (!epochs.insert(mesh.epoch).second) {
        errors.fail(key.pathOf("epoch"), std::to_string(*epoch) + " appears twice");
      }
    }
    if (auto secret = readSecret(key, errors)) mesh.secret = std::move(*secret);
    mesh.activate_at_unix_us =
        static_cast<TimeUs>(key.optionalUnsigned("activate_at_unix_s", 0, kMaxUnixSeconds, 0)) * kSecond;
    out.mesh_keys.push_back(std::move(mesh));
  }
}

}  // namespace overline::relay
