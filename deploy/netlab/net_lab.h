#pragma once
// Builds, changes, inspects and removes network labs (layout: lab_layout.h,
// picture: README.md). One implementation for the overline-netlab CLI and
// the netlab tests. Every function shells out to ip/nft/tc (command.h) and
// needs root; labUnavailableReason() says up front whether that will work.
//
// Impairments act on the core namespace's end of a line, so the relay's own
// interface, address and routes never change and local traffic inside the
// relay namespace (SDK tools talking to their edge) is unaffected:
//   * outage: the core-side veth is set down; the relay side loses carrier,
//     so nothing crosses the line in either direction (the relay end stays
//     up, keeping its address and line route);
//   * loss: nftables in the core namespace, one chain per line, jumped from
//     prerouting for packets arriving from the line (iifname) and from
//     forward for packets the core sends toward the line (oifname): both
//     directions lose `percent` independently;
//   * rate: tbf on both ends' egress (core side toward the relay, relay side
//     toward the core).

#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "deploy/netlab/lab_layout.h"

namespace overline::netlab {

// "" if this process can build labs, else why not (not root, `ip netns`
// unusable, nft missing).
std::string labUnavailableReason();

// Builds `layout`: namespaces, veth pairs, addresses, policy routing,
// forwarding in the core and the empty loss chains. Returns "" or what
// failed; after a failure nothing of the lab remains.
std::string createLab(const LabLayout& layout);

// Removes every namespace and root-namespace interface named with `prefix`
// (a complete lab, a half-built one, or leftovers). Processes still running
// in a lab namespace keep it alive, unnamed, until they exit: stop them
// first; they are reported in the returned error. Returns "" or what failed.
std::string removeLab(const std::string& prefix);

// Names of the namespaces that currently carry `prefix` ("<prefix>-...").
std::vector<std::string> labNamespaces(const std::string& prefix);
// Prefixes of every lab on this machine (namespaces "<prefix>-core").
std::vector<std::string> listLabs();
// The layout of an existing lab, read back from its namespaces and interfaces.
Result<LabLayout, std::string> discoverLab(const std::string& prefix);

// Labs made by ScopedNetLab record their owner process; this removes those
// whose owner has exited (a test killed by its timeout cannot clean up).
// Labs made by the CLI have no owner and are left alone. Returns the
// prefixes removed.
std::vector<std::string> removeOrphanedLabs();

struct LineStatus {
  LineRef ref;
  std::string relay_address;  // 10.<l+1>.<n>.2
  bool core_side_up = false;  // admin state of the core end
  bool relay_side_up = false;  // admin state of the relay end
  bool carrier = false;       // both ends up: packets can cross
  int loss_percent = 0;
  std::uint64_t loss_dropped_packets = 0;  // by the loss rule, both directions
  std::uint64_t rate_kbit = 0;             // tbf on the core end; 0 = none
};

struct NodeStatus {
  NodeId node = kNoNode;
  std::vector<int> pids;  // processes running in the relay namespace
  std::vector<LineStatus> lines;
};

// Operations on an existing lab. Holds only its layout: copying it or letting
// it go changes nothing on the system.
class NetLab {
 public:
  explicit NetLab(LabLayout layout) : layout_(std::move(layout)) {}
  const LabLayout& layout() const { return layout_; }

  // Each returns "" or what failed; an unknown line is an error.
  // Down: the core end. Up: both ends, and the relay's route for the line.
  std::string setLineUp(LineRef ref, bool up) const;
  std::string setLineLoss(LineRef ref, int percent) const;  // 0..100
  std::string setLineRate(LineRef ref, std::uint64_t kbit) const;  // 0 removes the cap

  Result<std::vector<NodeStatus>, std::string> status() const;

 private:
  LabLayout layout_;
};

// A lab this process created and removes when destroyed. Declare it before
// anything that runs processes inside the lab (a LocalMesh), so those stop
// first and the namespaces really go away.
class ScopedNetLab {
 public:
  // Removes leftovers with the same prefix and builds the lab, recording this
  // process as its owner (removeOrphanedLabs). On failure, nothing remains.
  static Result<std::unique_ptr<ScopedNetLab>, std::string> create(const LabLayout& layout);
  ~ScopedNetLab();
  ScopedNetLab(const ScopedNetLab&) = delete;
  ScopedNetLab& operator=(const ScopedNetLab&) = delete;

  const NetLab& lab() const { return lab_; }
  const LabLayout& layout() const { return lab_.layout(); }

 private:
  explicit ScopedNetLab(const LabLayout& layout) : lab_(layout) {}

  NetLab lab_;
};

}  // namespace overline::netlab
