#pragma once
// Shared pieces of the scenario tests: the diamond topology and a printable
// summary of a run's figures.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/impairment/impairment_settings.h"
#include "relay/core/relay_config.h"
#include "simulations/sim_clients.h"
#include "simulations/sim_network.h"
#include "simulations/topology.h"

namespace overline::sim::test {

// Four relays with two lines each:
//
//          1
//         / \    links 1-2, 1-3, 2-4, 3-4
//        2   3
//         \ /    publishers mostly join 1 (streams originate there)
//          4
//
// 4 reaches 1 through 2, backup 3; 1 reaches 4 the same way; 2 and 3 reach
// each other through 1, backup 4. Every link uses `link` (the network's
// default path when nullopt).
Topology diamond(const relay::RelayCoreConfig& base = {},
                 std::optional<impairment::ImpairmentSettings> link = std::nullopt);

// Settings of a link with this delay, jitter and random loss.
impairment::ImpairmentSettings linkSettings(DurationUs delay_us, DurationUs jitter_us, double loss);

// The first event of `type` that `client` reported after `after_us`, or nullopt.
std::optional<TimedEvent> firstEventAfter(const SimClient& client, sdk::SessionEventType type, TimeUs after_us);

// Every RelayCounters figure of every live relay, flattened in a fixed order
// (for exact comparison of two runs).
std::vector<std::uint64_t> relayFigures(const SimNetwork& network);

// "unique=.. duplicates=.. lost=.. late=.. largest_gap_ms=.. latency_p50_ms=.. p99=..".
std::string describe(const SimSubscriber& subscriber);

}  // namespace overline::sim::test
