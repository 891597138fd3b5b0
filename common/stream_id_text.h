#pragma once
// Text form of a StreamId: "ORIGIN:LOCAL" in decimal, e.g. "1:7" is
// makeStreamId(1, 7). Used on command lines, in logs and in tool output.

#include <optional>
#include <string>
#include <string_view>

#include "common/types.h"

namespace overline {

// Always the canonical form: no sign, no leading zeros, no spaces.
std::string formatStreamId(StreamId id);

// Strict inverse of formatStreamId. Accepts exactly two decimal numbers
// joined by one ':' — each non-empty, digits only, no leading zeros, at most
// UINT32_MAX. Rejects origin 0: kNoNode is never a stream's origin, so "0:7"
// is always a mistake. Returns nullopt for anything else.
std::optional<StreamId> parseStreamId(std::string_view text);

}  // namespace overline
