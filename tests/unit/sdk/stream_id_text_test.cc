#include "common/stream_id_text.h"

#include <catch2/catch.hpp>

namespace overline {
namespace {

TEST_CASE("formatStreamId writes ORIGIN:LOCAL in decimal") {
  CHECK(formatStreamId(makeStreamId(1, 7)) == "1:7");
  CHECK(formatStreamId(makeStreamId(42, 0)) == "42:0");
  CHECK(formatStreamId(makeStreamId(4294967295u, 4294967295u)) == "4294967295:4294967295");
}

TEST_CASE("parseStreamId inverts formatStreamId") {
  for (const StreamId id : {makeStreamId(1, 7), makeStreamId(42, 0), makeStreamId(7, 4294967295u),
                            makeStreamId(4294967295u, 4294967295u), makeStreamId(1000, 123456)}) {
    const auto parsed = parseStreamId(formatStreamId(id));
    REQUIRE(parsed);
    CHECK(*parsed == id);
  }
}

TEST_CASE("parseStreamId rejects anything but the canonical form") {
  // clang-format off
  const char* malformed[] = {
      "",           ":",          "1",         "1:",         ":7",           "1:7:",
      "1::7",       "1:7:9",      "a:7",       "1:b",        "1:7a",         "0x1:7",
      " 1:7",       "1:7 ",       "1 :7",      "1: 7",       "+1:7",         "1:+7",
      "-1:7",       "1:-7",       "01:7",      "1:07",       "00:7",         "1:00",
      "4294967296:1", "1:4294967296", "99999999999:1", "1;7",  "1.7",          "0:7",
      "0:0",        "1:7\n",      "\xef\xbc\x91:7",
  };
  // clang-format on
  for (const char* text : malformed) {
    INFO("text: '" << text << "'");
    CHECK_FALSE(parseStreamId(text));
  }
}

TEST_CASE("parseStreamId accepts a zero local id and the largest values") {
  CHECK(parseStreamId("3:0") == makeStreamId(3, 0));
  CHECK(parseStreamId("4294967295:4294967295") == makeStreamId(4294967295u, 4294967295u));
}

}  // namespace
}  // namespace overline
