#pragma once
// KeySchedule: the controller's data-plane key epochs (docs/architecture.md,
// "Control-plane trust"). Pure: time and randomness are passed in.
//
// Each epoch has a 32-byte secret; the key of relays a and b for epoch e is
// crypto::derivePairKey(secret_e, e, a, b), and each relay is sent only the
// keys of its own pairs (relay_session.proto, Peer.keys). Relays accept every
// key they hold and send with the newest active one, so:
//  * rotate() adds epoch last+1 activating `activation_delay_s` later: every
//    connected relay holds its keys before anybody sends with them;
//  * retire() drops the epochs older than the newest active one once that
//    one has been active for `retire_after_s`: packets tagged under the old
//    key have long arrived. At least the newest active epoch always stays.
// A scheduled rotation is due `rotate_interval_s` after the newest epoch's
// activation (0 = only on demand).

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

namespace overline::controller {

using KeySecret = std::array<std::uint8_t, 32>;

struct KeyEpoch {
  std::uint32_t epoch = 0;  // >= 1
  KeySecret secret{};
  std::int64_t created_unix_s = 0;
  std::int64_t activate_at_unix_s = 0;

  friend bool operator==(const KeyEpoch&, const KeyEpoch&) = default;
};

struct KeyPolicy {
  std::int64_t rotate_interval_s = 86'400;  // 0: only `overlinectl keys rotate`
  std::int64_t activation_delay_s = 30;
  std::int64_t retire_after_s = 300;
};

class KeySchedule {
 public:
  // `epochs` as stored, any order; duplicates keep the first.
  explicit KeySchedule(std::vector<KeyEpoch> epochs = {});

  const std::vector<KeyEpoch>& epochs() const { return epochs_; }  // ascending epoch
  bool empty() const { return epochs_.empty(); }

  // Adds the next epoch with `secret`; the first one ever activates at once.
  const KeyEpoch& rotate(std::int64_t now_unix_s, const KeySecret& secret, std::int64_t activation_delay_s);
  // True when no epoch exists, or the scheduled rotation is due.
  bool rotationDue(std::int64_t now_unix_s, const KeyPolicy& policy) const;
  // Drops superseded epochs (see above); true when any went.
  bool retire(std::int64_t now_unix_s, std::int64_t retire_after_s);
  // The epoch relays send with at `now_unix_s`: the newest active one (the
  // oldest while none is). nullopt when empty.
  std::optional<std::uint32_t> sendingEpoch(std::int64_t now_unix_s) const;
  // The next time something changes by itself: a rotation falls due or an
  // epoch can retire. nullopt: never (rotation off, nothing to retire).
  std::optional<std::int64_t> nextChangeAt(const KeyPolicy& policy) const;

 private:
  const KeyEpoch* newestActive(std::int64_t now_unix_s) const;

  std::vector<KeyEpoch> epochs_;
};

}  // namespace overline::controller
