#include "bench/loss_bench_systems.h"

#include <signal.h>

#include <fstream>
#include <vector>

#include "deploy/localmesh/child_process.h"
#include "deploy/localmesh/local_mesh.h"
#include "deploy/localmesh/mesh_spec.h"
#include "sdk/client.h"

namespace overline::bench {
namespace {

namespace lm = localmesh;

// A receive buffer shorter than this leaves no time for any retransmission;
// the bench refuses rather than print a meaningless row.
constexpr int kMinTunnelLatencyMs = 10;
constexpr std::uint32_t kLocalStreamId = 1;

std::string tailOf(const std::string& path, std::size_t max_lines = 8) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  std::string tail;
  for (std::size_t i = lines.size() > max_lines ? lines.size() - max_lines : 0; i < lines.size(); ++i) {
    tail += "  " + lines[i] + "\n";
  }
  return tail;
}

struct NamedChild {
  std::string name;
  std::string log_path;
  lm::ChildProcess process;
};

// One sender/receiver pair of a reference tool: the sender reads UDP on
// `input` and sends to `target` (a NatShim in front of the impaired
// segments); the receiver listens on `listen` and writes UDP to `output`.
struct Tunnel {
  Endpoint input, target, listen, output;
};

// srt-live-transmit's -t exit timer, and what the bench's own deadlines keep
// far below: a forgotten child still ends by itself.
constexpr int kChildExitTimerS = 3600;

std::vector<std::string> senderArgv(Reference reference, const Tools& tools, const Tunnel& tunnel, int latency_ms,
                                    int rtt_ms) {
  if (reference == Reference::kSrt) {
    return {tools.srt_live_transmit, "-t:" + std::to_string(kChildExitTimerS), "udp://" + tunnel.input.toString(),
            "srt://" + tunnel.target.toString() + "?mode=caller&latency=" + std::to_string(latency_ms)};
  }
  return {tools.ristsender,
          "-p", "1", "-S", "0", "-v", "4",
          "-i", "udp://@" + tunnel.input.toString(),
          "-o", "rist://" + tunnel.target.toString() + "?buffer=" + std::to_string(latency_ms) +
                    "&rtt-min=" + std::to_string(rtt_ms)};
}

std::vector<std::string> receiverArgv(Reference reference, const Tools& tools, const Tunnel& tunnel, int latency_ms,
                                      int rtt_ms) {
  if (reference == Reference::kSrt) {
    return {tools.srt_live_transmit, "-t:" + std::to_string(kChildExitTimerS),
            "srt://" + tunnel.listen.toString() + "?mode=listener&latency=" + std::to_string(latency_ms),
            "udp://" + tunnel.output.toString()};
  }
  return {tools.ristreceiver,
          "-p", "1", "-S", "0", "-v", "4",
          "-i", "rist://@" + tunnel.listen.toString() + "?buffer=" + std::to_string(latency_ms) +
                    "&rtt-min=" + std::to_string(rtt_ms),
          "-o", "udp://" + tunnel.output.toString()};
}

class ReferenceChain final : public SystemUnderTest {
 public:
  ReferenceChain(std::unique_ptr<UdpSink> sink, std::unique_ptr<UdpSource> source, Endpoint input)
      : sink_(std::move(sink)), source_(std::move(source)), input_(input) {}

  ~ReferenceChain() override {
    // Signal every child first so they stop together; each ChildProcess
    // then reaps its own (SIGKILL after 3 s).
    for (auto& child : children_) child.process.signal(SIGTERM);
  }

  std::string impairPath(const PathSpec& path) override { return segments_->impair(path); }
  bool send(std::span<const std::byte> payload) override { return source_->send(input_, payload); }
  std::optional<std::uint64_t> wireBytes() override { return segments_->wireBytes(); }
  std::string failure() override {
    for (auto& child : children_) {
      if (!child.process.running()) return child.name + " exited:\n" + tailOf(child.log_path);
    }
    return "";
  }

  void setSegments(std::unique_ptr<ImpairedSegments> segments) { segments_ = std::move(segments); }
  void addShim(std::unique_ptr<NatShim> shim) { shims_.push_back(std::move(shim)); }
  std::string startChild(const std::string& name, const std::vector<std::string>& argv, const std::string& log) {
    std::string error;
    auto process = lm::ChildProcess::start(argv, log, &error);
    if (!process) return name + ": " + error;
    children_.push_back({name, log, std::move(*process)});
    return "";
  }

