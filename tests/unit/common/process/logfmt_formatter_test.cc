#include "common/process/logfmt_formatter.h"

#include <catch2/catch.hpp>

#include <chrono>
#include <string>

namespace overline {
namespace {

// 2026-11-21T10:00:00.123Z
const auto kTime = std::chrono::system_clock::time_point(std::chrono::milliseconds(1'795'255'200'123));

std::string formatted(LogfmtFormatter& formatter, spdlog::level::level_enum level, const std::string& payload) {
  spdlog::details::log_msg msg(kTime, spdlog::source_loc{}, "test", level, payload);
  spdlog::memory_buf_t out;
  formatter.format(msg, out);
  return std::string(out.data(), out.size());
}

TEST_CASE("a record becomes one logfmt line with ts, level, process context, msg and fields") {
  LogfmtFormatter formatter("overline-relay", {{"node", 3}});
  CHECK(formatted(formatter, spdlog::level::info, withFields("packets dropped", {{"reason", "not_upstream"},
                                                                                  {"count", 123}})) ==
        "ts=2026-11-21T10:00:00.123Z level=info proc=overline-relay node=3 msg=\"packets dropped\" "
        "reason=not_upstream count=123\n");
}

TEST_CASE("a plain message is quoted whole as msg") {
  LogfmtFormatter formatter("overline-controller", {});
  CHECK(formatted(formatter, spdlog::level::warn, "some \"quoted\" text") ==
        "ts=2026-11-21T10:00:00.123Z level=warn proc=overline-controller msg=\"some \\\"quoted\\\" text\"\n");
}

TEST_CASE("every level has its short name") {
  LogfmtFormatter formatter("p", {});
  const auto level_of = [&](spdlog::level::level_enum level) {
    const std::string line = formatted(formatter, level, "m");
    const auto start = line.find("level=") + 6;
    return line.substr(start, line.find(' ', start) - start);
  };
  CHECK(level_of(spdlog::level::trace) == "trace");
  CHECK(level_of(spdlog::level::debug) == "debug");
  CHECK(level_of(spdlog::level::err) == "error");
  CHECK(level_of(spdlog::level::critical) == "critical");
}

TEST_CASE("no raw control character reaches the line, whatever the payload") {
  LogfmtFormatter formatter("p", {});
  const std::string line =
      formatted(formatter, spdlog::level::info, std::string("a\nb") + kFieldsSeparator + " k=v\nforged=1");
  CHECK(line == "ts=2026-11-21T10:00:00.123Z level=info proc=p msg=\"a\\nb\" k=v\\x0aforged=1\n");
}

TEST_CASE("a clone formats the same") {
  LogfmtFormatter formatter("overline-impair", {{"mode", "switchboard"}});
  auto clone = formatter.clone();
  spdlog::details::log_msg msg(kTime, spdlog::source_loc{}, "test", spdlog::level::info, "x");
  spdlog::memory_buf_t a;
  spdlog::memory_buf_t b;
  formatter.format(msg, a);
  clone->format(msg, b);
  CHECK(std::string(a.data(), a.size()) == std::string(b.data(), b.size()));
}

}  // namespace
}  // namespace overline
