#include "common/process/log_fields.h"

#include <catch2/catch.hpp>

namespace overline {
namespace {

TEST_CASE("logfmtValue leaves plain values bare and quotes the rest") {
  CHECK(logfmtValue("not_upstream") == "not_upstream");
  CHECK(logfmtValue("127.0.0.1:9464") == "127.0.0.1:9464");
  CHECK(logfmtValue("") == "\"\"");
  CHECK(logfmtValue("two words") == "\"two words\"");
  CHECK(logfmtValue("a=b") == "\"a=b\"");
  CHECK(logfmtValue("say \"hi\"") == "\"say \\\"hi\\\"\"");
  CHECK(logfmtValue("back\\slash") == "\"back\\\\slash\"");
  CHECK(logfmtValue("line\nbreak\ttab\r") == "\"line\\nbreak\\ttab\\r\"");
  CHECK(logfmtValue(std::string("bell\x07", 5)) == "\"bell\\x07\"");
  CHECK(logfmtValue(std::string("nul\0", 4)) == "\"nul\\x00\"");
}

TEST_CASE("logfmtQuoted always quotes") {
  CHECK(logfmtQuoted("relay") == "\"relay\"");
  CHECK(logfmtQuoted("a \"b\"") == "\"a \\\"b\\\"\"");
}

TEST_CASE("LogField renders numbers, booleans and strings") {
  CHECK(LogField("node", 3u).value == "3");
  CHECK(LogField("delta", std::int64_t{-7}).value == "-7");
  CHECK(LogField("count", std::uint64_t{18446744073709551615ull}).value == "18446744073709551615");
  CHECK(LogField("up", true).value == "true");
  CHECK(LogField("up", false).value == "false");
  CHECK(LogField("ratio", 0.25).value == "0.25");
  CHECK(LogField("name", "isp-a").value == "isp-a");
  CHECK(LogField("name", std::string("isp-b")).value == "isp-b");
}

TEST_CASE("logfmtField sanitises the key and encodes the value") {
  CHECK(logfmtField({"reason", "not_upstream"}) == "reason=not_upstream");
  CHECK(logfmtField({"bad key=", "x y"}) == "bad_key_=\"x y\"");
  CHECK(logfmtField({"", "v"}) == "_=v");
}

TEST_CASE("withFields appends encoded fields after the separator") {
  CHECK(withFields("relay starting", {}) == "relay starting");
  CHECK(withFields("packets dropped", {{"reason", "no_route"}, {"count", 12}, {"window_s", 10}}) ==
        std::string("packets dropped") + kFieldsSeparator + " reason=no_route count=12 window_s=10");
  // A separator inside the message cannot move the split.
  CHECK(withFields(std::string("a") + kFieldsSeparator + "b", {{"k", 1}}) ==
        std::string("a b") + kFieldsSeparator + " k=1");
}

}  // namespace
}  // namespace overline
