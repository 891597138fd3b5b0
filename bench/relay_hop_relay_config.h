#pragma once
// The config of the relay under test: one line on 127.0.0.1:0, the fake
// neighbours as static neighbours (a direct neighbour is an implicit
// route), metrics off, mesh keys or insecure lab mode; everything else at
// its default (deploy/relay.example.yaml lists the keys).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/endpoint.h"
#include "common/types.h"

namespace overline::bench {

// A neighbour the bench impersonates, as the relay's config names it.
struct NeighbourEntry {
  NodeId node_id = kNoNode;
  Endpoint line;  // its one line: the fake neighbour's socket
};

// For --idle-streams: soft state that outlives the measurement, and room
// for every stream.
struct IdleStreamSettings {
  std::size_t max_streams = 0;
  std::uint64_t refresh_interval_ms = 0;
  std::uint64_t expiry_ms = 0;
};

struct RelaySetup {
  NodeId node_id = 1;
  std::vector<NeighbourEntry> neighbours;
  // Hex of the mesh secret (auth: {mesh_keys: [{epoch: 1, ...}]}); empty:
  // insecure_lab_mode.
  std::string mesh_secret_hex;
  std::optional<IdleStreamSettings> idle;
};

std::string relayConfigYaml(const RelaySetup& setup);

}  // namespace overline::bench
