// overlinectl's argument parsers and its table layout.

#include "controller/ctl/ctl_args.h"

#include <catch2/catch.hpp>

#include "controller/ctl/text_table.h"

namespace overline::controller {
namespace {

TEST_CASE("line specs: name=address with an optional ISP") {
  const auto plain = parseLineSpec("isp-a=203.0.113.1:40001");
  REQUIRE(plain.ok());
  CHECK(plain->name() == "isp-a");
  CHECK(plain->address() == "203.0.113.1:40001");
  CHECK(plain->isp().empty());
  const auto tagged = parseLineSpec("b=203.0.113.2:0,isp=chinanet");
  REQUIRE(tagged.ok());
  CHECK(tagged->isp() == "chinanet");
  for (const char* bad : {"", "=1.2.3.4:5", "a", "a=1.2.3.4", "a=1.2.3.4:5,isp=", "a=1.2.3.4:5,asn=7"}) {
    INFO(bad);
    const auto result = parseLineSpec(bad);
    REQUIRE_FALSE(result.ok());
    CHECK(result.error() == "--line \"" + std::string(bad) + "\": expected NAME=IPv4:PORT[,isp=TAG]");
  }
}

TEST_CASE("capacities in bits per second with SI suffixes") {
  CHECK(parseCapacity("1500").value() == 1500);
  CHECK(parseCapacity("10k").value() == 10'000);
  CHECK(parseCapacity("100M").value() == 100'000'000);
  CHECK(parseCapacity("10G").value() == 10'000'000'000);
  CHECK(parseCapacity("2T").value() == 2'000'000'000'000);
  for (const char* bad : {"", "0", "G", "1.5G", "-1", "10g", "99999999999999999999", "20000000T"}) {
    INFO(bad);
    CHECK_FALSE(parseCapacity(bad).ok());
  }
}

TEST_CASE("tables align columns to their widest cell") {
  TextTable table({"NODE", "REGION"});
  table.addRow({"1", "eu-west"});
  table.addRow({"1234567"});
  CHECK(table.render() == "NODE     REGION\n1        eu-west\n1234567\n");
}

}  // namespace
}  // namespace overline::controller
