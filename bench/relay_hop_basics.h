#pragma once
// What every part of overline-bench-relay-hop shares: errors as values, the
// one clock, random bytes, and the interrupt flag that lets Ctrl-C end the
// bench through its normal exit path (relay stopped, temp dir removed).

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "common/result.h"
#include "common/types.h"

namespace overline::bench {

// Success, or a message saying what failed.
using Status = Result<std::monostate, std::string>;
inline Status succeeded() { return std::monostate{}; }

// Microseconds of CLOCK_MONOTONIC: the bench's one clock. DATA timestamps,
// arrival times, deadlines and clock_nanosleep all use it.
TimeUs nowUs();

// "what: strerror(errno)".
std::string errnoText(const std::string& what);

// `count` bytes from getrandom.
Result<std::vector<std::uint8_t>, std::string> randomBytes(std::size_t count);
std::string toHex(std::span<const std::uint8_t> bytes);

// SIGINT, SIGTERM and SIGHUP set a flag instead of ending the process; a
// second one ends it at once (SA_RESETHAND). Every loop of the bench is
// bounded and checks interrupted(), so the first signal ends the bench
// through its ordinary error path. (SIGKILL cannot be caught: a relay
// running then is left behind.)
void installInterruptHandlers();
bool interrupted();
inline constexpr const char* kInterruptedText = "interrupted";

}  // namespace overline::bench
