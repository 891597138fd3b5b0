// overline-bench-fec: throughput of the FEC code path on one core.
//
// For k = 8 data blocks of 1,200 bytes and m = 2..8 parity blocks:
//   encode MB/s    ReedSolomon::encode(), data bytes in per second
//   decode MB/s    ReedSolomon::decode() with m data blocks lost (the worst
//                  case it can repair), data bytes out per second, matrix
//                  inversion included (it is redone for every group)
//   relay enc pps  FecEncoder::onDataSent() fed 1,200-byte DATA packets:
//                  parse, block copy, parity and FEC packet building, in
//                  DATA packets per second
//   relay dec pps  FecEncoder + FecDecoder: each group's DATA is encoded,
//                  m of them dropped, the rest and the m parity packets fed
//                  to the decoder, in DATA packets (received or recovered)
//                  per second
// Each figure is the best of --repeat runs of --ms milliseconds each.

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <vector>

#include "common/fec/reed_solomon.h"
#include "common/wire/packet.h"
#include "relay/core/fec_decoder.h"
#include "relay/core/fec_encoder.h"

namespace overline::bench {
namespace {

using SteadyClock = std::chrono::steady_clock;
using Bytes = std::vector<std::byte>;

constexpr std::size_t kDataBlocks = 8;
constexpr std::size_t kBlockBytes = 1200;

struct Options {
  int ms = 300;
  int repeat = 3;
};

// Runs `step` (which does `units` units of work) until `ms` have passed;
// returns units per second.
template <typename Step>
double rate(int ms, double units, Step step) {
  const auto start = SteadyClock::now();
  const auto deadline = start + std::chrono::milliseconds(ms);
  std::uint64_t iterations = 0;
  auto now = start;
  do {
    for (int i = 0; i < 16; ++i) step();
    iterations += 16;
    now = SteadyClock::now();
  } while (now < deadline);
  return static_cast<double>(iterations) * units / std::chrono::duration<double>(now - start).count();
}

template <typename Measure>
double best(const Options& options, Measure measure) {
  double result = 0;
  for (int r = 0; r < options.repeat; ++r) result = std::max(result, measure());
  return result;
}

Bytes randomBytes(std::size_t size, std::mt19937& rng) {
  Bytes out(size);
  for (auto& b : out) b = static_cast<std::byte>(rng() & 0xff);
  return out;
}

Bytes dataPacket(std::uint32_t sequence, const Bytes& payload) {
  wire::Header header;
  header.type = wire::PacketType::kData;
  header.stream_id = 0x0000000100000001;
  header.sender_node_id = 1;
  header.sequence = sequence;
  header.timestamp_us = sequence;
  Bytes out(wire::kHeaderBytes + payload.size());
  wire::encodePacket(header, payload, out);
  return out;
}

void run(const Options& options) {
  std::mt19937 rng(1);
  std::printf("k=%zu, %zu-byte blocks, best of %d x %d ms\n", kDataBlocks, kBlockBytes, options.repeat, options.ms);
  std::printf("%3s  %12s  %12s  %14s  %14s\n", "m", "encode MB/s", "decode MB/s", "relay enc pps", "relay dec pps");
  for (std::size_t m = 2; m <= 8; ++m) {
    const fec::ReedSolomon codec(kDataBlocks, m);
    std::vector<Bytes> blocks;
    for (std::size_t i = 0; i < kDataBlocks + m; ++i) blocks.push_back(randomBytes(kBlockBytes, rng));
    std::vector<std::span<const std::byte>> data(blocks.begin(), blocks.begin() + kDataBlocks);
    std::vector<std::span<std::byte>> parity;
    for (std::size_t j = 0; j < m; ++j) parity.emplace_back(blocks[kDataBlocks + j]);
    const double data_mb = kDataBlocks * kBlockBytes / 1e6;
    const double encode = best(options, [&] { return rate(options.ms, data_mb, [&] { codec.encode(data, parity); }); });

    // Lose the first m data blocks; decode from the rest and all parity.
    codec.encode(data, parity);
    std::vector<fec::IndexedBlock> present;
    for (std::size_t i = m; i < kDataBlocks + m; ++i) present.push_back({i, blocks[i]});
    std::vector<Bytes> rebuilt(m, Bytes(kBlockBytes));
    std::vector<std::span<std::byte>> outputs(kDataBlocks);
    for (std::size_t i = 0; i < m; ++i) outputs[i] = rebuilt[i];
    const double decode = best(options, [&] {
      return rate(options.ms, data_mb, [&] { (void)codec.decode(present, outputs); });
    });
    if (!std::equal(rebuilt[0].begin(), rebuilt[0].end(), blocks[0].begin())) {
      std::fprintf(stderr, "decode produced wrong data (m=%zu)\n", m);
      std::exit(1);
    }

    // Relay level: one group of k packets per step.
    std::vector<Bytes> packets;
    for (std::uint32_t s = 0; s < kDataBlocks; ++s) packets.push_back(dataPacket(s, randomBytes(kBlockBytes, rng)));
    const relay::FecProtection protection{static_cast<std::uint8_t>(kDataBlocks), static_cast<std::uint8_t>(m)};
    std::vector<relay::FecPacket> fec_out;
    const double relay_encode = best(options, [&] {
      relay::FecEncoder encoder(10 * kMillisecond);
      encoder.setProtection(protection);
      return rate(options.ms, kDataBlocks, [&] {
        fec_out.clear();
        for (const Bytes& packet : packets) encoder.onDataSent(packet, 0, fec_out);
      });
    });

    // Decoder: every step is a fresh group (new sequences) with m data lost.
    const double relay_decode = best(options, [&] {
      relay::FecEncoder encoder(10 * kMillisecond);
      encoder.setProtection(protection);
      relay::FecDecoder decoder;
      std::vector<relay::FecPacket> recovered;
      std::vector<Bytes> group(kDataBlocks);
      std::uint32_t sequence = 0;
      auto step = [&](bool check) {
        fec_out.clear();
        recovered.clear();
        for (std::size_t i = 0; i < kDataBlocks; ++i) {
          wire::Header header = wire::parsePacket(packets[i]).value().header;
          header.sequence = sequence++;
          group[i].resize(packets[i].size());
          wire::encodePacket(header, wire::parsePacket(packets[i]).value().payload, group[i]);
          encoder.onDataSent(group[i], 0, fec_out);
        }
        for (std::size_t i = m; i < kDataBlocks; ++i) decoder.onData(wire::parsePacket(group[i]).value(), 0, recovered);
        for (const relay::FecPacket& packet : fec_out) {
          decoder.onFec(wire::parsePacket(packet.view()).value(), 0, recovered);
        }
        if (check && recovered.size() != m) {
          std::fprintf(stderr, "relay decoder recovered %zu of %zu\n", recovered.size(), m);
          std::exit(1);
        }
      };
      step(false);  // the first parity activates the decoder; it stores DATA only from then on
      return rate(options.ms, kDataBlocks, [&] { step(true); });
    });
    std::printf("%3zu  %12.0f  %12.0f  %14.0f  %14.0f\n", m, encode, decode, relay_encode, relay_decode);
  }
}

}  // namespace
}  // namespace overline::bench

int main(int argc, char** argv) {
  overline::bench::Options options;
  CLI::App app{"overline-bench-fec: Reed-Solomon (ISA-L) and relay FEC throughput, k=8, m=2..8, 1,200-byte blocks"};
  app.add_option("--ms", options.ms, "milliseconds per measurement")->capture_default_str()->check(CLI::Range(10, 10000));
  app.add_option("--repeat", options.repeat, "measurements per figure (the best is printed)")
      ->capture_default_str()
      ->check(CLI::Range(1, 100));
  CLI11_PARSE(app, argc, argv);
  overline::bench::run(options);
  return 0;
}
