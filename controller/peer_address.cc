#include "controller/peer_address.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>

namespace overline::controller {
namespace {

// "%5B" / "%5b" -> "[", "%5D" / "%5d" -> "]"; nothing else is decoded.
std::string decodeBrackets(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && text[i + 1] == '5') {
      const char c = text[i + 2];
      if (c == 'B' || c == 'b' || c == 'D' || c == 'd') {
        out.push_back(c == 'B' || c == 'b' ? '[' : ']');
        i += 2;
        continue;
      }
    }
    out.push_back(text[i]);
  }
  return out;
}

bool isPort(std::string_view text) {
  if (text.empty() || text.size() > 5) return false;
  for (const char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

std::string dotted(const in_addr& address) {
  char text[INET_ADDRSTRLEN] = {};
  inet_ntop(AF_INET, &address, text, sizeof(text));
  return text;
}

// The IPv4 address in "a.b.c.d:port", or "" when it is not one.
std::string fromIPv4(std::string_view host_port) {
  const std::size_t colon = host_port.rfind(':');
  if (colon == std::string_view::npos || !isPort(host_port.substr(colon + 1))) return {};
  const std::string host(host_port.substr(0, colon));
  in_addr address{};
  if (inet_pton(AF_INET, host.c_str(), &address) != 1) return {};
  return dotted(address);
}

// The IPv4 address in "[v4-mapped v6]:port", or "" when it is not one.
std::string fromIPv6(std::string_view host_port) {
  const std::string text = decodeBrackets(host_port);
  const std::size_t close = text.rfind("]:");
  if (text.empty() || text.front() != '[' || close == std::string::npos || !isPort(text.substr(close + 2))) {
    return {};
  }
  const std::string host = text.substr(1, close - 1);
  in6_addr address{};
  if (inet_pton(AF_INET6, host.c_str(), &address) != 1 || !IN6_IS_ADDR_V4MAPPED(&address)) return {};
  in_addr v4{};
  std::memcpy(&v4, address.s6_addr + 12, sizeof(v4));
  return dotted(v4);
}

}  // namespace

Result<std::string, std::string> peerIPv4Address(std::string_view peer) {
  std::string address;
  if (peer.starts_with("ipv4:")) address = fromIPv4(peer.substr(5));
  if (peer.starts_with("ipv6:")) address = fromIPv6(peer.substr(5));
  if (address.empty()) return Err("peer \"" + std::string(peer) + "\" is not an IPv4 address");
  return address;
}

}  // namespace overline::controller
