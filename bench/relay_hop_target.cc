#include "bench/relay_hop_target.h"

#include "bench/relay_hop_forwarder.h"

namespace overline::bench {
namespace {

constexpr NodeId kRelayNode = 1;
// A relay's link is UP after 5 consecutive ACKs (probing.up_after_acks);
// wait for that many answers per neighbour before sending DATA.
constexpr std::size_t kProbesBeforeData = 5;
constexpr DurationUs kProbesTimeoutUs = 5 * kSecond;
// Warm-up: one DATA per interval until every receiver has accepted one.
constexpr DurationUs kWarmUpIntervalUs = 10 * kMillisecond;
constexpr DurationUs kWarmUpTimeoutUs = 10 * kSecond;

bool isRelay(TargetKind kind) { return kind == TargetKind::kRelayAuth || kind == TargetKind::kRelayLab; }

}  // namespace

Result<std::unique_ptr<HopProcess>, std::string> startRelay(const std::string& relay_path,
                                                            const std::string& config_yaml, std::optional<int> cpu) {
  return HopProcess::start({relay_path, "--config", "{dir}/relay.yaml"}, {{"relay.yaml", config_yaml}}, cpu);
}

const char* targetName(TargetKind kind) {
  switch (kind) {
    case TargetKind::kDirect:
      return "direct";
    case TargetKind::kForwarder:
      return "forwarder";
    case TargetKind::kRelayAuth:
      return "relay auth";
    case TargetKind::kRelayLab:
      return "relay lab";
  }
  return "?";
}

Result<std::unique_ptr<HopUnderTest>, std::string> HopUnderTest::start(TargetKind kind, std::size_t fanout,
                                                                       const BenchSetup& setup) {
  std::unique_ptr<HopUnderTest> hop(new HopUnderTest(kind));
  const MeshAuth auth{kind == TargetKind::kRelayAuth, setup.mesh_secret};
  if (auto s = hop->openNeighbours(kind == TargetKind::kDirect ? 1 : fanout, auth); !s) return Err(s.error());
  const auto destination = hop->startHop(setup);
  if (!destination) return Err(destination.error());
  hop->sender_ = std::make_unique<DataSender>(*hop->upstream_, *destination, kBenchStream, setup.payload_bytes);
  if (auto s = hop->startService(); !s) return Err(s.error());
  if (auto s = hop->warmUp(); !s) return Err(s.error());
  return hop;
}

HopUnderTest::~HopUnderTest() {
  // Members go in reverse order; spelled out for the reader: the service
  // thread first (it uses the neighbours), then the hop.
  service_.reset();
  hop_.reset();
}

Status HopUnderTest::openNeighbours(std::size_t receivers, const MeshAuth& auth) {
  auto upstream = FakeNeighbour::open(kUpstreamNode, auth);
  if (!upstream) return Err(upstream.error());
  upstream_ = std::move(upstream.value());
  for (std::size_t i = 0; i < receivers; ++i) {
    auto downstream = FakeNeighbour::open(kFirstDownstreamNode + static_cast<NodeId>(i), auth);
    if (!downstream) return Err(downstream.error());
    downstreams_.push_back(std::move(downstream.value()));
  }
  return succeeded();
}

// Starts the hop; returns where the sender sends.
Result<Endpoint, std::string> HopUnderTest::startHop(const BenchSetup& setup) {
  switch (kind_) {
    case TargetKind::kDirect:
      return downstreams_.front()->line();
    case TargetKind::kForwarder: {
      std::vector<Endpoint> destinations;
      for (const auto& d : downstreams_) destinations.push_back(d->line());
      auto forwarder = startReferenceForwarder(destinations, setup.cpus.hop_cpu);
      if (!forwarder) return Err(forwarder.error());
      hop_ = std::move(forwarder.value());
      return hop_->address();
    }
    case TargetKind::kRelayAuth:
    case TargetKind::kRelayLab:
      break;
  }
  RelaySetup relay_setup;
  relay_setup.node_id = kRelayNode;
  relay_setup.neighbours.push_back({upstream_->id(), upstream_->line()});
  for (const auto& d : downstreams_) relay_setup.neighbours.push_back({d->id(), d->line()});
  if (kind_ == TargetKind::kRelayAuth) relay_setup.mesh_secret_hex = toHex(setup.mesh_secret);
  auto relay = startRelay(setup.relay_path, relayConfigYaml(relay_setup), setup.cpus.hop_cpu);
  if (!relay) return Err(relay.error());
  hop_ = std::move(relay.value());
  upstream_->attachTo(hop_->nodeId(), hop_->address());
  for (const auto& d : downstreams_) d->attachTo(hop_->nodeId(), hop_->address());
  return hop_->address();
}

Status HopUnderTest::startService() {
  NeighbourService::Roles roles;
  roles.upstream = upstream_.get();
  for (const auto& d : downstreams_) roles.downstreams.push_back(d.get());
  roles.relay = isRelay(kind_);
  auto service = NeighbourService::start(std::move(roles));
  if (!service) return Err(service.error());
  service_ = std::move(service.value());
  return succeeded();
}

Status HopUnderTest::warmUp() {
  if (isRelay(kind_)) {
    service_->keepSubscribed({kBenchStream});
    if (!service_->waitProbesAnswered(kProbesBeforeData, kProbesTimeoutUs)) {
      return Err(interrupted() ? std::string(kInterruptedText)
                               : "the relay did not probe every fake neighbour " + std::to_string(kProbesBeforeData) +
                                     " times within 5 s; its log:\n" + hopLog());
    }
  }
  const TimeUs deadline_us = nowUs() + kWarmUpTimeoutUs;
  while (nowUs() < deadline_us && !interrupted()) {
    sender_->sendOne(takeSequences(1));
    if (service_->waitDataAtEveryDownstream(kWarmUpIntervalUs)) return succeeded();
  }
  if (interrupted()) return Err(std::string(kInterruptedText));
  return Err("DATA did not reach every receiver within 10 s" +
             (isRelay(kind_) ? "; the relay's log:\n" + hopLog() : std::string()));
}

std::uint32_t HopUnderTest::takeSequences(std::size_t count) {
  const std::uint32_t first = next_sequence_;
  next_sequence_ += static_cast<std::uint32_t>(count);
  return first;
}

std::optional<std::uint64_t> HopUnderTest::hopCpuNs() const {
  if (!hop_) return std::nullopt;
  return processCpuNs(hop_->pid());
}

Status HopUnderTest::checkAlive() {
  if (!hop_ || hop_->running()) return succeeded();
  return Err(std::string(targetName(kind_)) + " exited during the measurement; its log:\n" + hop_->log());
}

std::string HopUnderTest::hopLog() const { return hop_ ? hop_->log() : std::string(); }

}  // namespace overline::bench
