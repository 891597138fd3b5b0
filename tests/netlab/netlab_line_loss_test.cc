// Loss configured on one line carries through, in both directions, and
// nowhere else: a raw UDP ping-pong between two relay namespaces over the
// impaired line loses about the configured share each way, a clean line
// loses nothing, and the nftables counter accounts for every lost ping. The
// relays' own link probes see the same loss.

#include <catch2/catch.hpp>

#include "deploy/netlab/lab_probe.h"
#include "tests/netlab/netlab_test_support.h"

namespace nl = overline::netlab;
namespace lm = overline::localmesh;
using namespace std::chrono_literals;

TEST_CASE("30% loss on a line drops about 30% each way across it, and only there") {
  nl::test::skipWithoutLab();
  auto lab = nl::test::startLab(2, 2);
  const auto& layout = lab->layout();
  constexpr int kLossPercent = 30;
  constexpr int kPings = 3000;  // binomial sd of the measured loss: under 1%
  const nl::LineRef impaired{1, 0};
  REQUIRE(lab->lab().setLineLoss(impaired, kLossPercent) == "");

  // Relay 1 line 0 -> relay 2 line 0: pings cross the impaired line on the
  // way in to the core, echoes on the way out of it.
  auto m = nl::measureLoss(layout, impaired, {2, 0}, kPings);
  REQUIRE(m.ok());
  WARN("configured " << kLossPercent << "%: measured forward " << 100 * m.value().forwardLoss() << "%, back "
                     << 100 * m.value().backLoss() << "% (" << kPings << " pings)");
  CHECK(m.value().forwardLoss() == Approx(kLossPercent / 100.0).margin(0.10));
  CHECK(m.value().backLoss() == Approx(kLossPercent / 100.0).margin(0.10));

  // The loss rule dropped exactly the pings and echoes that went missing.
  auto status = lab->lab().status();
  REQUIRE(status.ok());
  const auto& line = status.value().at(0).lines.at(0);
  CHECK(line.loss_percent == kLossPercent);
  CHECK(line.loss_dropped_packets == static_cast<std::uint64_t>(m.value().sent - m.value().back_received));

  // The other line of the same relay is clean.
  auto clean = nl::measureLoss(layout, {1, 1}, {2, 1}, 1000);
  REQUIRE(clean.ok());
  CHECK(clean.value().forward_received == 1000);
  CHECK(clean.value().back_received == 1000);

  // Removing the loss restores the line.
  REQUIRE(lab->lab().setLineLoss(impaired, 0) == "");
  auto restored = nl::measureLoss(layout, impaired, {2, 0}, 1000);
  REQUIRE(restored.ok());
  CHECK(restored.value().forward_received == 1000);
  CHECK(restored.value().back_received == 1000);
}

TEST_CASE("100% loss cuts a line; loss outside 0..100 and unknown lines are refused") {
  nl::test::skipWithoutLab();
  auto lab = nl::test::startLab(2, 2);
  REQUIRE(lab->lab().setLineLoss({2, 1}, 100) == "");
  auto m = nl::measureLoss(lab->layout(), {1, 1}, {2, 1}, 100);
  REQUIRE(m.ok());
  CHECK(m.value().forward_received == 0);
  CHECK(lab->lab().setLineLoss({2, 1}, 101) != "");
  CHECK(lab->lab().setLineLoss({3, 0}, 10) != "");
  CHECK(lab->lab().setLineUp({1, 2}, false) != "");
}

TEST_CASE("relay link probes measure a line's loss as round-trip loss") {
  nl::test::skipWithoutLab();
  auto lab = nl::test::startLab(2, 2);
  lm::MeshSpec spec;
  spec.nodes = {{1, "lab"}, {2, "lab"}};
  spec.links = {{1, 2}};
  auto mesh = nl::test::startLabMesh(*lab, spec);
  constexpr int kLossPercent = 30;
  REQUIRE(lab->lab().setLineLoss({1, 0}, kLossPercent) == "");

  // A probe and its answer both cross relay 1's line 0: 1 - 0.7^2 = 51% of
  // round trips fail on links from that line, none elsewhere. Wait until
  // relay 1 sent 200 probes per link (2 x 2 links) since the loss started:
  // the loss window (100 probes by default) then holds only impaired ones.
  constexpr const char* kProbes = "overline_relay_probe_packets_sent_total{kind=\"probe\"}";
  const auto start = mesh->scrape(1);
  REQUIRE(start);
  INFO("relay 1 exports no probe counter: link probing missing from this build");
  REQUIRE(lm::valueOf(*start, kProbes));
  const double probes_at_start = lm::valueOf(*start, kProbes).value();
  const auto settled = mesh->waitForMetrics(
      1, 20s, [&](const auto& s) { return lm::valueOf(s, kProbes).value_or(0) >= probes_at_start + 4 * 200; });
  REQUIRE(settled);
  const double expected = 1.0 - (1.0 - kLossPercent / 100.0) * (1.0 - kLossPercent / 100.0);
  std::string measured;
  for (const char* local : {"line0", "line1"}) {
    for (const char* remote : {"0", "1"}) {
      const std::string key = std::string("overline_relay_link_loss_ratio{local_line=\"") + local +
                              "\",neighbour=\"2\",remote_line=\"" + remote + "\"}";
      const auto loss = lm::valueOf(*settled, key);
      INFO(key);
      REQUIRE(loss);
      measured += std::string(measured.empty() ? "" : ", ") + local + "->" + remote + " " + std::to_string(*loss);
      if (std::string(local) == "line0") {
        CHECK(*loss == Approx(expected).margin(0.20));  // window of 100: sd 5%
      } else {
        CHECK(*loss < 0.05);
      }
    }
  }
  WARN("relay 1 probe loss by link (local line -> relay 2 line), expected " << expected << " from line0: "
                                                                            << measured);
}
