#pragma once
// An IPv4 UDP endpoint held in host byte order.
//
// IPv4 only for now: every deployment and lab we run is IPv4. Adding IPv6
// means widening `address_` and the parser; callers only use the public API.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

struct sockaddr_in;

namespace overline {

class Endpoint {
 public:
  constexpr Endpoint() = default;
  constexpr Endpoint(std::uint32_t address_host_order, std::uint16_t port)
      : address_(address_host_order), port_(port) {}

  // Parses "a.b.c.d:port" (port 0..65535). Returns nullopt on any other form.
  static std::optional<Endpoint> parse(std::string_view text);
  static Endpoint fromSockaddr(const sockaddr_in& addr);

  std::uint32_t address() const { return address_; }
  std::uint16_t port() const { return port_; }
  Endpoint withPort(std::uint16_t port) const { return Endpoint(address_, port); }
  sockaddr_in toSockaddr() const;
  std::string toString() const;

  friend constexpr bool operator==(const Endpoint&, const Endpoint&) = default;
  friend constexpr auto operator<=>(const Endpoint&, const Endpoint&) = default;

 private:
  std::uint32_t address_ = 0;
  std::uint16_t port_ = 0;
};

}  // namespace overline

template <>
struct std::hash<overline::Endpoint> {
  std::size_t operator()(const overline::Endpoint& e) const noexcept {
    return std::hash<std::uint64_t>{}((static_cast<std::uint64_t>(e.address()) << 16) | e.port());
  }
};
