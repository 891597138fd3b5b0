// What FEC alone buys: 10,000 DATA packets at 1,000 packets/s through
// FecEncoder -> an impaired link (common/impairment, seeded) -> FecDecoder,
// with the protection FecPolicy picks for the measured loss. No NACK here:
// the residual is what NACK (or nothing) would still have to repair. The
// figures are printed (run the binary with -s or look at the test output)
// and quoted in docs/architecture.md.

#include <catch2/catch.hpp>
#include <cstdio>
#include <vector>

#include "common/impairment/link_impairment.h"
#include "fec_test_util.h"
#include "relay/core/fec_decoder.h"
#include "relay/core/fec_encoder.h"
#include "relay/core/fec_policy.h"

namespace overline::relay {
namespace {

using namespace fec_test;

constexpr std::uint32_t kPackets = 10'000;
constexpr DurationUs kInterval = kMillisecond;  // 1,000 packets/s
constexpr std::size_t kPayloadBytes = 1000;

struct Outcome {
  double data_loss = 0;  // DATA packets the link dropped / sent
  double residual = 0;   // DATA packets neither delivered nor recovered / sent
  double overhead = 0;   // FEC wire bytes / DATA wire bytes
};

Outcome simulate(const impairment::ImpairmentSettings& settings, FecProtection protection, std::uint64_t seed) {
  FecEncoder encoder(10 * kMillisecond);
  encoder.setProtection(protection);
  FecDecoder decoder;
  impairment::LinkImpairment link(settings, seed);
  std::vector<bool> have(kPackets, false);
  std::vector<FecPacket> fec_out;
  std::vector<FecPacket> recovered;
  std::uint64_t data_bytes = 0;
  std::uint32_t data_lost = 0;
  auto collect = [&] {
    for (const FecPacket& packet : recovered) {
      const auto view = wire::parsePacket(packet.view());
      REQUIRE(view.ok());
      REQUIRE(view->header.sequence < kPackets);
      have[view->header.sequence] = true;
    }
    recovered.clear();
  };
  for (std::uint32_t s = 0; s <= kPackets; ++s) {
    const TimeUs now = s * kInterval;
    fec_out.clear();
    if (s < kPackets) {
      const Bytes packet = dataPacket(s, kPayloadBytes);
      data_bytes += packet.size();
      encoder.onDataSent(packet, now, fec_out);
      if (link.admit(now, packet.size()).delivered()) {
        have[s] = true;
        decoder.onData(view(packet), now, recovered);
      } else {
        ++data_lost;
      }
    }
    encoder.onTick(now + (s == kPackets ? kSecond : 0), fec_out);  // the last call flushes
    for (const FecPacket& packet : fec_out) {
      if (link.admit(now, packet.size).delivered()) decoder.onFec(view(Bytes(packet.view().begin(), packet.view().end())), now, recovered);
    }
    decoder.onTick(now);
    collect();
  }
  std::uint32_t missing = 0;
  for (bool h : have) missing += h ? 0 : 1;
  return {static_cast<double>(data_lost) / kPackets, static_cast<double>(missing) / kPackets,
          static_cast<double>(encoder.counters().fec_bytes) / static_cast<double>(data_bytes)};
}

impairment::ImpairmentSettings randomLoss(double loss) {
  impairment::ImpairmentSettings settings;
  settings.loss = loss;
  return settings;
}

impairment::ImpairmentSettings burstLoss(double loss, double burst) {
  impairment::ImpairmentSettings settings;
  settings.burst = impairment::GilbertElliott::fromMeanLoss(loss, burst).value();
  return settings;
}

void report(const char* name, FecProtection protection, const Outcome& outcome) {
  std::printf("fec sim %-26s k=%-2d m=%-2d  link loss %6.2f%%  residual %6.3f%%  overhead %5.1f%%\n", name,
              protection.k, protection.m, 100 * outcome.data_loss, 100 * outcome.residual, 100 * outcome.overhead);
}

// 40 ms RTT: a 400 ms budget leaves NACK room (6.7 rounds), 100 ms does not.
FecProtection policyFor(double loss, DurationUs budget_us) {
  return fecTarget({loss, 40 * kMillisecond, budget_us, 1000.0}, FecPolicyConfig{}, false);
}

TEST_CASE("FEC cuts random loss well below the link's; bursts need parity as long as the burst") {
  struct Case {
    const char* name;
    impairment::ImpairmentSettings settings;
    double loss;
    FecProtection protection;
    double max_residual_share;  // residual / the link's actual loss must stay below this
  };
  // With NACK room the policy adds less parity and leaves the rest to NACK.
  const Case cases[] = {
      {"30% random, NACK room", randomLoss(0.30), 0.30, policyFor(0.30, 400 * kMillisecond), 0.50},
      {"30% random, no NACK room", randomLoss(0.30), 0.30, policyFor(0.30, 100 * kMillisecond), 0.25},
      {"10% random, NACK room", randomLoss(0.10), 0.10, policyFor(0.10, 400 * kMillisecond), 0.30},
      {"10% random, no NACK room", randomLoss(0.10), 0.10, policyFor(0.10, 100 * kMillisecond), 0.10},
      // Bursts of 5 overwhelm m = 2..3 in a group of 8: FEC barely helps and
      // NACK must do the work; m = 6 shows what burst-sized parity buys.
      {"10% GE burst 5, NACK room", burstLoss(0.10, 5), 0.10, policyFor(0.10, 400 * kMillisecond), 0.95},
      {"10% GE burst 5, no NACK", burstLoss(0.10, 5), 0.10, policyFor(0.10, 100 * kMillisecond), 0.85},
      {"10% GE burst 5, fixed m=6", burstLoss(0.10, 5), 0.10, {8, 6}, 0.50},
  };
  for (const Case& c : cases) {
    const Outcome outcome = simulate(c.settings, c.protection, 7);
    report(c.name, c.protection, outcome);
    INFO(c.name);
    CHECK(outcome.data_loss == Approx(c.loss).margin(0.02));
    CHECK(outcome.residual < outcome.data_loss * c.max_residual_share);
  }
}

TEST_CASE("without loss the policy turns FEC off and nothing is lost or added") {
  const FecProtection protection = policyFor(0.0, 400 * kMillisecond);
  CHECK_FALSE(protection.enabled());
  const Outcome outcome = simulate(randomLoss(0.0), protection, 7);
  report("0% loss", protection, outcome);
  CHECK(outcome.residual == 0.0);
  CHECK(outcome.overhead == 0.0);
}

}  // namespace
}  // namespace overline::relay
