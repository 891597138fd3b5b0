#include "deploy/netlab/net_lab.h"

#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "deploy/netlab/command.h"

namespace overline::netlab {
namespace {

using Json = nlohmann::json;

constexpr const char* kOwnerTag = "overline-netlab owner";

void appendError(std::string& errors, const std::string& error) {
  if (error.empty()) return;
  errors += (errors.empty() ? "" : "; ") + error;
}

bool startsWith(const std::string& s, const std::string& head) { return s.compare(0, head.size(), head) == 0; }

bool allDigits(const std::string& s, std::size_t from, std::size_t to) {
  if (from >= to) return false;
  return std::all_of(s.begin() + static_cast<long>(from), s.begin() + static_cast<long>(to),
                     [](char c) { return c >= '0' && c <= '9'; });
}

// "<prefix>-core" or "<prefix>-r<digits>".
bool isLabNamespace(const std::string& prefix, const std::string& name) {
  const std::string head = prefix + "-";
  if (!startsWith(name, head)) return false;
  if (name == head + "core") return true;
  return name.size() > head.size() + 1 && name[head.size()] == 'r' && allDigits(name, head.size() + 1, name.size());
}

// "<prefix>r<digits>l<digits>" or "<prefix>c<digits>l<digits>".
bool isLabInterface(const std::string& prefix, const std::string& name) {
  if (!startsWith(name, prefix) || name.size() <= prefix.size() + 1) return false;
  const char side = name[prefix.size()];
  if (side != 'r' && side != 'c') return false;
  const auto l = name.find('l', prefix.size() + 1);
  return l != std::string::npos && allDigits(name, prefix.size() + 1, l) && allDigits(name, l + 1, name.size());
}

// JSON array printed by `ip -j ...` / `tc -j ...`; empty on no output.
Result<Json, std::string> runJson(const std::vector<std::string>& argv) {
  auto output = runForOutput(argv);
  if (!output) return Err{output.error()};
  const std::string& text = output.value();
  if (text.find_first_not_of(" \n") == std::string::npos) return Json::array();
  Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_array()) return Err{"unexpected output of " + argv[0] + ": " + text};
  return j;
}

std::vector<std::string> allNamespaces() {
  std::vector<std::string> names;
  auto list = runJson({"ip", "-j", "netns", "list"});
  if (!list) return names;
  for (const auto& entry : list.value()) {
    if (entry.is_object() && entry.contains("name")) names.push_back(entry["name"].get<std::string>());
  }
  return names;
}

std::vector<int> namespacePids(const std::string& ns) {
  std::vector<int> pids;
  const CommandResult r = runCommand({"ip", "netns", "pids", ns});
  std::istringstream in(r.output);
  for (int pid; in >> pid;) pids.push_back(pid);
  return pids;
}

// Start time of a process in clock ticks since boot (/proc/PID/stat field
// 22): with the pid it identifies a process even after pid reuse.
std::string processStartTime(long pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  if (!std::getline(in, stat)) return "";
  const auto close_paren = stat.rfind(')');
  if (close_paren == std::string::npos) return "";
  std::istringstream fields(stat.substr(close_paren + 2));  // from field 3 (state) on
  std::string field;
  for (int i = 3; i <= 22 && fields >> field; ++i) {
    if (i == 22) return field;
  }
  return "";
}

std::string ownerTag() {
  const long pid = getpid();
  return std::string(kOwnerTag) + " " + std::to_string(pid) + " " + processStartTime(pid);
}

// True when the lab's core namespace names an owner process that is gone.
bool ownerExited(const std::string& prefix) {
  auto links = runJson({"ip", "-j", "-n", prefix + "-core", "link", "show", "dev", "lo"});
  if (!links || links.value().empty()) return false;
  const std::string alias = links.value()[0].value("ifalias", "");
  if (!startsWith(alias, kOwnerTag)) return false;
  std::istringstream in(alias.substr(std::string(kOwnerTag).size()));
  long pid = 0;
  std::string start;
  if (!(in >> pid >> start)) return false;
  return processStartTime(pid) != start;
}

std::string nftRuleset(const LabLayout& layout) {
  std::ostringstream nft;
  std::ostringstream line_chains;  // core-side interface -> its line's chain
  nft << "table ip " << kNftTable << " {\n";
  for (NodeId n = 1; n <= static_cast<NodeId>(layout.nodes()); ++n) {
    for (int l = 0; l < layout.lines(); ++l) {
      const LineRef ref{n, l};
      nft << "  chain " << layout.lossChain(ref) << " {\n  }\n";
      line_chains << ((n == 1 && l == 0) ? "" : ", ") << "\"" << layout.coreInterface(ref)
                  << "\" : jump " << layout.lossChain(ref);
    }
  }
  // Arriving from a line: before routing. Leaving toward a line: forward is
  // the only path (the core sends nothing of its own toward relays).
  nft << "  chain from_lines {\n    type filter hook prerouting priority filter; policy accept;\n"
      << "    iifname vmap { " << line_chains.str() << " }\n  }\n";
  nft << "  chain toward_lines {\n    type filter hook forward priority filter; policy accept;\n"
      << "    oifname vmap { " << line_chains.str() << " }\n  }\n";
  nft << "}\n";
  return nft.str();
}

// Builds the lab; a non-empty `owner` (ownerTag()) is recorded as the alias
// of the core namespace's loopback right after that namespace exists (it is
// created first), so that a process killed at any later step leaves a lab
// removeOrphanedLabs() recognises.
std::string buildLab(const LabLayout& layout, const std::string& owner) {
  const std::string core = layout.coreNamespace();
  std::vector<std::string> namespaces = {core};
  for (NodeId n = 1; n <= static_cast<NodeId>(layout.nodes()); ++n) namespaces.push_back(layout.relayNamespace(n));
  for (const auto& ns : namespaces) {
    if (auto e = runChecked({"ip", "netns", "add", ns}); !e.empty()) return e;
    if (ns == core && !owner.empty()) {
      if (auto e = runChecked({"ip", "-n", core, "link", "set", "dev", "lo", "alias", owner}); !e.empty()) return e;
    }
    // Before any interface exists, so that every one inherits the defaults.
    // Reverse-path filtering is off: policy routing makes it pointless here
    // and a host-wide strict setting would otherwise be inherited.
    std::vector<std::string> sysctl = {"ip", "netns", "exec", ns, "sysctl", "-q", "-w",
                                       "net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.default.rp_filter=0"};
    if (ns == core) sysctl.push_back("net.ipv4.ip_forward=1");
    if (auto e = runChecked(sysctl); !e.empty()) return e;
  }

  // Each end is created directly in its namespace: the root namespace never
  // holds a lab interface, not even for a moment.
  std::ostringstream veths;
  std::ostringstream core_batch;
  core_batch << "link set lo up\n";
  for (NodeId n = 1; n <= static_cast<NodeId>(layout.nodes()); ++n) {
    for (int l = 0; l < layout.lines(); ++l) {
      const LineRef ref{n, l};
      veths << "link add " << layout.relayInterface(ref) << " netns " << layout.relayNamespace(n)
            << " type veth peer name " << layout.coreInterface(ref) << " netns " << core << "\n";
      core_batch << "addr add " << formatAddress(layout.coreAddress(ref)) << "/24 dev " << layout.coreInterface(ref)
                 << "\nlink set " << layout.coreInterface(ref) << " up\n";
    }
  }
  if (auto e = runChecked({"ip", "-batch", "-"}, veths.str()); !e.empty()) return e;
  if (auto e = runChecked({"ip", "-n", core, "-batch", "-"}, core_batch.str()); !e.empty()) return e;

  for (NodeId n = 1; n <= static_cast<NodeId>(layout.nodes()); ++n) {
    std::ostringstream relay_batch;
    relay_batch << "link set lo up\n";
    for (int l = 0; l < layout.lines(); ++l) {
      const LineRef ref{n, l};
      const std::string dev = layout.relayInterface(ref);
      const std::string address = formatAddress(layout.relayAddress(ref));
      relay_batch << "addr add " << address << "/24 dev " << dev << "\n"
                  << "link set " << dev << " up\n"
                  // onlink: the gateway is on the line whether or not its
                  // carrier is up yet.
                  << "route add default via " << formatAddress(layout.coreAddress(ref)) << " dev " << dev
                  << " onlink table " << LabLayout::routeTable(l) << "\n"
                  << "rule add from " << address << " lookup " << LabLayout::routeTable(l) << " pref "
                  << LabLayout::rulePreference(l) << "\n";
    }
    if (auto e = runChecked({"ip", "-n", layout.relayNamespace(n), "-batch", "-"}, relay_batch.str()); !e.empty()) {
      return e;
    }
  }
  return runChecked({"ip", "netns", "exec", core, "nft", "-f", "-"}, nftRuleset(layout));
}

}  // namespace

