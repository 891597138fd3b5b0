#pragma once
// Start-up helpers shared by Overline's processes (overline-relay,
// overline-controller, overline-impair), so they log and publish ready files
// the same way.

#include <optional>
#include <string>
#include <vector>

#include "common/process/log_fields.h"

namespace overline {

// Installs a stderr logger named `process_name` writing logfmt lines
// (logfmt_formatter.h: ts, level, proc=`process_name`, the `context` fields
// such as the relay's node id, msg and the event's fields) at `level`
// (trace|debug|info|warn|error|critical) as the default spdlog logger, and
// makes it the invariant reporter (common/check/invariant.h): a violation in
// a release build logs an error line msg="invariant failed" with file, line,
// expression and suppressed (violations held back by the rate limit).
void setUpProcessLogging(const std::string& process_name, const std::string& level,
                         const std::vector<LogField>& context = {});

// Writes `text` to `path` via a temp file in the same directory and
// rename(2), so a reader sees either no file or the whole file (ready files
// are polled by harnesses and supervisors). Returns the error, if any.
std::optional<std::string> writeFileAtomically(const std::string& path, const std::string& text);

}  // namespace overline
