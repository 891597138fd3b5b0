#include "deploy/netlab/lab_layout.h"

#include <random>

namespace overline::netlab {

Result<LabLayout, std::string> LabLayout::make(const std::string& prefix, int nodes, int lines) {
  if (!validPrefix(prefix)) {
    return Err{"bad prefix \"" + prefix + "\": want 2..8 characters of [a-z0-9], starting with a letter"};
  }
  if (nodes < 1 || nodes > kMaxNodes) {
    return Err{"bad node count " + std::to_string(nodes) + ": want 1.." + std::to_string(kMaxNodes)};
  }
  if (lines < 1 || lines > kMaxLines) {
    return Err{"bad line count " + std::to_string(lines) + ": want 1.." + std::to_string(kMaxLines)};
  }
  return LabLayout(prefix, nodes, lines);
}

bool LabLayout::contains(LineRef ref) const {
  return ref.node >= 1 && ref.node <= static_cast<NodeId>(nodes_) && ref.line >= 0 && ref.line < lines_;
}

std::string LabLayout::coreNamespace() const { return prefix_ + "-core"; }

std::string LabLayout::relayNamespace(NodeId node) const { return prefix_ + "-r" + std::to_string(node); }

std::string LabLayout::relayInterface(LineRef ref) const {
  return prefix_ + "r" + std::to_string(ref.node) + "l" + std::to_string(ref.line);
}

std::string LabLayout::coreInterface(LineRef ref) const {
  return prefix_ + "c" + std::to_string(ref.node) + "l" + std::to_string(ref.line);
}

std::uint32_t LabLayout::relayAddress(LineRef ref) const {
  return (10u << 24) | (static_cast<std::uint32_t>(ref.line + 1) << 16) | ((ref.node & 0xffu) << 8) | 2u;
}

std::uint32_t LabLayout::coreAddress(LineRef ref) const { return (relayAddress(ref) & ~0xffu) | 1u; }

std::string LabLayout::lossChain(LineRef ref) const {
  return "line_n" + std::to_string(ref.node) + "_l" + std::to_string(ref.line);
}

bool validPrefix(const std::string& prefix) {
  if (prefix.size() < 2 || prefix.size() > 8) return false;
  if (prefix[0] < 'a' || prefix[0] > 'z') return false;
  for (char c : prefix) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) return false;
  }
  return true;
}

std::string randomPrefix() {
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::random_device rd;
  std::string prefix = "ol";
  for (int i = 0; i < 5; ++i) prefix += kAlphabet[rd() % (sizeof kAlphabet - 1)];
  return prefix;
}

std::string formatAddress(std::uint32_t address) {
  return std::to_string(address >> 24) + "." + std::to_string((address >> 16) & 0xff) + "." +
         std::to_string((address >> 8) & 0xff) + "." + std::to_string(address & 0xff);
}

}  // namespace overline::netlab