 private:
  // Destroyed bottom-up: the children go first, the sink last.
  std::unique_ptr<UdpSink> sink_;
  std::unique_ptr<UdpSource> source_;
  Endpoint input_;
  std::unique_ptr<ImpairedSegments> segments_;
  std::vector<std::unique_ptr<NatShim>> shims_;
  std::vector<NamedChild> children_;
};

class OverlineChain final : public SystemUnderTest {
 public:
  explicit OverlineChain(std::unique_ptr<lm::LocalMesh> mesh) : mesh_(std::move(mesh)) {}
  ~OverlineChain() override {
    // Clients first (they unsubscribe), then the relays and the switchboard.
    subscriber_.reset();
    publisher_.reset();
  }

  // Every directed line pair between relays is one impaired direction: set
  // each line's outgoing pairs.
  std::string impairPath(const PathSpec& path) override {
    for (const auto& node : mesh_->spec().nodes) {
      for (int line = 0; line < mesh_->spec().lines_per_node; ++line) {
        const std::string command = "line-set " + lm::lineName(node.id, line) + " out " + path.knobArguments();
        if (const std::string answer = mesh_->impair(command); !answer.empty()) {
          return "switchboard: " + command + ": " + answer;
        }
      }
    }
    return "";
  }
  bool send(std::span<const std::byte> payload) override { return publisher_->send(stream_, payload); }
  std::optional<std::uint64_t> wireBytes() override { return offeredBytes(mesh_->impair("stats")); }
  std::string failure() override {
    for (const auto& node : mesh_->spec().nodes) {
      auto& relay = mesh_->relay(node.id);
      if (!relay.process || !relay.process->running()) {
        return "overline-relay " + std::to_string(node.id) + " exited:\n" + mesh_->logTail(node.id, 8);
      }
    }
    return "";
  }

  lm::LocalMesh& mesh() { return *mesh_; }
  void setClients(std::unique_ptr<sdk::Client> publisher, std::unique_ptr<sdk::Client> subscriber,
                  StreamId stream) {
    publisher_ = std::move(publisher);
    subscriber_ = std::move(subscriber);
    stream_ = stream;
  }

 private:
  std::unique_ptr<lm::LocalMesh> mesh_;
  std::unique_ptr<sdk::Client> publisher_;
  std::unique_ptr<sdk::Client> subscriber_;
  StreamId stream_ = 0;
};

}  // namespace

Result<std::unique_ptr<SystemUnderTest>, std::string> startReference(Reference reference, bool per_hop,
                                                                     const Tools& tools, const RunSpec& spec,
                                                                     ArrivalLog& log, std::string& note) {
  const int segments = spec.path.segments;
  const int tunnels = per_hop ? segments : 1;
  const int segments_per_tunnel = segments / tunnels;
  const int budget_ms = static_cast<int>(spec.budget_us / kMillisecond);
  // Each tunnel's receive buffer holds packets until its setting has passed
  // since the send (plus its transit): the settings plus the path's delay
  // must fit the budget, with a margin per buffer for timer slop.
  const int latency_ms = (budget_ms - spec.path.oneWayMs() - tunnels * spec.reference_margin_ms) / tunnels;
  if (latency_ms < kMinTunnelLatencyMs) {
    return Err{"budget " + std::to_string(budget_ms) + " ms leaves " + std::to_string(latency_ms) +
               " ms of receive buffer per tunnel (at least " + std::to_string(kMinTunnelLatencyMs) + ")"};
  }
  const int rtt_ms = 2 * segments_per_tunnel * spec.path.one_way_delay_ms;
  const std::string tool = reference == Reference::kSrt ? "srt-live-transmit" : "rist";
  note = reference == Reference::kSrt
             ? "srt-live-transmit caller -> listener, live mode, latency=" + std::to_string(latency_ms) + " ms"
             : "ristsender -> ristreceiver, main profile, buffer=" + std::to_string(latency_ms) +
                   " ms, rtt-min=" + std::to_string(rtt_ms) + " ms";
  note += per_hop ? " on each of " + std::to_string(tunnels) + " hops (one pair per segment)"
                  : ", one pair across all " + std::to_string(segments) + " segments";

  auto sink = UdpSink::open(log);
  if (!sink) return Err{sink.error()};
  auto source = UdpSource::open();
  if (!source) return Err{source.error()};

  // Addresses: tunnel k reads input[k] and writes to input[k+1] (the last
  // one to the sink); its segments run from its shim to its listener.
  std::vector<Tunnel> chain(static_cast<std::size_t>(tunnels));
  for (auto& tunnel : chain) {
    for (Endpoint* endpoint : {&tunnel.input, &tunnel.target, &tunnel.listen}) {
      auto picked = pickFreeUdpEndpoint();
      if (!picked) return Err{picked.error()};
      *endpoint = picked.value();
    }
  }
  for (std::size_t k = 0; k < chain.size(); ++k) {
    chain[k].output = k + 1 < chain.size() ? chain[k + 1].input : sink.value()->endpoint();
  }
  std::vector<SegmentAddresses> links;
  for (const auto& tunnel : chain) {
    auto segment_chain = chainedSegments(tunnel.target, tunnel.listen, segments_per_tunnel);
    if (!segment_chain) return Err{segment_chain.error()};
    links.insert(links.end(), segment_chain.value().begin(), segment_chain.value().end());
  }

  auto system = std::make_unique<ReferenceChain>(std::move(sink.value()), std::move(source.value()), chain[0].input);
  auto segments_process = ImpairedSegments::start(tools.bin_dir + "/overline-impair", spec.work_dir, links, spec.path.seed);
  if (!segments_process) return Err{segments_process.error()};
  if (std::string error = segments_process.value()->impair(spec.path.withoutLoss()); !error.empty()) return Err{error};
  system->setSegments(std::move(segments_process.value()));
  for (std::size_t k = 0; k < chain.size(); ++k) {
    auto shim = NatShim::open(chain[k].target, links[k * static_cast<std::size_t>(segments_per_tunnel)].a_side);
    if (!shim) return Err{shim.error()};
    system->addShim(std::move(shim.value()));
  }
  // Receivers (listeners) before senders (callers), so no call goes unanswered.
  for (std::size_t k = 0; k < chain.size(); ++k) {
    const std::string name = tool + " receiver " + std::to_string(k + 1);
    const std::string error = system->startChild(name, receiverArgv(reference, tools, chain[k], latency_ms, rtt_ms),
                                                 spec.work_dir + "/receiver" + std::to_string(k + 1) + ".log");
    if (!error.empty()) return Err{error};
  }
  for (std::size_t k = 0; k < chain.size(); ++k) {
    const std::string name = tool + " sender " + std::to_string(k + 1);
    const std::string error = system->startChild(name, senderArgv(reference, tools, chain[k], latency_ms, rtt_ms),
                                                 spec.work_dir + "/sender" + std::to_string(k + 1) + ".log");
    if (!error.empty()) return Err{error};
  }
  return std::unique_ptr<SystemUnderTest>(std::move(system));
}

