// Lab names and addresses (no root needed): every interface name fits the
// kernel's 15 characters, line subnets never overlap, prefixes are checked.

#include <catch2/catch.hpp>

#include <set>

#include "deploy/netlab/lab_layout.h"

namespace nl = overline::netlab;

TEST_CASE("lab layout names every namespace and interface from its prefix") {
  auto layout = nl::LabLayout::make("olab123", 3, 2);
  REQUIRE(layout.ok());
  const auto& lab = layout.value();
  CHECK(lab.coreNamespace() == "olab123-core");
  CHECK(lab.relayNamespace(3) == "olab123-r3");
  CHECK(lab.relayInterface({3, 1}) == "olab123r3l1");
  CHECK(lab.coreInterface({3, 1}) == "olab123c3l1");
  CHECK(nl::formatAddress(lab.relayAddress({3, 1})) == "10.2.3.2");
  CHECK(nl::formatAddress(lab.coreAddress({3, 1})) == "10.2.3.1");
  CHECK(lab.lineEndpoint({1, 0}).toString() == "10.1.1.2:4000");
  CHECK(lab.contains({3, 1}));
  CHECK_FALSE(lab.contains({4, 0}));
  CHECK_FALSE(lab.contains({1, 2}));
  CHECK_FALSE(lab.contains({0, 0}));
}

TEST_CASE("the largest lab keeps interface names within 15 characters and subnets apart") {
  auto layout = nl::LabLayout::make("abcdefgh", nl::kMaxNodes, nl::kMaxLines);
  REQUIRE(layout.ok());
  std::set<std::uint32_t> subnets;
  for (overline::NodeId n = 1; n <= nl::kMaxNodes; ++n) {
    for (int l = 0; l < nl::kMaxLines; ++l) {
      CHECK(layout.value().relayInterface({n, l}).size() <= 15);
      CHECK(layout.value().coreInterface({n, l}).size() <= 15);
      CHECK(subnets.insert(layout.value().relayAddress({n, l}) >> 8).second);
    }
  }
}

TEST_CASE("prefixes and sizes are checked") {
  CHECK(nl::validPrefix("ol3k9zq"));
  CHECK_FALSE(nl::validPrefix("o"));
  CHECK_FALSE(nl::validPrefix("abcdefghi"));
  CHECK_FALSE(nl::validPrefix("1abc"));
  CHECK_FALSE(nl::validPrefix("ab-c"));
  CHECK_FALSE(nl::validPrefix("abC"));
  for (int i = 0; i < 20; ++i) CHECK(nl::validPrefix(nl::randomPrefix()));
  CHECK_FALSE(nl::LabLayout::make("olab", 0, 2).ok());
  CHECK_FALSE(nl::LabLayout::make("olab", 255, 2).ok());
  CHECK_FALSE(nl::LabLayout::make("olab", 2, 0).ok());
  CHECK_FALSE(nl::LabLayout::make("olab", 2, 9).ok());
}
