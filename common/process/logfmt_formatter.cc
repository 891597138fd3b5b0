#include "common/process/logfmt_formatter.h"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace overline {
namespace {

std::string_view levelName(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace: return "trace";
    case spdlog::level::debug: return "debug";
    case spdlog::level::info: return "info";
    case spdlog::level::warn: return "warn";
    case spdlog::level::err: return "error";
    case spdlog::level::critical: return "critical";
    default: return "off";
  }
}

void append(spdlog::memory_buf_t& dest, std::string_view text) { dest.append(text.data(), text.data() + text.size()); }

// Encoded fields as they came, with any control character escaped (a
// payload that was not built by withFields).
void appendFields(spdlog::memory_buf_t& dest, std::string_view fields) {
  for (const char c : fields) {
    const auto u = static_cast<unsigned char>(c);
    if (u < ' ' || u == 0x7f) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\x%02x", u);
      append(dest, escaped);
    } else {
      dest.push_back(c);
    }
  }
}

}  // namespace

LogfmtFormatter::LogfmtFormatter(std::string_view process_name, const std::vector<LogField>& context)
    : prefix_(" proc=" + logfmtValue(process_name)) {
  for (const LogField& field : context) prefix_ += " " + logfmtField(field);
}

void LogfmtFormatter::format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) {
  using namespace std::chrono;
  const auto since_epoch = msg.time.time_since_epoch();
  const std::time_t seconds = duration_cast<std::chrono::seconds>(since_epoch).count();
  const auto millis = duration_cast<milliseconds>(since_epoch).count() % 1000;
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char ts[40];
  const std::size_t ts_length = std::strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &utc);
  std::snprintf(ts + ts_length, sizeof ts - ts_length, ".%03dZ", static_cast<int>(millis));

  append(dest, "ts=");
  append(dest, ts);
  append(dest, " level=");
  append(dest, levelName(msg.level));
  append(dest, prefix_);
  const std::string_view payload(msg.payload.data(), msg.payload.size());
  const std::size_t separator = payload.find(kFieldsSeparator);
  append(dest, " msg=");
  append(dest, logfmtQuoted(payload.substr(0, separator)));
  if (separator != std::string_view::npos) appendFields(dest, payload.substr(separator + 1));
  dest.push_back('\n');
}

std::unique_ptr<spdlog::formatter> LogfmtFormatter::clone() const {
  auto copy = std::unique_ptr<LogfmtFormatter>(new LogfmtFormatter());
  copy->prefix_ = prefix_;
  return copy;
}

}  // namespace overline
