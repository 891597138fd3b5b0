#include "bench/relay_hop_phases.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace overline::bench {
namespace {

// Bound on the sending part of a latency phase, whatever the packet count.
constexpr DurationUs kMaxPacedSendUs = 20 * kSecond;
// After the last send: the phase ends once every copy has arrived, or none
// has for kQuietUs, and at the latest after kDrainTimeoutUs.
constexpr DurationUs kQuietUs = 100 * kMillisecond;
constexpr DurationUs kDrainTimeoutUs = 2 * kSecond;
// A full window waits while receiver 0 reads more; after this long without
// any progress the next chunk goes anyway (the DATA in flight were lost, or
// the hop was not scheduled for that long).
constexpr DurationUs kWindowStallUs = 100 * kMillisecond;

// First to last arrival over all receivers: kernel times where every
// receiver has them, else the times the service read the packets.
double arrivalWindowSeconds(const PhaseTally& tally) {
  std::int64_t first_ns = std::numeric_limits<std::int64_t>::max();
  std::int64_t last_ns = 0;
  TimeUs first_us = std::numeric_limits<TimeUs>::max();
  TimeUs last_us = 0;
  bool kernel_times = true;
  for (const DownstreamTally& d : tally.downstreams) {
    if (d.delivered == 0) continue;
    kernel_times = kernel_times && d.first_kernel_ns != 0 && d.last_kernel_ns != 0;
    first_ns = std::min(first_ns, d.first_kernel_ns);
    last_ns = std::max(last_ns, d.last_kernel_ns);
    first_us = std::min(first_us, d.first_read_us);
    last_us = std::max(last_us, d.last_read_us);
  }
  if (last_us == 0) return 0;
  if (kernel_times) return static_cast<double>(last_ns - first_ns) / 1e9;
  return static_cast<double>(last_us - first_us) / 1e6;
}

double perSecond(double count, double seconds) { return seconds > 0 ? count / seconds : 0; }

void addTally(const PhaseTally& tally, ThroughputFigures& figures) {
  for (const DownstreamTally& d : tally.downstreams) {
    figures.delivered += d.delivered;
    figures.dropped += d.socket_drops;
    figures.duplicates += d.duplicates;
    figures.rejected += d.rejected;
  }
  figures.fec_packets = tally.fec_at_downstreams;
  figures.nack_packets = tally.nacks_at_upstream;
}

// The window counts copies out: with K receivers, window / K DATA in
// flight, sent in chunks of at most half that so that the hop's queue never
// runs dry between two chunks. 0: no window, chunks as large as they come.
struct WindowPlan {
  std::size_t in_flight = 0;  // 0: no limit
  std::size_t max_chunk = 0;
};

WindowPlan planWindow(std::size_t window, std::size_t receivers, std::size_t packets) {
  if (window == 0) return {0, packets};
  const std::size_t in_flight = std::max<std::size_t>(window / receivers, 2);
  return {in_flight, in_flight / 2};
}

// Before a chunk: waits until it fits the window, as long as receiver 0
// makes progress (a slow hop is waited for, lost DATA are not: after
// kWindowStallUs without progress the chunk goes, counted in `stalls`).
// Stops the sending when the hop has died.
DataSender::ChunkGate windowGate(HopUnderTest& hop, std::size_t in_flight, std::size_t& stalls) {
  return [&hop, in_flight, &stalls](std::size_t sent_so_far, std::size_t chunk) {
    if (in_flight == 0 || sent_so_far + chunk <= in_flight) return true;
    const std::size_t needed = sent_so_far + chunk - in_flight;
    std::size_t progress = hop.service().progress();
    while (!hop.service().waitProgress(needed, kWindowStallUs)) {
      const std::size_t now = hop.service().progress();
      if (now == progress) {
        ++stalls;
        return hop.checkAlive().ok();  // the phase reports the dead hop
      }
      progress = now;
    }
    return true;
  };
}

// When the last phase DATA was read at any receiver (bench clock).
TimeUs lastReadUs(const PhaseTally& tally) {
  TimeUs last_us = 0;
  for (const DownstreamTally& d : tally.downstreams) last_us = std::max(last_us, d.last_read_us);
  return last_us;
}

ThroughputFigures throughputFigures(const SendReport& sent, const PhaseTally& tally, std::size_t receivers,
                                    std::optional<std::uint64_t> hop_cpu_ns) {
  ThroughputFigures figures;
  figures.sent = sent.sent;
  figures.offered_pps =
      perSecond(static_cast<double>(sent.sent), static_cast<double>(sent.end_us - sent.start_us) / 1e6);
  addTally(tally, figures);
  figures.window_s = arrivalWindowSeconds(tally);
  figures.out_pps = perSecond(static_cast<double>(figures.delivered + figures.dropped), figures.window_s);
  figures.delivered_pps = perSecond(static_cast<double>(figures.delivered), figures.window_s);
  figures.input_pps = figures.out_pps / static_cast<double>(receivers);
  const TimeUs busy_us = lastReadUs(tally) - sent.start_us;
  if (hop_cpu_ns && busy_us > 0) {
    figures.hop_cpu_percent = 100.0 * static_cast<double>(*hop_cpu_ns) / (static_cast<double>(busy_us) * 1000.0);
    if (figures.hop_cpu_percent > 0) figures.out_per_cpu_second = figures.out_pps * 100.0 / figures.hop_cpu_percent;
  }
  return figures;
}

}  // namespace