Result<std::unique_ptr<SystemUnderTest>, std::string> startOverline(const Tools& tools, const RunSpec& spec,
                                                                    ArrivalLog& log, std::string& note) {
  lm::MeshSpec mesh_spec;
  const int relays = spec.path.segments + 1;
  for (int id = 1; id <= relays; ++id) {
    mesh_spec.nodes.push_back({static_cast<NodeId>(id), "r" + std::to_string(id)});
    if (id > 1) mesh_spec.links.emplace_back(static_cast<NodeId>(id - 1), static_cast<NodeId>(id));
  }
  mesh_spec.lines_per_node = 2;
  mesh_spec.impaired = true;
  lm::LocalMeshOptions options;
  options.bin_dir = tools.bin_dir;
  options.work_dir = spec.work_dir;
  auto mesh = lm::LocalMesh::start(mesh_spec, options);
  if (!mesh) return Err{"local mesh: " + mesh.error()};
  auto system = std::make_unique<OverlineChain>(std::move(mesh.value()));
  lm::LocalMesh& running = system->mesh();
  if (std::string error = system->impairPath(spec.path.withoutLoss()); !error.empty()) return Err{error};

  const NodeId first = mesh_spec.nodes.front().id;
  const NodeId last = mesh_spec.nodes.back().id;
  auto publisher = sdk::Client::connect(running.relay(first).lines.at(0));
  if (!publisher) return Err{"publisher: " + publisher.error()};
  sdk::PublishOptions publish_options;
  publish_options.latency_budget_us = spec.budget_us;
  auto stream = publisher.value()->publish(kLocalStreamId, publish_options);
  if (!stream) return Err{"publish: " + stream.error()};
  auto subscriber = sdk::Client::connect(running.relay(last).lines.at(0));
  if (!subscriber) return Err{"subscriber: " + subscriber.error()};
  sdk::SubscribeOptions subscribe_options;
  subscribe_options.default_latency_budget_us = spec.budget_us;
  const auto refused = subscriber.value()->subscribe(
      stream.value(),
      [&log](StreamId, const wire::Header&, std::span<const std::byte> payload, std::uint64_t) {
        log.record(payload, steadyNowUs());
      },
      subscribe_options);
  if (refused) return Err{"subscribe: " + *refused};
  system->setClients(std::move(publisher.value()), std::move(subscriber.value()), stream.value());

  note = "overline-relay chain 1-..-" + std::to_string(relays) + ", " + std::to_string(mesh_spec.lines_per_node) +
         " lines each, the switchboard impairing every relay-to-relay line pair; sdk::Client publisher on relay " +
         std::to_string(first) + " (latency budget " + std::to_string(spec.budget_us / kMillisecond) +
         " ms), subscriber on relay " + std::to_string(last) + " with in-order playout";
  return std::unique_ptr<SystemUnderTest>(std::move(system));
}

}  // namespace overline::bench
