#pragma once
// What the relay's /metrics shows about its controller session. Written and
// read only on the loop thread: relay/control's ControlBridge updates it
// from the updates the control thread posts, RelayMetrics copies it.

#include <cstdint>
#include <optional>

#include "common/types.h"

namespace overline::relay {

struct ControlStatus {
  bool connected = false;               // a session's hello was accepted and the stream is up
  std::uint64_t sessions_established = 0;  // accepted hellos since start
  std::uint64_t route_table_version = 0;   // of the table in use; 0: none from a controller
  std::optional<TimeUs> route_table_applied_at_us;  // loop time (uv_hrtime in us) of the last table
  // Tables taken, a resend of the running version included (the core is
  // not touched for a resend: relay/control/route_fence.h).
  std::uint64_t route_tables_applied = 0;
  // Tables older than the newest taken: ignored (fencing).
  std::uint64_t route_tables_ignored = 0;
  std::uint64_t peer_lists_applied = 0;
  // Pushed pair keys refused as malformed (relay/control/control_messages.h).
  std::uint64_t pushed_keys_ignored = 0;
  // Pushed peers left out because they had no usable key and this relay
  // has no mesh keys to derive one from.
  std::uint64_t peers_without_key = 0;
};

}  // namespace overline::relay