std::string labUnavailableReason() {
  if (geteuid() != 0) return "needs root (network namespaces, veth, nftables)";
  for (const char* tool : {"ip", "nft", "tc", "sysctl"}) {
    if (findExecutable(tool).empty()) return std::string(tool) + " not installed";
  }
  // A throwaway lab namespace with a veth pair and an nftables table: what
  // every lab needs, tried for real (containers may refuse any of it).
  const std::string prefix = randomPrefix();
  const std::string ns = prefix + "-core";
  std::string error = runChecked({"ip", "netns", "add", ns});
  if (error.empty()) {
    error = runChecked({"ip", "-n", ns, "link", "add", prefix + "c1l0", "type", "veth", "peer", "name", prefix + "r1l0"});
  }
  if (error.empty()) error = runChecked({"ip", "netns", "exec", ns, "nft", "add", "table", "ip", kNftTable});
  appendError(error, removeLab(prefix));
  return error.empty() ? "" : "network namespaces unusable here: " + error;
}

std::string createLab(const LabLayout& layout) {
  std::string error = buildLab(layout, "");
  if (!error.empty()) appendError(error, removeLab(layout.prefix()));
  return error;
}

std::string removeLab(const std::string& prefix) {
  std::string errors;
  for (const auto& ns : labNamespaces(prefix)) {
    const auto pids = namespacePids(ns);
    if (!pids.empty()) {
      std::string list;
      for (int pid : pids) list += " " + std::to_string(pid);
      appendError(errors, ns + " still had processes (it lives on, unnamed, until they exit):" + list);
    }
    appendError(errors, runChecked({"ip", "netns", "delete", ns}));
  }
  // Normally none: lab interfaces are created inside their namespaces.
  if (auto links = runJson({"ip", "-j", "link", "show"})) {
    for (const auto& link : links.value()) {
      const std::string name = link.value("ifname", "");
      if (isLabInterface(prefix, name)) appendError(errors, runChecked({"ip", "link", "delete", name}));
    }
  }
  return errors;
}

