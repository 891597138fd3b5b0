#pragma once
// Argument parsers of overlinectl, pure so they can be tested alone. Errors
// are one phrase naming what was expected, for "overlinectl: <error>".

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"
#include "overline/v1/common.pb.h"

namespace overline::controller {

// "NAME=IPv4:PORT[,isp=TAG]", e.g. "isp-a=203.0.113.1:40001,isp=chinanet".
// Only the address's form is checked here; the controller checks the rest.
Result<v1::Line, std::string> parseLineSpec(std::string_view spec);

// Bits per second: digits with an optional decimal SI suffix k, M, G or T
// ("10G" = 10,000,000,000); greater than 0.
Result<std::uint64_t, std::string> parseCapacity(std::string_view text);

}  // namespace overline::controller
