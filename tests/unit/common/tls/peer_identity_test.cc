// Identity URIs (common/tls/peer_identity.h): every kind round-trips, and
// anything not spelled exactly one way is refused with a reason.

#include "common/tls/peer_identity.h"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

namespace overline::tls {
namespace {

TEST_CASE("identity URIs round-trip for every kind", "[tls][peer_identity]") {
  const std::vector<std::pair<PeerIdentity, std::string>> cases = {
      {{PeerRole::kRelay, 1, ""}, "overline:relay:1"},
      {{PeerRole::kRelay, 7, ""}, "overline:relay:7"},
      {{PeerRole::kRelay, 4294967295u, ""}, "overline:relay:4294967295"},
      {{PeerRole::kOperatorWrite, kNoNode, "alice"}, "overline:operator:alice:write"},
      {{PeerRole::kOperatorRead, kNoNode, "bob.ops-2_x"}, "overline:operator:bob.ops-2_x:read"},
      {{PeerRole::kController, kNoNode, "main"}, "overline:controller:main"},
      {{PeerRole::kController, kNoNode, std::string(64, 'z')}, "overline:controller:" + std::string(64, 'z')},
  };
  for (const auto& [identity, uri] : cases) {
    CAPTURE(uri);
    CHECK(identityUri(identity) == uri);
    const auto parsed = parseIdentityUri(uri);
    REQUIRE(parsed.ok());
    CHECK(parsed.value() == identity);
  }
}

TEST_CASE("describe names the peer for logs", "[tls][peer_identity]") {
  CHECK(describe({PeerRole::kRelay, 7, ""}) == "relay 7");
  CHECK(describe({PeerRole::kOperatorRead, kNoNode, "alice"}) == "operator alice (read-only)");
  CHECK(describe({PeerRole::kOperatorWrite, kNoNode, "bob"}) == "operator bob");
  CHECK(describe({PeerRole::kController, kNoNode, "main"}) == "controller main");
}

TEST_CASE("malformed identity URIs are refused with the reason", "[tls][peer_identity]") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "expected overline:<kind>:..."},
      {"overline", "expected overline:<kind>:..."},
      {"overline:", "expected overline:<kind>:..."},
      {"overline:relay", "expected overline:<kind>:..."},
      {"Overline:relay:7", "expected overline:<kind>:..."},
      {"spiffe://overline/relay/7", "expected overline:<kind>:..."},
      {"overline:node:7", "unknown kind 'node'"},
      {"overline::7", "unknown kind ''"},
      {"overline:relay:", "bad node id ''"},
      {"overline:relay:0", "bad node id '0'"},
      {"overline:relay:07", "bad node id '07'"},
      {"overline:relay:+7", "bad node id '+7'"},
      {"overline:relay:-1", "bad node id '-1'"},
      {"overline:relay: 7", "bad node id ' 7'"},
      {"overline:relay:7x", "bad node id '7x'"},
      {"overline:relay:7:write", "bad node id '7:write'"},
      {"overline:relay:4294967296", "bad node id '4294967296'"},
      {"overline:relay:99999999999", "bad node id '99999999999'"},
      {"overline:operator:alice", "expected overline:operator:<name>:read or :write"},
      {"overline:operator:alice:admin", "bad operator access 'admin'"},
      {"overline:operator:alice:WRITE", "bad operator access 'WRITE'"},
      {"overline:operator::write", "bad name ''"},
      {"overline:operator:a:b:write", "bad name 'a:b'"},
      {"overline:operator:al ice:read", "bad name 'al ice'"},
      {"overline:operator:" + std::string(65, 'a') + ":read", "bad name '" + std::string(65, 'a') + "'"},
      {"overline:controller:", "bad name ''"},
      {"overline:controller:a/b", "bad name 'a/b'"},
      {"overline:controller:caf\xc3\xa9", "bad name 'caf\xc3\xa9'"},
      {"overline:controller:" + std::string(65, 'c'), "bad name"},
  };
  for (const auto& [uri, reason] : cases) {
    CAPTURE(uri);
    const auto parsed = parseIdentityUri(uri);
    REQUIRE_FALSE(parsed.ok());
    CHECK_THAT(parsed.error(), Catch::StartsWith(reason));
  }
}

TEST_CASE("a node id or name error says what is expected", "[tls][peer_identity]") {
  CHECK(parseIdentityUri("overline:relay:0").error() ==
        "bad node id '0': expected 1..4294967295 without leading zeros");
  CHECK(parseIdentityUri("overline:controller:a b").error() ==
        "bad name 'a b': expected 1..64 characters of A-Z a-z 0-9 _ . -");
}

}  // namespace
}  // namespace overline::tls