std::vector<std::string> labNamespaces(const std::string& prefix) {
  std::vector<std::string> result;
  for (const auto& name : allNamespaces()) {
    if (isLabNamespace(prefix, name)) result.push_back(name);
  }
  std::sort(result.begin(), result.end());
  return result;
}

std::vector<std::string> listLabs() {
  std::vector<std::string> prefixes;
  const std::string suffix = "-core";
  for (const auto& name : allNamespaces()) {
    if (name.size() <= suffix.size() || name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) continue;
    const std::string prefix = name.substr(0, name.size() - suffix.size());
    if (validPrefix(prefix)) prefixes.push_back(prefix);
  }
  std::sort(prefixes.begin(), prefixes.end());
  return prefixes;
}

Result<LabLayout, std::string> discoverLab(const std::string& prefix) {
  const auto namespaces = labNamespaces(prefix);
  if (std::find(namespaces.begin(), namespaces.end(), prefix + "-core") == namespaces.end()) {
    return Err{"no lab with prefix \"" + prefix + "\" (namespace " + prefix + "-core not found)"};
  }
  const int nodes = static_cast<int>(namespaces.size()) - 1;
  auto links = runJson({"ip", "-j", "-n", prefix + "-core", "link", "show"});
  if (!links) return Err{links.error()};
  int lines = 0;
  for (const auto& link : links.value()) {
    const std::string name = link.value("ifname", "");
    const std::string node1 = prefix + "c1l";
    if (isLabInterface(prefix, name) && startsWith(name, node1)) {
      lines = std::max(lines, std::stoi(name.substr(node1.size())) + 1);
    }
  }
  auto layout = LabLayout::make(prefix, nodes, lines);
  if (!layout) return Err{"lab \"" + prefix + "\" is incomplete: " + layout.error()};
  for (NodeId n = 1; n <= static_cast<NodeId>(nodes); ++n) {
    if (std::find(namespaces.begin(), namespaces.end(), layout.value().relayNamespace(n)) == namespaces.end()) {
      return Err{"lab \"" + prefix + "\" is incomplete: no namespace " + layout.value().relayNamespace(n)};
    }
  }
  return layout;
}

