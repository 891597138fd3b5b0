#include "common/stream_id_text.h"

#include <charconv>
#include <cstdint>

namespace overline {
namespace {

std::optional<std::uint32_t> parseCanonicalU32(std::string_view text) {
  if (text.empty() || (text.size() > 1 && text.front() == '0')) return std::nullopt;
  // from_chars accepts neither a sign nor spaces for unsigned types, and
  // reports out-of-range values; only a full-length match is accepted.
  std::uint32_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

}  // namespace

std::string formatStreamId(StreamId id) {
  return std::to_string(streamOrigin(id)) + ":" + std::to_string(streamLocalId(id));
}

std::optional<StreamId> parseStreamId(std::string_view text) {
  const auto colon = text.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  const auto origin = parseCanonicalU32(text.substr(0, colon));
  const auto local = parseCanonicalU32(text.substr(colon + 1));  // a second ':' fails here
  if (!origin || !local || *origin == kNoNode) return std::nullopt;
  return makeStreamId(*origin, *local);
}

}  // namespace overline
