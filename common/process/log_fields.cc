#include "common/process/log_fields.h"

#include <algorithm>
#include <cstdio>

namespace overline {
namespace {

bool needsQuotes(std::string_view value) {
  if (value.empty()) return true;
  for (const char c : value) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= ' ' || u == 0x7f || c == '=' || c == '"' || c == '\\') return true;
  }
  return false;
}

std::string encodeKey(std::string_view key) {
  std::string out(key);
  for (char& c : out) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.';
    if (!ok) c = '_';
  }
  return out.empty() ? "_" : out;
}

}  // namespace

LogField::LogField(std::string_view field_key, double field_value) : key(field_key) {
  char text[32];
  std::snprintf(text, sizeof text, "%.6g", field_value);
  value = text;
}

std::string logfmtValue(std::string_view value) {
  return needsQuotes(value) ? logfmtQuoted(value) : std::string(value);
}

std::string logfmtQuoted(std::string_view value) {
  std::string out = "\"";
  for (const char c : value) {
    const auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (u < ' ' || u == 0x7f) {
          char escaped[8];
          std::snprintf(escaped, sizeof escaped, "\\x%02x", u);
          out += escaped;
        } else {
          out += c;
        }
    }
  }
  out += '"';
  return out;
}

std::string logfmtField(const LogField& field) { return encodeKey(field.key) + "=" + logfmtValue(field.value); }

std::string withFields(std::string_view msg, std::initializer_list<LogField> fields) {
  std::string out(msg);
  std::replace(out.begin(), out.end(), kFieldsSeparator, ' ');
  if (fields.size() == 0) return out;
  out += kFieldsSeparator;
  for (const LogField& field : fields) {
    out += ' ';
    out += logfmtField(field);
  }
  return out;
}

void logEvent(spdlog::level::level_enum level, std::string_view msg, std::initializer_list<LogField> fields) {
  if (!spdlog::should_log(level)) return;
  spdlog::log(level, "{}", withFields(msg, fields));
}

}  // namespace overline