std::vector<std::string> removeOrphanedLabs() {
  std::vector<std::string> removed;
  for (const auto& prefix : listLabs()) {
    if (!ownerExited(prefix)) continue;
    const std::string error = removeLab(prefix);
    if (!error.empty()) std::cerr << "overline-netlab: removing orphaned lab " << prefix << ": " << error << "\n";
    removed.push_back(prefix);
  }
  return removed;
}

std::string NetLab::setLineUp(LineRef ref, bool up) const {
  if (!layout_.contains(ref)) return "no line " + std::to_string(ref.line) + " on node " + std::to_string(ref.node);
  if (!up) {
    return runChecked({"ip", "-n", layout_.coreNamespace(), "link", "set", "dev", layout_.coreInterface(ref), "down"});
  }
  // Both ends, and the relay's line route: a relay end set down by hand lost
  // it with the link.
  const std::string relay_ns = layout_.relayNamespace(ref.node);
  const std::string relay_dev = layout_.relayInterface(ref);
  std::string errors = runChecked({"ip", "-n", layout_.coreNamespace(), "link", "set", "dev", layout_.coreInterface(ref), "up"});
  appendError(errors, runChecked({"ip", "-n", relay_ns, "link", "set", "dev", relay_dev, "up"}));
  appendError(errors, runChecked({"ip", "-n", relay_ns, "route", "replace", "default", "via",
                                  formatAddress(layout_.coreAddress(ref)), "dev", relay_dev, "onlink", "table",
                                  std::to_string(LabLayout::routeTable(ref.line))}));
  return errors;
}

std::string NetLab::setLineLoss(LineRef ref, int percent) const {
  if (!layout_.contains(ref)) return "no line " + std::to_string(ref.line) + " on node " + std::to_string(ref.node);
  if (percent < 0 || percent > 100) return "bad loss " + std::to_string(percent) + "%: want 0..100";
  const std::string chain = std::string("ip ") + kNftTable + " " + layout_.lossChain(ref);
  // One nft transaction: the old rule never coexists with the new one.
  std::string input = "flush chain " + chain + "\n";
  if (percent == 100) input += "add rule " + chain + " counter drop\n";  // nft: `< 100` is out of range
  else if (percent > 0) input += "add rule " + chain + " numgen random mod 100 < " + std::to_string(percent) + " counter drop\n";
  return runChecked({"ip", "netns", "exec", layout_.coreNamespace(), "nft", "-f", "-"}, input);
}

std::string NetLab::setLineRate(LineRef ref, std::uint64_t kbit) const {
  if (!layout_.contains(ref)) return "no line " + std::to_string(ref.line) + " on node " + std::to_string(ref.node);
  const std::vector<std::pair<std::string, std::string>> ends = {
      {layout_.coreNamespace(), layout_.coreInterface(ref)},
      {layout_.relayNamespace(ref.node), layout_.relayInterface(ref)}};
  std::string errors;
  for (const auto& [ns, dev] : ends) {
    if (kbit == 0) {
      // Deleting a root qdisc that is already the default fails; only a tbf
      // still in place after the attempt is an error.
      runCommand({"tc", "-n", ns, "qdisc", "del", "dev", dev, "root"});
      auto left = runJson({"tc", "-j", "-n", ns, "qdisc", "show", "dev", dev});
      if (!left) {
        appendError(errors, left.error());
        continue;
      }
      for (const auto& q : left.value()) {
        if (q.value("kind", "") == "tbf") appendError(errors, "tbf still on " + dev + " in " + ns);
      }
      continue;
    }
    // Burst: 20 ms at the rate, at least a few full-size packets.
    const std::uint64_t burst_bytes = std::max<std::uint64_t>(16000, kbit * 1000 / 8 / 50);
    appendError(errors, runChecked({"tc", "-n", ns, "qdisc", "replace", "dev", dev, "root", "tbf", "rate",
                                    std::to_string(kbit) + "kbit", "burst", std::to_string(burst_bytes),
                                    "latency", "50ms"}));
  }
  return errors;
}

