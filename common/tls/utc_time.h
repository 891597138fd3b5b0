#pragma once
// Certificate times as operators read them: ISO-8601 UTC to the second,
// "2026-11-30T10:00:00Z". Shared by the TLS library's errors and
// `overlinectl pki`.

#include <cstdint>
#include <cstdio>
#include <ctime>
#include <string>

namespace overline::tls {

inline std::string utcTime(std::int64_t unix_s) {
  const std::time_t seconds = static_cast<std::time_t>(unix_s);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char text[96];  // room for any int the compiler can imagine in each field
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec);
  return text;
}

}  // namespace overline::tls
