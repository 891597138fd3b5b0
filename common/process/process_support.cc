#include "common/process/process_support.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "common/check/invariant.h"
#include "common/process/logfmt_formatter.h"

namespace overline {
namespace {

void logInvariantViolation(const InvariantViolation& violation) {
  logEvent(spdlog::level::err, "invariant failed",
           {{"file", violation.file},
            {"line", violation.line},
            {"expression", violation.expression},
            {"suppressed", violation.suppressed}});
}

}  // namespace

void setUpProcessLogging(const std::string& process_name, const std::string& level,
                         const std::vector<LogField>& context) {
  auto logger = spdlog::stderr_logger_mt(process_name);
  logger->set_formatter(std::make_unique<LogfmtFormatter>(process_name, context));
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(level));
  setInvariantReporter(&logInvariantViolation);
}

std::optional<std::string> writeFileAtomically(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  std::FILE* file = std::fopen(tmp.c_str(), "wb");
  if (file == nullptr) return "cannot create " + tmp + ": " + std::strerror(errno);
  const bool written = std::fwrite(text.data(), 1, text.size(), file) == text.size();
  const int write_errno = errno;
  if (std::fclose(file) != 0 || !written) {
    std::remove(tmp.c_str());
    return "cannot write " + tmp + ": " + std::strerror(written ? errno : write_errno);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int rename_errno = errno;
    std::remove(tmp.c_str());
    return "cannot rename " + tmp + " to " + path + ": " + std::strerror(rename_errno);
  }
  return std::nullopt;
}

}  // namespace overline