Result<ThroughputFigures, std::string> measureThroughput(HopUnderTest& hop, std::size_t packets, std::size_t window,
                                                         DurationUs max_send_us) {
  const std::uint32_t first = hop.takeSequences(packets);
  if (auto s = hop.service().beginPhase({kBenchStream, first, packets, false, false}); !s) return Err(s.error());
  const std::optional<std::uint64_t> cpu_before_ns = hop.hopCpuNs();
  const WindowPlan plan = planWindow(window, hop.receivers(), packets);
  std::size_t stalls = 0;
  const SendReport sent =
      hop.sender().sendBackToBack(first, packets, plan.max_chunk, max_send_us, windowGate(hop, plan.in_flight, stalls));
  hop.service().waitPhaseDrained(sent.sent * hop.receivers(), kQuietUs, kDrainTimeoutUs);
  const std::optional<std::uint64_t> cpu_after_ns = hop.hopCpuNs();
  auto tally = hop.service().endPhase();
  if (!tally) return Err(tally.error());
  if (auto s = hop.checkAlive(); !s) return Err(s.error());
  if (interrupted()) return Err(std::string(kInterruptedText));

  std::optional<std::uint64_t> hop_cpu_ns;
  if (cpu_before_ns && cpu_after_ns) hop_cpu_ns = *cpu_after_ns - *cpu_before_ns;
  ThroughputFigures figures = throughputFigures(sent, *tally, hop.receivers(), hop_cpu_ns);
  figures.window_stalls = stalls;
  figures.gso = hop.sender().usesGso();
  return figures;
}

Result<LatencyFigures, std::string> measureLatency(HopUnderTest& hop, std::size_t packets, double rate_pps) {
  const std::uint32_t first = hop.takeSequences(packets);
  if (auto s = hop.service().beginPhase({kBenchStream, first, packets, true, true}); !s) return Err(s.error());
  const SendReport sent = hop.sender().sendPaced(first, packets, rate_pps, kMaxPacedSendUs);
  hop.service().waitPhaseDrained(sent.sent * hop.receivers(), kQuietUs, kDrainTimeoutUs);
  auto tally = hop.service().endPhase();
  if (!tally) return Err(tally.error());
  if (auto s = hop.checkAlive(); !s) return Err(s.error());
  if (interrupted()) return Err(std::string(kInterruptedText));

  LatencyFigures figures;
  figures.rate_pps = rate_pps;
  figures.sent = sent.sent;
  figures.received = tally->downstreams.front().delivered;
  for (const DownstreamTally& d : tally->downstreams) figures.rejected += d.rejected;
  figures.p50_us = percentile(tally->latencies_us, 0.50);
  figures.p99_us = percentile(tally->latencies_us, 0.99);
  return figures;
}

DurationUs percentile(std::vector<DurationUs> samples, double fraction) {
  if (samples.empty()) return 0;
  const auto rank = static_cast<std::size_t>(std::ceil(fraction * static_cast<double>(samples.size())));
  const auto nth = samples.begin() + static_cast<std::ptrdiff_t>(std::max<std::size_t>(rank, 1) - 1);
  std::nth_element(samples.begin(), nth, samples.end());
  return *nth;
}

}  // namespace overline::bench
