#pragma once
// An spdlog formatter writing one logfmt line per record:
//   ts=2026-11-21T10:00:00.123Z level=info proc=overline-relay node=3 msg="relay starting" lines=2
// ts is UTC with milliseconds; level is trace|debug|info|warn|error|critical;
// proc and the context fields (fixed per process, e.g. the relay's node id)
// come from the constructor; msg is the payload up to kFieldsSeparator,
// always quoted; the fields after it (log_fields.h) follow as encoded. The
// line never holds a raw control character, whatever the payload.

#include <spdlog/formatter.h>

#include <memory>
#include <string>
#include <vector>

#include "common/process/log_fields.h"

namespace overline {

class LogfmtFormatter final : public spdlog::formatter {
 public:
  LogfmtFormatter(std::string_view process_name, const std::vector<LogField>& context);

  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override;
  std::unique_ptr<spdlog::formatter> clone() const override;

 private:
  LogfmtFormatter() = default;
  std::string prefix_;  // " proc=... node=..." after the level
};

}  // namespace overline
