#pragma once
// The relay config's optional `join:` section (relay_process_config.h has
// the schema) -> JoinPolicy.

#include "common/config/yaml_reader.h"
#include "relay/core/relay_config.h"

namespace overline::relay {

// Reads root's `join:` into `out`; leaves `out` as is (no verification)
// when the section is absent. Errors latch "join.<key>: <problem>".
void readJoinSection(const config::MapReader& root, JoinPolicy& out, config::ErrorLatch& errors);

}  // namespace overline::relay
