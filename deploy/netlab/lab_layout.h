#pragma once
// Names and addresses of one network lab (see README.md for the picture).
// Pure: nothing here touches the system, so the CLI, the tests and the
// relay-config generator all derive every name from the same place.
//
//   namespace <prefix>-core   the "Internet": forwards between all lines
//   namespace <prefix>-r<n>   relay n (1-based)
//   line l (0-based) of relay n: a veth pair
//     <prefix>r<n>l<l>  in <prefix>-r<n>, address 10.<l+1>.<n>.2/24
//     <prefix>c<n>l<l>  in <prefix>-core, address 10.<l+1>.<n>.1/24
//   relay n sends from 10.<l+1>.<n>.2 through line l: policy rule
//   `from 10.<l+1>.<n>.2 lookup <100+l>`, table 100+l = default via .1.

#include <cstdint>
#include <string>

#include "common/endpoint.h"
#include "common/result.h"
#include "common/types.h"

namespace overline::netlab {

// Port every relay line binds in the lab: each relay namespace has its own
// port space, so one fixed port serves every address.
constexpr std::uint16_t kLinePort = 4000;
// Port of the raw UDP probes (lab_probe.h): free while relays run.
constexpr std::uint16_t kProbePort = 4100;
// Second octet of line addresses is line + 1; node ids are the third octet.
constexpr int kMaxLines = 8;
constexpr int kMaxNodes = 254;

// One line of one relay.
struct LineRef {
  NodeId node = kNoNode;
  int line = 0;
};

class LabLayout {
 public:
  // Checks the prefix (validPrefix), 1..kMaxNodes nodes and 1..kMaxLines
  // lines per node.
  static Result<LabLayout, std::string> make(const std::string& prefix, int nodes, int lines);

  const std::string& prefix() const { return prefix_; }
  int nodes() const { return nodes_; }
  int lines() const { return lines_; }
  bool contains(LineRef ref) const;

  std::string coreNamespace() const;
  std::string relayNamespace(NodeId node) const;
  // Relay end of the line's veth pair, in relayNamespace(node).
  std::string relayInterface(LineRef ref) const;
  // Core end of the line's veth pair, in coreNamespace().
  std::string coreInterface(LineRef ref) const;
  // Host byte order, as Endpoint takes them.
  std::uint32_t relayAddress(LineRef ref) const;
  std::uint32_t coreAddress(LineRef ref) const;
  // relayAddress(ref):kLinePort, what the relay binds for that line.
  Endpoint lineEndpoint(LineRef ref) const { return Endpoint(relayAddress(ref), kLinePort); }
  // Routing table and rule preference that send line `line`'s traffic out on it.
  static int routeTable(int line) { return 100 + line; }
  static int rulePreference(int line) { return 1000 + line; }
  // nftables chain (table kNftTable, core namespace) holding the line's loss rule.
  std::string lossChain(LineRef ref) const;

 private:
  LabLayout(std::string prefix, int nodes, int lines)
      : prefix_(std::move(prefix)), nodes_(nodes), lines_(lines) {}

  std::string prefix_;
  int nodes_;
  int lines_;
};

// nftables table (family ip) of the lab, in its core namespace.
inline constexpr const char* kNftTable = "overline_netlab";

// A prefix is 2..8 characters of [a-z0-9], starting with a letter, so that
// interface names (prefix + "r254l7") stay within the kernel's 15.
bool validPrefix(const std::string& prefix);
// "ol" + 5 random [a-z0-9]: unique per run, so concurrent labs never collide.
std::string randomPrefix();
// Dotted quad of a host-order IPv4 address.
std::string formatAddress(std::uint32_t address);

}  // namespace overline::netlab
