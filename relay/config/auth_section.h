#pragma once
// The relay config's `auth:` section and `insecure_lab_mode:` key
// (relay_process_config.h has the schema) -> AuthConfig's mesh keys.

#include "common/config/yaml_reader.h"
#include "relay/core/relay_config.h"

namespace overline::relay {

// Reads root's `auth:` and `insecure_lab_mode:` into `out`. Exactly one of
// them must be given: a relay never runs unauthenticated by omission.
// Errors latch "auth.mesh_keys[0].secret_hex: <problem>" and the like.
void readAuthSection(config::MapReader& root, AuthConfig& out, config::ErrorLatch& errors);

}  // namespace overline::relay
