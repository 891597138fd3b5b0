// overline-netlab: builds, changes and removes network labs by hand (the
// netlab tests use the same library). Needs root. Commands:
//   up [--prefix P] --nodes N --lines L [--config-dir DIR]
//   down --prefix P | --orphaned
//   status [--prefix P]
//   line-down|line-up [--prefix P] NODE LINE
//   loss [--prefix P] NODE LINE PERCENT
//   rate [--prefix P] NODE LINE KBIT        (0 removes the cap)
//   probe [--prefix P] NODE LINE NODE LINE [--count N]
// Without --prefix, commands other than up/down act on the only lab there
// is. Exit 0 on success, 1 on failure (one line on stderr), 2 on bad usage.

#include <cstdio>
#include <filesystem>
#include <fstream>

#include <CLI/CLI.hpp>

#include "deploy/localmesh/mesh_spec.h"
#include "deploy/netlab/lab_mesh.h"
#include "deploy/netlab/lab_probe.h"
#include "deploy/netlab/net_lab.h"

namespace ol = overline;
namespace nl = overline::netlab;

namespace {

int fail(const std::string& message) {
  std::fprintf(stderr, "overline-netlab: %s\n", message.c_str());
  return 1;
}

// The lab named by --prefix, or the only one on this machine.
ol::Result<nl::LabLayout, std::string> findLab(const std::string& prefix) {
  if (!prefix.empty()) return nl::discoverLab(prefix);
  const auto labs = nl::listLabs();
  if (labs.size() == 1) return nl::discoverLab(labs.front());
  if (labs.empty()) return ol::Err{std::string("no lab exists (overline-netlab up ...)")};
  std::string names;
  for (const auto& p : labs) names += " " + p;
  return ol::Err{"several labs exist, pick one with --prefix:" + names};
}

int writeConfigs(const nl::LabLayout& layout, const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return fail("cannot create " + dir + ": " + ec.message());
  const auto spec = nl::fullMeshSpec(layout);
  auto addresses = nl::labLineAddresses(layout, spec);
  if (!addresses) return fail(addresses.error());
  for (const auto& node : spec.nodes) {
    const std::string path = dir + "/relay-" + std::to_string(node.id) + ".yaml";
    std::ofstream out(path);
    out << ol::localmesh::relayConfigYaml(spec, addresses.value(), node.id);
    if (!out) return fail("cannot write " + path);
  }
  std::printf("relay configs (full mesh, metrics on 127.0.0.1:9464 in each namespace) in %s; run relay N with\n"
              "  ip netns exec %s-rN overline-relay --config %s/relay-N.yaml\n",
              dir.c_str(), layout.prefix().c_str(), dir.c_str());
  return 0;
}

int printStatus(const nl::LabLayout& layout) {
  auto status = nl::NetLab(layout).status();
  if (!status) return fail(status.error());
  std::printf("lab %s: %d relays x %d lines, core namespace %s\n", layout.prefix().c_str(), layout.nodes(),
              layout.lines(), layout.coreNamespace().c_str());
  std::printf("%-5s %-14s %-12s %-4s %-11s %-18s %5s %9s %10s\n", "relay", "namespace", "pids", "line", "address",
              "state", "loss", "dropped", "rate kbit");
  for (const auto& node : status.value()) {
    std::string pids;
    for (int pid : node.pids) pids += (pids.empty() ? "" : ",") + std::to_string(pid);
    for (const auto& line : node.lines) {
      const char* state = line.carrier              ? "up"
                          : !line.core_side_up      ? "down (core side)"
                          : !line.relay_side_up     ? "down (relay side)"
                                                    : "no carrier";
      const bool first = line.ref.line == 0;
      std::printf("%-5s %-14s %-12s %-4d %-11s %-18s %4d%% %9llu %10s\n",
                  first ? std::to_string(node.node).c_str() : "",
                  first ? layout.relayNamespace(node.node).c_str() : "",
                  first ? (pids.empty() ? "-" : pids.c_str()) : "", line.ref.line, line.relay_address.c_str(), state,
                  line.loss_percent, static_cast<unsigned long long>(line.loss_dropped_packets),
                  line.rate_kbit ? std::to_string(line.rate_kbit).c_str() : "-");
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Overline network lab: relay namespaces joined by per-line veth pairs through a core namespace"};
  app.require_subcommand(1);
  std::string prefix;
  int nodes = 0;
  int lines = 2;
  std::string config_dir;
  bool orphaned = false;
  ol::NodeId node = 0;
  int line = 0;
  int percent = 0;
  std::uint64_t kbit = 0;
  ol::NodeId to_node = 0;
  int to_line = 0;
  int count = 1000;

  auto* up = app.add_subcommand("up", "build a lab (prints its prefix)");
  up->add_option("--prefix", prefix, "name prefix (default: ol + 5 random characters)");
  up->add_option("--nodes", nodes, "relays")->required()->check(CLI::Range(1, nl::kMaxNodes));
  up->add_option("--lines", lines, "lines per relay")->check(CLI::Range(1, nl::kMaxLines));
  up->add_option("--config-dir", config_dir, "also write a full-mesh relay config per node here");

  auto* down = app.add_subcommand("down", "remove a lab (stop its relays first)");
  down->add_option("--prefix", prefix, "the lab to remove");
  down->add_flag("--orphaned", orphaned, "remove labs left by test processes that no longer exist");

  auto* status = app.add_subcommand("status", "show labs, lines, loss, rate caps and processes");
  status->add_option("--prefix", prefix, "only this lab");

  auto addLine = [&](CLI::App* cmd) {
    cmd->add_option("--prefix", prefix, "the lab (default: the only one)");
    cmd->add_option("NODE", node, "relay id")->required();
    cmd->add_option("LINE", line, "line index, 0-based")->required();
  };
  auto* line_down = app.add_subcommand("line-down", "take a line down (its core-side veth)");
  addLine(line_down);
  auto* line_up = app.add_subcommand("line-up", "bring a line back up");
  addLine(line_up);
  auto* loss = app.add_subcommand("loss", "random loss on a line, each direction independently");
  addLine(loss);
  loss->add_option("PERCENT", percent, "0..100 (0 removes)")->required()->check(CLI::Range(0, 100));
  auto* rate = app.add_subcommand("rate", "tbf rate cap on a line, both directions");
  addLine(rate);
  rate->add_option("KBIT", kbit, "kbit/s (0 removes)")->required();
  auto* probe = app.add_subcommand("probe", "UDP ping-pong between two lines: loss each way");
  addLine(probe);
  probe->add_option("TO_NODE", to_node, "relay id")->required();
  probe->add_option("TO_LINE", to_line, "line index")->required();
  probe->add_option("--count", count, "pings")->check(CLI::Range(1, 100000));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;  // --help: 0; CLI11's own codes otherwise
  }

  if (const std::string why = nl::labUnavailableReason(); !why.empty()) return fail(why);

  if (up->parsed()) {
    if (prefix.empty()) prefix = nl::randomPrefix();
    auto layout = nl::LabLayout::make(prefix, nodes, lines);
    if (!layout) return fail(layout.error());
    if (!nl::labNamespaces(prefix).empty()) return fail("a lab with prefix " + prefix + " already exists");
    if (const std::string e = nl::createLab(layout.value()); !e.empty()) return fail(e);
    std::printf("%s\n", prefix.c_str());
    return config_dir.empty() ? 0 : writeConfigs(layout.value(), config_dir);
  }
  if (down->parsed()) {
    if (orphaned) {
      for (const auto& p : nl::removeOrphanedLabs()) std::printf("removed %s\n", p.c_str());
      return 0;
    }
    if (prefix.empty()) return fail("down needs --prefix (or --orphaned)");
    if (nl::labNamespaces(prefix).empty()) return fail("no lab with prefix " + prefix);
    const std::string e = nl::removeLab(prefix);
    return e.empty() ? 0 : fail(e);
  }
  if (status->parsed() && prefix.empty()) {
    const auto labs = nl::listLabs();
    if (labs.empty()) std::printf("no labs\n");
    int rc = 0;
    for (const auto& p : labs) {
      auto layout = nl::discoverLab(p);
      rc = layout ? std::max(rc, printStatus(layout.value())) : fail(layout.error());
    }
    return rc;
  }

  auto layout = findLab(prefix);
  if (!layout) return fail(layout.error());
  if (status->parsed()) return printStatus(layout.value());
  const nl::NetLab lab(layout.value());
  const nl::LineRef ref{node, line};
  std::string error;
  if (line_down->parsed()) error = lab.setLineUp(ref, false);
  if (line_up->parsed()) error = lab.setLineUp(ref, true);
  if (loss->parsed()) error = lab.setLineLoss(ref, percent);
  if (rate->parsed()) error = lab.setLineRate(ref, kbit);
  if (probe->parsed()) {
    auto m = nl::measureLoss(layout.value(), ref, {to_node, to_line}, count);
    if (!m) return fail(m.error());
    std::printf("{\"sent\":%d,\"forward_received\":%d,\"back_received\":%d,\"forward_loss\":%.3f,\"back_loss\":%.3f}\n",
                m.value().sent, m.value().forward_received, m.value().back_received, m.value().forwardLoss(),
                m.value().backLoss());
  }
  return error.empty() ? 0 : fail(error);
}
