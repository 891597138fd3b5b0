#pragma once
// RouteFence: which pushed route tables a relay takes (fencing; the
// RouteTable comment in proto/overline/v1/relay_session.proto).
//
// Route versions only grow, across controller restarts too (the controller
// persists a version before pushing it). So a table whose version is below
// the newest one this relay took comes from a controller that lost or
// rolled back its store, a stale second controller, or a replay: it is
// ignored and counted, never applied. The newest version again is what
// every reconnect brings (the controller resends the table unchanged): the
// relay already runs it, so it is neither applied again nor counted as
// ignored. Until the first table any version is taken. Pure; not
// thread-safe (ControlBridge guards its one instance).

#include <cstdint>
#include <optional>

namespace overline::relay {

class RouteFence {
 public:
  enum class Verdict : std::uint8_t {
    kApply,   // newer than every table taken before (or the first): apply it
    kResent,  // the newest version again: already running it
    kStale,   // older than the newest taken: ignore and count
  };

  // Judges a table of `version`; kApply makes it the newest.
  Verdict offer(std::uint64_t version) {
    if (newest_ && version == *newest_) return Verdict::kResent;
    if (newest_ && version < *newest_) return Verdict::kStale;
    newest_ = version;
    return Verdict::kApply;
  }

  // The newest version taken; nullopt before the first table.
  std::optional<std::uint64_t> newest() const { return newest_; }

 private:
  std::optional<std::uint64_t> newest_;
};

}  // namespace overline::relay
