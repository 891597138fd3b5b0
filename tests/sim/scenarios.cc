#include "tests/sim/scenarios.h"

#include <cstdio>

namespace overline::sim::test {

Topology diamond(const relay::RelayCoreConfig& base, std::optional<impairment::ImpairmentSettings> link) {
  Topology topology;
  topology.nodes = {{1, 2}, {2, 2}, {3, 2}, {4, 2}};
  topology.links = {{1, 2, link}, {1, 3, link}, {2, 4, link}, {3, 4, link}};
  topology.routes = {
      {4, 1, 2, 3},
      {1, 4, 2, 3},
      {2, 3, 1, 4},
      {3, 2, 1, 4},
  };
  topology.base = base;
  return topology;
}

impairment::ImpairmentSettings linkSettings(DurationUs delay_us, DurationUs jitter_us, double loss) {
  impairment::ImpairmentSettings settings;
  settings.delay_us = delay_us;
  settings.jitter_us = jitter_us;
  settings.loss = loss;
  return settings;
}

std::optional<TimedEvent> firstEventAfter(const SimClient& client, sdk::SessionEventType type, TimeUs after_us) {
  for (const TimedEvent& timed : client.events()) {
    if (timed.at_us > after_us && timed.event.type == type) return timed;
  }
  return std::nullopt;
}

std::vector<std::uint64_t> relayFigures(const SimNetwork& network) {
  std::vector<std::uint64_t> figures;
  for (const NodeId node : network.relayIds()) {
    if (!network.isAlive(node)) continue;
    const relay::RelayCounters& c = network.relay(node).counters();
    figures.insert(figures.end(), {node, c.packets_received, c.bytes_received, c.packets_sent, c.bytes_sent,
                                   c.data_received, c.data_forwarded, c.subscribes_received, c.subscribes_sent,
                                   c.unsubscribes_received, c.unsubscribes_sent, c.downstreams_expired,
                                   c.clients_expired, c.redundant_copies_sent, c.probes_sent, c.probe_acks_sent,
                                   c.probe_acks_received, c.probe_bytes_sent, c.path_switches, c.failovers,
                                   c.failbacks});
    figures.insert(figures.end(), c.dropped.begin(), c.dropped.end());
    figures.insert(figures.end(), c.malformed.begin(), c.malformed.end());
  }
  return figures;
}

std::string describe(const SimSubscriber& subscriber) {
  const sdk::ReceiveSnapshot s = subscriber.stats().snapshot();
  char text[256];
  std::snprintf(text, sizeof text,
                "unique=%llu duplicates=%llu lost=%llu late=%llu largest_gap_ms=%.1f latency_p50_ms=%.1f "
                "p99_ms=%.1f max_ms=%.1f",
                static_cast<unsigned long long>(s.unique), static_cast<unsigned long long>(s.duplicates),
                static_cast<unsigned long long>(s.lost), static_cast<unsigned long long>(s.late),
                static_cast<double>(subscriber.largestGapUs()) / 1000.0,
                static_cast<double>(s.latency_p50_us) / 1000.0, static_cast<double>(s.latency_p99_us) / 1000.0,
                static_cast<double>(s.latency_max_us) / 1000.0);
  return text;
}

}  // namespace overline::sim::test
