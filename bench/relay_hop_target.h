#pragma once
// HopUnderTest: one target, started afresh for every phase, with its own
// sockets: the upstream neighbour U (node 2) that sends the load, the
// receivers D1..DK (nodes 3..), the hop between them and the service
// thread that reads their sockets.
//
//   direct      U -> D1: no hop; the base latency of sender and receiver.
//   forwarder   U -> reference forwarder -> D1..DK: the machine's limit.
//   relay auth  U -> overline-relay (node 1) -> D1..DK, with U and the Di
//   relay lab   its static neighbours, the stream homed at U (so the relay
//               subscribes to U), the relay's DATA going out in transit;
//               with mesh keys (every packet tagged and checked) or in
//               insecure lab mode.
//
// start() returns once DATA is known to reach every receiver (and, for a
// relay, once every fake neighbour has answered its probes).

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bench/relay_hop_cpu.h"
#include "bench/relay_hop_forwarder.h"
#include "bench/relay_hop_neighbour.h"
#include "bench/relay_hop_process.h"
#include "bench/relay_hop_relay_config.h"
#include "bench/relay_hop_sender.h"
#include "bench/relay_hop_service.h"

namespace overline::bench {

enum class TargetKind : std::uint8_t { kDirect, kForwarder, kRelayAuth, kRelayLab };
const char* targetName(TargetKind kind);

constexpr NodeId kUpstreamNode = 2;
constexpr NodeId kFirstDownstreamNode = 3;
// Homed at U: the relay's upstream for it is U.
constexpr StreamId kBenchStream = makeStreamId(kUpstreamNode, 1);

// What every target of a run shares.
struct BenchSetup {
  std::string relay_path;
  CpuPlan cpus;
  std::vector<std::uint8_t> mesh_secret;
  std::size_t payload_bytes = 1200;
};

// overline-relay on `config_yaml` (--config F --ready-file R in a temp dir).
Result<std::unique_ptr<HopProcess>, std::string> startRelay(const std::string& relay_path,
                                                            const std::string& config_yaml, std::optional<int> cpu);

class HopUnderTest {
 public:
  // `fanout` receivers (the direct path has always one).
  static Result<std::unique_ptr<HopUnderTest>, std::string> start(TargetKind kind, std::size_t fanout,
                                                                  const BenchSetup& setup);
  ~HopUnderTest();
  HopUnderTest(const HopUnderTest&) = delete;
  HopUnderTest& operator=(const HopUnderTest&) = delete;

  TargetKind kind() const { return kind_; }
  std::size_t receivers() const { return downstreams_.size(); }
  NeighbourService& service() { return *service_; }
  DataSender& sender() { return *sender_; }
  // The next `count` DATA sequences (contiguous across warm-up and phase:
  // the relay sees no gap between them).
  std::uint32_t takeSequences(std::size_t count);
  // CPU time the hop (relay or forwarder process) has used so far;
  // nullopt for the direct path.
  std::optional<std::uint64_t> hopCpuNs() const;
  // An error (with its log) when the hop process has exited.
  Status checkAlive();
  // For error messages: the hop process's log (empty on the direct path).
  std::string hopLog() const;

 private:
  explicit HopUnderTest(TargetKind kind) : kind_(kind) {}
  Status openNeighbours(std::size_t receivers, const MeshAuth& auth);
  Result<Endpoint, std::string> startHop(const BenchSetup& setup);
  Status startService();
  Status warmUp();

  const TargetKind kind_;
  std::uint32_t next_sequence_ = 0;
  // Destroyed last to first: the service thread stops, then the hop, then
  // the sockets close.
  std::unique_ptr<FakeNeighbour> upstream_;
  std::vector<std::unique_ptr<FakeNeighbour>> downstreams_;
  std::unique_ptr<HopProcess> hop_;  // the relay or the forwarder; none on the direct path
  std::unique_ptr<DataSender> sender_;
  std::unique_ptr<NeighbourService> service_;
};

}  // namespace overline::bench
