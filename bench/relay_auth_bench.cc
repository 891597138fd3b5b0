// overline-bench-auth: what relay-to-relay authentication costs one relay per
// forwarded packet, in the relay core itself (no sockets, no kernel): the
// noise-free part of the question overline-bench-relay-hop asks through a
// real relay process (auth vs lab mode), where this machine's scheduling
// noise is larger than the effect.
//
// A RelayCore (node 2) has an upstream neighbour (node 1) and a downstream
// neighbour (node 3) subscribed to a stream of node 1. The bench feeds it
// DATA packets as node 1 would send them and lets the sink swallow what it
// forwards to node 3, so one onDatagram is one transit hop: parse, (check
// the tag and the replay window,) dedup, rewrite, (tag for node 3,) send.
// It runs the same packets through a relay with mesh keys and one in
// insecure lab mode, alternating, --repeat times, and prints nanoseconds per
// forwarded packet (min / median / max) for both and the difference: the
// cost of authentication per hop in the core. Every loop is bounded.

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <vector>

#include "common/crypto/gmac.h"
#include "common/crypto/key_derivation.h"
#include "common/crypto/packet_auth.h"
#include "common/wire/packet.h"
#include "relay/core/relay_core.h"

namespace overline::bench {
namespace {

using SteadyClock = std::chrono::steady_clock;
using Bytes = std::vector<std::byte>;

constexpr NodeId kUp = 1;
constexpr NodeId kSelf = 2;
constexpr NodeId kDown = 3;
constexpr StreamId kStream = makeStreamId(kUp, 1);

Endpoint lineOf(NodeId node) { return Endpoint((10u << 24) | (node << 8) | 1u, 7000); }

// Swallows every packet; counts those to node 3.
class CountingSink : public relay::PacketSink {
 public:
  bool sendPacket(LineIndex, const Endpoint& to, std::span<const std::byte>) override {
    if (to == lineOf(kDown)) ++to_down;
    return true;
  }
  std::uint64_t to_down = 0;
};

std::vector<std::uint8_t> meshSecret() { return std::vector<std::uint8_t>(32, 0x5a); }

relay::RelayCoreConfig configFor(bool authenticated) {
  relay::RelayCoreConfig config;
  config.node_id = kSelf;
  config.line_count = 1;
  config.neighbours = {relay::NeighbourConfig{kUp, {lineOf(kUp)}}, relay::NeighbourConfig{kDown, {lineOf(kDown)}}};
  config.recovery.nack = false;  // the forwarding path alone (no retransmit buffer copy)
  if (authenticated) {
    config.auth.mesh_keys = {relay::MeshKey{1, meshSecret(), 0}};
  } else {
    config.auth.insecure_lab_mode = true;
  }
  return config;
}

// `packet` as `from` sends it to node 2: tagged with their pair key when
// authenticated.
Bytes fromNeighbour(NodeId from, wire::Header header, std::span<const std::byte> payload, bool authenticated,
                    std::uint64_t packet_number) {
  header.sender_node_id = from;
  wire::PacketBuffer buffer;
  std::size_t size = wire::encodePacket(header, payload, buffer);
  if (authenticated) {
    const crypto::Gmac key(crypto::derivePairKey(meshSecret(), 1, from, kSelf));
    size = crypto::sealPacket(key, 1, packet_number, buffer, size);
  }
  return Bytes(buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(size));
}

// Nanoseconds per forwarded packet over `packets` DATA packets of `payload_bytes`.
double run(bool authenticated, std::size_t packets, std::size_t payload_bytes) {
  CountingSink sink;
  relay::RelayCore core(configFor(authenticated), sink);
  TimeUs now = 1000 * kSecond;
  wire::Header subscribe;
  subscribe.type = wire::PacketType::kSubscribe;
  subscribe.stream_id = kStream;
  core.onDatagram(0, lineOf(kDown), fromNeighbour(kDown, subscribe, {}, authenticated, 1), now);

  // Built before the clock starts: the upstream's tagging is not this relay's cost.
  const Bytes payload(payload_bytes, std::byte{0x33});
  std::vector<Bytes> data;
  data.reserve(packets);
  wire::Header header;
  header.type = wire::PacketType::kData;
  header.stream_id = kStream;
  for (std::size_t i = 0; i < packets; ++i) {
    header.sequence = static_cast<std::uint32_t>(i);
    header.timestamp_us = 1 + i;
    data.push_back(fromNeighbour(kUp, header, payload, authenticated, 1 + i));
  }
  const auto start = SteadyClock::now();
  for (const Bytes& packet : data) core.onDatagram(0, lineOf(kUp), packet, now);
  const auto elapsed = std::chrono::duration<double, std::nano>(SteadyClock::now() - start).count();
  if (sink.to_down != packets) {
    std::fprintf(stderr, "overline-bench-auth: forwarded %llu of %zu packets\n",
                 static_cast<unsigned long long>(sink.to_down), packets);
    std::exit(1);
  }
  return elapsed / static_cast<double>(packets);
}

struct Spread {
  double min = 0, median = 0, max = 0;
};

Spread spreadOf(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return {values.front(), values[values.size() / 2], values.back()};
}

}  // namespace
}  // namespace overline::bench

int main(int argc, char** argv) {
  using namespace overline::bench;
  CLI::App app("overline-bench-auth: per-hop cost of relay-to-relay authentication in the relay core");
  std::size_t packets = 200'000;
  std::size_t payload_bytes = 1200;
  int repeat = 7;
  app.add_option("--packets", packets, "DATA packets per run")->check(CLI::Range(1000, 2'000'000));
  app.add_option("--payload-bytes", payload_bytes, "DATA payload size")->check(CLI::Range(0, 1200));
  app.add_option("--repeat", repeat, "runs of each mode, alternating")->check(CLI::Range(1, 50));
  CLI11_PARSE(app, argc, argv);

  std::vector<double> with_auth, lab, difference;
  for (int i = 0; i < repeat; ++i) {
    // Alternate which goes first, so warming caches favours neither.
    const bool auth_first = i % 2 == 0;
    const double a = auth_first ? run(true, packets, payload_bytes) : 0;
    const double l = run(false, packets, payload_bytes);
    const double b = auth_first ? a : run(true, packets, payload_bytes);
    with_auth.push_back(b);
    lab.push_back(l);
    difference.push_back(b - l);
  }
  const Spread a = spreadOf(with_auth);
  const Spread l = spreadOf(lab);
  const Spread d = spreadOf(difference);
  std::printf("relay core, one transit hop, %zu-byte payloads, %zu packets x %d runs (ns per forwarded packet, "
              "min / median / max)\n",
              payload_bytes, packets, repeat);
  std::printf("  authenticated (check upstream's tag + tag for downstream): %7.0f / %7.0f / %7.0f\n", a.min,
              a.median, a.max);
  std::printf("  insecure lab mode (no tags):                               %7.0f / %7.0f / %7.0f\n", l.min,
              l.median, l.max);
  std::printf("  cost of authentication per hop (paired difference):        %7.0f / %7.0f / %7.0f\n", d.min,
              d.median, d.max);
  std::printf("  in-core cost ratio (1 - lab/auth), median: %.1f%%  (an upper bound: the kernel's send and\n"
              "  receive, not counted here, add several microseconds per packet; see overline-bench-relay-hop)\n",
              100.0 * (1.0 - l.median / a.median));
  return 0;
}
