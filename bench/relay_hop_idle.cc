#include "bench/relay_hop_idle.h"

#include <algorithm>
#include <chrono>
#include <thread>

namespace overline::bench {
namespace {

constexpr NodeId kRelayNode = 1;
constexpr std::uint64_t kRefreshIntervalMs = 300'000;
constexpr std::uint64_t kExpiryMs = 600'000;
constexpr std::size_t kProbesBeforeStart = 5;
constexpr DurationUs kProbesTimeoutUs = 5 * kSecond;
// SUBSCRIBEs go out kSubscribeBatch at a time, with at most kInFlight sent
// and not yet seen at U, so neither the relay's nor U's socket overflows.
constexpr std::size_t kSubscribeBatch = 512;
constexpr std::size_t kInFlight = 2048;
// How long U may see no progress before the batch is given up on.
constexpr DurationUs kSubscribeStallUs = 5 * kSecond;
// SUBSCRIBEs the relay dropped are sent again this many times at most.
constexpr int kResendRounds = 3;
constexpr DurationUs kResendWaitUs = 2 * kSecond;
// How often the idle measurement looks at the relay and the interrupt flag.
constexpr auto kIdleCheckInterval = std::chrono::milliseconds(100);

StreamId idleStream(std::size_t i) { return makeStreamId(kUpstreamNode, static_cast<std::uint32_t>(i + 1)); }

// The running relay and its two fake neighbours.
struct IdleRig {
  std::unique_ptr<FakeNeighbour> upstream;
  std::unique_ptr<FakeNeighbour> downstream;
  std::unique_ptr<HopProcess> relay;
  std::unique_ptr<NeighbourService> service;  // declared last: stops first

  ~IdleRig() {
    service.reset();
    relay.reset();
  }
};

Result<std::unique_ptr<IdleRig>, std::string> startRig(const BenchSetup& setup, std::size_t streams) {
  auto rig = std::make_unique<IdleRig>();
  const MeshAuth auth{true, setup.mesh_secret};
  auto upstream = FakeNeighbour::open(kUpstreamNode, auth);
  if (!upstream) return Err(upstream.error());
  rig->upstream = std::move(upstream.value());
  auto downstream = FakeNeighbour::open(kFirstDownstreamNode, auth);
  if (!downstream) return Err(downstream.error());
  rig->downstream = std::move(downstream.value());

  RelaySetup relay_setup;
  relay_setup.node_id = kRelayNode;
  relay_setup.neighbours = {{rig->upstream->id(), rig->upstream->line()},
                            {rig->downstream->id(), rig->downstream->line()}};
  relay_setup.mesh_secret_hex = toHex(setup.mesh_secret);
  relay_setup.idle = IdleStreamSettings{streams + 1024, kRefreshIntervalMs, kExpiryMs};
  auto relay = startRelay(setup.relay_path, relayConfigYaml(relay_setup), setup.cpus.hop_cpu);
  if (!relay) return Err(relay.error());
  rig->relay = std::move(relay.value());
  rig->upstream->attachTo(rig->relay->nodeId(), rig->relay->address());
  rig->downstream->attachTo(rig->relay->nodeId(), rig->relay->address());

  auto service = NeighbourService::start({rig->upstream.get(), {rig->downstream.get()}, true});
  if (!service) return Err(service.error());
  rig->service = std::move(service.value());
  if (!rig->service->waitProbesAnswered(kProbesBeforeStart, kProbesTimeoutUs)) {
    return Err("the relay did not probe both fake neighbours within 5 s; its log:\n" + rig->relay->log());
  }
  return rig;
}

// The relay's CPU time over `duration` of idleness, in % of one core.
Result<double, std::string> idleCpuPercent(IdleRig& rig, DurationUs duration) {
  const TimeUs start_us = nowUs();
  const std::uint64_t start_ns = processCpuNs(rig.relay->pid());
  while (nowUs() - start_us < duration) {
    if (interrupted()) return Err(std::string(kInterruptedText));
    if (!rig.relay->running()) return Err("the relay exited; its log:\n" + rig.relay->log());
    std::this_thread::sleep_for(std::min<std::chrono::microseconds>(
        kIdleCheckInterval, std::chrono::microseconds(duration - (nowUs() - start_us))));
  }
  const std::uint64_t cpu_ns = processCpuNs(rig.relay->pid()) - start_ns;
  const TimeUs elapsed_us = nowUs() - start_us;
  return 100.0 * static_cast<double>(cpu_ns) / (static_cast<double>(elapsed_us) * 1000.0);
}

// Sends SUBSCRIBE for every stream from the downstream neighbour, keeping
// at most kInFlight ahead of what U has received.
Status subscribeAll(IdleRig& rig, std::size_t streams) {
  std::vector<StreamId> batch;
  for (std::size_t sent = 0; sent < streams;) {
    if (interrupted()) return Err(std::string(kInterruptedText));
    batch.clear();
    for (std::size_t i = sent; i < std::min(streams, sent + kSubscribeBatch); ++i) batch.push_back(idleStream(i));
    rig.downstream->subscribe(batch);
    sent += batch.size();
    const std::size_t enough = sent > kInFlight ? sent - kInFlight : 0;
    if (!rig.service->waitSubscribedAtUpstream(enough, kSubscribeStallUs)) {
      return Err("the relay stopped subscribing upstream at " + std::to_string(rig.service->subscribedAtUpstream()) +
                 " of " + std::to_string(sent) + " streams");
    }
  }
  return succeeded();
}

// Sends SUBSCRIBE again for streams U has not seen (the relay may have
// dropped some), a few rounds at most.
void resendMissing(IdleRig& rig, std::size_t streams) {
  for (int round = 0; round < kResendRounds && !interrupted(); ++round) {
    if (rig.service->waitSubscribedAtUpstream(streams, kResendWaitUs)) return;
    std::vector<StreamId> missing;
    for (std::size_t i = 0; i < streams; ++i) {
      if (!rig.service->subscribedAtUpstream(idleStream(i))) missing.push_back(idleStream(i));
    }
    rig.downstream->subscribe(missing);
  }
  rig.service->waitSubscribedAtUpstream(streams, kResendWaitUs);
}

}  // namespace

Result<IdleFigures, std::string> measureIdleStreams(const BenchSetup& setup, std::size_t streams, DurationUs idle) {
  auto rig = startRig(setup, streams);
  if (!rig) return Err(rig.error());
  IdleFigures figures;
  figures.streams = streams;
  figures.measured_seconds = static_cast<double>(idle) / 1e6;
  auto baseline = idleCpuPercent(**rig, idle);
  if (!baseline) return Err(baseline.error());
  figures.baseline_cpu_percent = *baseline;

  const TimeUs subscribe_start_us = nowUs();
  if (auto s = subscribeAll(**rig, streams); !s) return Err(s.error());
  resendMissing(**rig, streams);
  figures.subscribe_seconds = static_cast<double>(nowUs() - subscribe_start_us) / 1e6;
  figures.subscribed = (*rig)->service->subscribedAtUpstream();
  if (interrupted()) return Err(std::string(kInterruptedText));

  auto with_streams = idleCpuPercent(**rig, idle);
  if (!with_streams) return Err(with_streams.error());
  figures.idle_cpu_percent = *with_streams;
  return figures;
}

}  // namespace overline::bench
