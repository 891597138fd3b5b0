#pragma once
// The relay config's `auth:` section and `insecure_lab_mode:` key
// (relay_process_config.h has the schema) -> AuthConfig's mesh keys.

#include "common/config/yaml_reader.h"
#include "relay/core/relay_config.h"

namespace overline::relay {

// Reads root's `auth:` and `insecure_lab_mode:` into `out`. Not both: lab
// mode contradicts keys. Neither is allowed only with a controller
// (`controller_configured`), which then pushes every pair key; without
// one, a relay never runs unauthenticated by omission.
// Errors latch "auth.mesh_keys[0].secret_hex: <problem>" and the like.
void readAuthSection(config::MapReader& root, bool controller_configured, AuthConfig& out,
                     config::ErrorLatch& errors);

}  // namespace overline::relay
