#include "controller/ctl/ctl_args.h"

#include <charconv>
#include <limits>

#include "common/endpoint.h"

namespace overline::controller {

Result<v1::Line, std::string> parseLineSpec(std::string_view spec) {
  const std::string expected = "--line \"" + std::string(spec) + "\": expected NAME=IPv4:PORT[,isp=TAG]";
  const std::size_t comma = spec.find(',');
  const std::string_view head = spec.substr(0, comma);
  const std::size_t equals = head.find('=');
  if (equals == std::string_view::npos || equals == 0) return Err(expected);
  v1::Line line;
  line.set_name(std::string(head.substr(0, equals)));
  line.set_address(std::string(head.substr(equals + 1)));
  if (!Endpoint::parse(line.address())) return Err(expected);
  if (comma != std::string_view::npos) {
    const std::string_view option = spec.substr(comma + 1);
    if (!option.starts_with("isp=") || option.size() == 4) return Err(expected);
    line.set_isp(std::string(option.substr(4)));
  }
  return line;
}

Result<std::uint64_t, std::string> parseCapacity(std::string_view text) {
  const std::string expected =
      "--capacity \"" + std::string(text) + "\": expected bits per second, e.g. 1000000000 or 10G";
  std::uint64_t multiplier = 1;
  std::string_view digits = text;
  if (!digits.empty()) {
    switch (digits.back()) {
      case 'k': multiplier = 1'000; break;
      case 'M': multiplier = 1'000'000; break;
      case 'G': multiplier = 1'000'000'000; break;
      case 'T': multiplier = 1'000'000'000'000; break;
      default: break;
    }
    if (multiplier != 1) digits.remove_suffix(1);
  }
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() || value == 0 ||
      value > std::numeric_limits<std::uint64_t>::max() / multiplier) {
    return Err(expected);
  }
  return value * multiplier;
}

}  // namespace overline::controller
