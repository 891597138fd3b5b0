#include "common/endpoint.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <charconv>

namespace overline {

std::optional<Endpoint> Endpoint::parse(std::string_view text) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size()) return std::nullopt;
  const std::string host(text.substr(0, colon));
  // inet_pton reads a C string: an embedded NUL would silently cut the host short.
  if (host.find('\0') != std::string::npos) return std::nullopt;
  in_addr addr{};
  if (inet_pton(AF_INET, host.c_str(), &addr) != 1) return std::nullopt;
  const std::string_view port_text = text.substr(colon + 1);
  unsigned port = 0;
  const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port > 65535) {
    return std::nullopt;
  }
  return Endpoint(ntohl(addr.s_addr), static_cast<std::uint16_t>(port));
}

Endpoint Endpoint::fromSockaddr(const sockaddr_in& addr) {
  return Endpoint(ntohl(addr.sin_addr.s_addr), ntohs(addr.sin_port));
}

sockaddr_in Endpoint::toSockaddr() const {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(address_);
  addr.sin_port = htons(port_);
  return addr;
}

std::string Endpoint::toString() const {
  return std::to_string(address_ >> 24) + "." + std::to_string((address_ >> 16) & 0xff) + "." +
         std::to_string((address_ >> 8) & 0xff) + "." + std::to_string(address_ & 0xff) + ":" +
         std::to_string(port_);
}

}  // namespace overline
