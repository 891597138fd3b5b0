#pragma once
// Structured log lines: a message plus key=value fields, rendered by the
// logfmt formatter (logfmt_formatter.h) as
//   ts=2026-11-21T10:00:00.123Z level=info proc=overline-relay node=3 msg="relay starting" lines=2
//
// Call sites log events, not prose:
//   logEvent(spdlog::level::info, "relay starting", {{"node", id}, {"lines", n}});
// Fields travel inside spdlog's payload: the message, kFieldsSeparator, then
// the fields already encoded (` key=value key="a value"`). A plain
// spdlog::info("...") line has no separator and becomes msg="..." alone.

#include <spdlog/spdlog.h>

#include <concepts>
#include <initializer_list>
#include <string>
#include <string_view>

namespace overline {

// Between a message and its encoded fields in a log payload (ASCII unit
// separator: never part of a message or an encoded field; logfmtValue
// escapes it).
inline constexpr char kFieldsSeparator = '\x1f';

struct LogField {
  LogField(std::string_view field_key, std::string_view field_value) : key(field_key), value(field_value) {}
  LogField(std::string_view field_key, const std::string& field_value) : key(field_key), value(field_value) {}
  LogField(std::string_view field_key, const char* field_value) : key(field_key), value(field_value) {}
  LogField(std::string_view field_key, bool field_value) : key(field_key), value(field_value ? "true" : "false") {}
  template <std::integral T>
  LogField(std::string_view field_key, T field_value) : key(field_key), value(std::to_string(field_value)) {}
  // Shortest form that reads back as the same double ("0.25", "1e-06").
  LogField(std::string_view field_key, double field_value);

  std::string key;    // [A-Za-z0-9_.]; anything else is replaced by '_' when encoded
  std::string value;  // quoted when encoded if it needs to be (logfmtValue)
};

// `value` as a logfmt value: bare when it is non-empty and has no space,
// '=', '"', '\\' or control character; otherwise in double quotes with '"'
// and '\\' backslash-escaped, \n \r \t as such and other control characters
// as \xNN. Never contains a raw control character.
std::string logfmtValue(std::string_view value);

// "key=value", the key with characters outside [A-Za-z0-9_.] replaced by
// '_', the value through logfmtValue.
std::string logfmtField(const LogField& field);

// Always in double quotes, escaped as above (the msg field).
std::string logfmtQuoted(std::string_view value);

// `msg`, kFieldsSeparator and " key=value" per field: the payload the logfmt
// formatter splits. Without fields, `msg` alone. A separator inside `msg`
// becomes a space, so the split is always at the fields.
std::string withFields(std::string_view msg, std::initializer_list<LogField> fields);

// Logs `msg` with `fields` at `level` on the default logger; builds nothing
// when the level is off.
void logEvent(spdlog::level::level_enum level, std::string_view msg, std::initializer_list<LogField> fields);

}  // namespace overline