Result<std::vector<NodeStatus>, std::string> NetLab::status() const {
  auto flagsByName = [](const Json& links) {
    std::map<std::string, std::vector<std::string>> flags;
    for (const auto& link : links) {
      flags[link.value("ifname", "")] = link.value("flags", std::vector<std::string>{});
    }
    return flags;
  };
  auto has = [](const std::vector<std::string>& flags, const char* flag) {
    return std::find(flags.begin(), flags.end(), flag) != flags.end();
  };

  auto core_links = runJson({"ip", "-j", "-n", layout_.coreNamespace(), "link", "show"});
  if (!core_links) return Err{core_links.error()};
  const auto core_flags = flagsByName(core_links.value());

  auto qdiscs = runJson({"tc", "-j", "-n", layout_.coreNamespace(), "qdisc", "show"});
  if (!qdiscs) return Err{qdiscs.error()};
  std::map<std::string, std::uint64_t> rate_kbit;
  for (const auto& q : qdiscs.value()) {
    if (q.value("kind", "") != "tbf" || !q.contains("options")) continue;
    rate_kbit[q.value("dev", "")] = q["options"].value("rate", std::uint64_t{0}) * 8 / 1000;  // bytes/s
  }

  auto nft = runForOutput({"ip", "netns", "exec", layout_.coreNamespace(), "nft", "list", "table", "ip", kNftTable});
  if (!nft) return Err{nft.error()};
  // Per chain: "numgen random mod 100 < N counter packets P bytes B drop",
  // or "counter packets P bytes B drop" for 100%.
  std::map<std::string, std::pair<int, std::uint64_t>> loss;
  {
    std::istringstream in(nft.value());
    std::string chain;
    for (std::string line; std::getline(in, line);) {
      std::istringstream words(line);
      std::vector<std::string> w{std::istream_iterator<std::string>(words), std::istream_iterator<std::string>()};
      if (w.size() >= 2 && w[0] == "chain") chain = w[1];
      for (std::size_t i = 0; i + 1 < w.size(); ++i) {
        if (w[i] == "<" && i >= 2 && w[i - 2] == "mod") loss[chain].first = std::stoi(w[i + 1]);
        if (w[i] == "packets" && i >= 1 && w[i - 1] == "counter") {
          loss[chain].second = std::stoull(w[i + 1]);
          if (w[0] == "counter") loss[chain].first = 100;
        }
      }
    }
  }

  std::vector<NodeStatus> nodes;
  for (NodeId n = 1; n <= static_cast<NodeId>(layout_.nodes()); ++n) {
    NodeStatus node;
    node.node = n;
    node.pids = namespacePids(layout_.relayNamespace(n));
    auto relay_links = runJson({"ip", "-j", "-n", layout_.relayNamespace(n), "link", "show"});
    if (!relay_links) return Err{relay_links.error()};
    const auto relay_flags = flagsByName(relay_links.value());
    for (int l = 0; l < layout_.lines(); ++l) {
      const LineRef ref{n, l};
      LineStatus line;
      line.ref = ref;
      line.relay_address = formatAddress(layout_.relayAddress(ref));
      const auto core_it = core_flags.find(layout_.coreInterface(ref));
      const auto relay_it = relay_flags.find(layout_.relayInterface(ref));
      if (core_it != core_flags.end()) {
        line.core_side_up = has(core_it->second, "UP");
        line.carrier = has(core_it->second, "LOWER_UP");
      }
      if (relay_it != relay_flags.end()) line.relay_side_up = has(relay_it->second, "UP");
      line.carrier = line.carrier && line.core_side_up && line.relay_side_up;
      if (const auto it = loss.find(layout_.lossChain(ref)); it != loss.end()) {
        line.loss_percent = it->second.first;
        line.loss_dropped_packets = it->second.second;
      }
      if (const auto it = rate_kbit.find(layout_.coreInterface(ref)); it != rate_kbit.end()) line.rate_kbit = it->second;
      node.lines.push_back(line);
    }
    nodes.push_back(std::move(node));
  }
  return nodes;
}

Result<std::unique_ptr<ScopedNetLab>, std::string> ScopedNetLab::create(const LabLayout& layout) {
  if (auto e = removeLab(layout.prefix()); !e.empty()) return Err{"removing leftovers of " + layout.prefix() + ": " + e};
  std::unique_ptr<ScopedNetLab> lab(new ScopedNetLab(layout));  // from here its destructor cleans up
  if (auto e = buildLab(layout, ownerTag()); !e.empty()) return Err{e};
  return lab;
}

ScopedNetLab::~ScopedNetLab() {
  const std::string error = removeLab(layout().prefix());
  if (!error.empty()) std::cerr << "netlab: removing lab " << layout().prefix() << ": " << error << "\n";
}

}  // namespace overline::netlab
