#include "bench/relay_hop_relay_config.h"

#include <sstream>

namespace overline::bench {

std::string relayConfigYaml(const RelaySetup& setup) {
  std::ostringstream yaml;
  yaml << "node_id: " << setup.node_id << "\n"
       << "region: bench\n"
       << "lines:\n"
       << "  - {name: a, bind: \"127.0.0.1:0\"}\n"
       << "neighbours:\n";
  for (const NeighbourEntry& n : setup.neighbours) {
    yaml << "  - {node_id: " << n.node_id << ", lines: [\"" << n.line.toString() << "\"]}\n";
  }
  yaml << "metrics: {listen: \"off\"}\n";
  if (setup.mesh_secret_hex.empty()) {
    yaml << "insecure_lab_mode: true\n";
  } else {
    yaml << "auth:\n"
         << "  mesh_keys:\n"
         << "    - {epoch: 1, secret_hex: \"" << setup.mesh_secret_hex << "\"}\n";
  }
  if (setup.idle) {
    yaml << "subscriptions: {refresh_interval_ms: " << setup.idle->refresh_interval_ms
         << ", expiry_ms: " << setup.idle->expiry_ms << "}\n"
         << "limits: {max_streams: " << setup.idle->max_streams << "}\n";
  }
  return yaml.str();
}

}  // namespace overline::bench
