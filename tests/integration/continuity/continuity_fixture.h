#pragma once
// The session-continuity harness (issue 13): the demo's six relays behind
// the switchboard with its realistic delays (kRegionDelays between relays,
// kAccessDelayMs for every tool's last mile) and a controller; SDK tools
// that take their edges from the controller's allocation (region hints) and
// say in their output which edge they joined and where they moved; edge
// relays killed with SIGKILL mid-stream and restarted between repetitions,
// so every repetition starts on the same healthy mesh. Every wait has a
// deadline; none sleeps for a fixed time. Figures are printed as p50/p99.

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "deploy/localmesh/local_mesh.h"

namespace overline::localmesh::testing {

constexpr int kRepetitions = 10;
// The headless variants repeat the same kills with the controller down:
// fewer repetitions, for CI's time budget (their figures are reported the same way).
constexpr int kHeadlessRepetitions = 5;
constexpr int kPacketsPerSecond = 200;
// A single-homed tool whose edge dies must have its stream flowing again
// within this: the longest silence any subscriber of it may see.
constexpr double kReceiveAgainMs = 1000;
// The "global connect" target: a subscribing tool's start to its first
// media packet, edge allocation and join included.
constexpr double kGlobalConnectMs = 600;

// Starts the mesh and waits until every relay applies the controller's
// routes and has measured all its links up. Fails the test otherwise.
std::unique_ptr<LocalMesh> startContinuityMesh();

struct Percentiles {
  double p50 = 0;
  double p99 = 0;
  std::size_t count = 0;
};
// Nearest-rank percentiles of `samples` (all zero when empty).
Percentiles percentiles(std::vector<double> samples);
// "p50 12.3 ms, p99 45.6 ms over 20".
std::string describe(const Percentiles& figures);

// Whose edge a repetition kills.
enum class Victim {
  // Two publishers in eu, one single-homed and one with --homes 2, both on
  // the same first edge, with a subscriber in us and one in ap each: the
  // publishers' edge dies.
  kPublisherEdge,
  // A publisher in eu and two subscribers in us, one single-homed and one
  // with --homes 2, both on the same first edge: their edge dies.
  kSubscriberEdge,
};

struct KillTrial {
  Victim victim = Victim::kPublisherEdge;
  // Kill the controller once every tool joined, before the edge: the
  // relays run headless on their last tables and the tools can only move
  // to candidates they already know.
  bool headless = false;
};

// What the repetitions measured.
struct KillFigures {
  // Longest gap of every subscriber whose stream the kill hit through a
  // single-homed tool (the tool whose edge died, or the subscriber of its
  // stream), and of those behind a dual-homed one; infinity for one that
  // never received again.
  std::vector<double> single_homed_gap_ms;
  std::vector<double> dual_homed_gap_ms;
  // Every subscriber's start to its first packet.
  std::vector<double> connect_ms;
};

// Runs `repetitions` repetitions of `trial`, each ~3 s of streaming, and
// checks (CHECK: every repetition is assessed) that every hit subscriber
// receives again after the kill, single-homed within kReceiveAgainMs and
// dual-homed losing nothing; that the single-homed tool whose edge died
// moved to a running relay; and that no tool names a stream other than
// the one it asked for. A repetition whose set-up fails ends the test
// (REQUIRE). Prints each repetition's figures.
KillFigures runKillTrials(LocalMesh& mesh, const KillTrial& trial, int repetitions);

// Prints the p50/p99 of `figures` and checks the single-homed gaps' p99
// against kReceiveAgainMs.
void reportKillFigures(const std::string& name, const KillFigures& figures);

}  // namespace overline::localmesh::testing
