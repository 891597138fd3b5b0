#pragma once
// A health or readiness probe's answer, as /healthz and /readyz report it
// (common/http/status_server.h).

#include <string>

namespace overline::http {

struct ProbeResult {
  bool ok = true;
  std::string reason;  // why not, one line; empty when ok
};

}  // namespace overline::http
