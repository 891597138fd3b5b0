#include "common/endpoint.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <catch2/catch.hpp>
#include <string>
#include <string_view>
#include <unordered_set>

namespace overline {
namespace {

using namespace std::string_view_literals;

TEST_CASE("Endpoint::parse accepts dotted IPv4 with a port in 0..65535", "[endpoint]") {
  const auto e = Endpoint::parse("1.2.3.4:80");
  REQUIRE(e.has_value());
  CHECK(e->address() == 0x01020304u);
  CHECK(e->port() == 80);

  CHECK(Endpoint::parse("1.2.3.4:0") == Endpoint(0x01020304u, 0));
  CHECK(Endpoint::parse("255.255.255.255:65535") == Endpoint(0xFFFFFFFFu, 65535));
  CHECK(Endpoint::parse("0.0.0.0:0") == Endpoint(0, 0));
  CHECK(Endpoint::parse("127.0.0.1:40001") == Endpoint(0x7F000001u, 40001));
}

TEST_CASE("Endpoint::parse rejects every other form", "[endpoint]") {
  for (const std::string_view text : {
           ""sv,
           ":"sv,
           ":80"sv,
           "1.2.3.4:"sv,
           "1.2.3.4:65536"sv,
           "1.2.3.4:4294967296"sv,
           "1.2.3.4:-1"sv,
           "1.2.3.4:+80"sv,
           "1.2.3.4: 80"sv,
           "1.2.3:80"sv,
           "1.2.3.4.5:80"sv,
           "256.1.1.1:80"sv,
           "host:80"sv,
           "localhost:80"sv,
           "1.2.3.4:80x"sv,
           "1.2.3.4:0x50"sv,
           "1.2.3.4"sv,
           "1.2.3.4:80:80"sv,
           " 1.2.3.4:80"sv,
           "[::1]:80"sv,
           // An embedded NUL must not cut the host short.
           "1.2.3.4\0junk:80"sv,
       }) {
    CAPTURE(std::string(text));
    CHECK_FALSE(Endpoint::parse(text).has_value());
  }
}

TEST_CASE("Endpoint::toString prints dotted quad and port, and parses back", "[endpoint]") {
  const Endpoint e(0xC0A80A01u, 5004);
  CHECK(e.toString() == "192.168.10.1:5004");
  CHECK(Endpoint::parse(e.toString()) == e);

  for (const Endpoint& x : {Endpoint(), Endpoint(0xFFFFFFFFu, 65535), Endpoint(0x0A000001u, 1)}) {
    CAPTURE(x.toString());
    CHECK(Endpoint::parse(x.toString()) == x);
  }
}

TEST_CASE("Endpoint converts to and from sockaddr_in in network byte order", "[endpoint]") {
  const Endpoint e(0x7F000001u, 0x1F90);  // 127.0.0.1:8080
  const sockaddr_in addr = e.toSockaddr();
  CHECK(addr.sin_family == AF_INET);
  CHECK(addr.sin_addr.s_addr == htonl(0x7F000001u));
  CHECK(addr.sin_port == htons(8080));
  const auto* raw = reinterpret_cast<const unsigned char*>(&addr.sin_port);
  CHECK(raw[0] == 0x1F);
  CHECK(raw[1] == 0x90);
  CHECK(Endpoint::fromSockaddr(addr) == e);
}

TEST_CASE("Endpoint compares, orders and hashes by address then port", "[endpoint]") {
  const Endpoint a(1, 2);
  CHECK(a == Endpoint(1, 2));
  CHECK(a != Endpoint(1, 3));
  CHECK(a < Endpoint(1, 3));
  CHECK(Endpoint(1, 65535) < Endpoint(2, 0));
  CHECK(a.withPort(9) == Endpoint(1, 9));

  const std::unordered_set<Endpoint> set = {a, Endpoint(1, 2), Endpoint(2, 1)};
  CHECK(set.size() == 2);
}

}  // namespace
}  // namespace overline
