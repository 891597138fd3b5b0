#pragma once
// Switchboard: the routing table and per-pair impairment decisions of
// overline-impair's switchboard mode, which stands for "the Internet"
// between relays. Pure (STYLE rules 1 and 2): no sockets, no clock.
// ImpairProxy owns one stand-in socket S(L) per line L and hands every
// datagram to admit(); the unit tests drive it with made-up times.
//
// Every line L has a real endpoint (a relay's line address, which the relay
// binds) and a stand-in S(L) (which every other relay's config lists as L's
// address). A datagram arriving at S(X) from the real endpoint of another
// line Y travels the directed pair (Y -> X): it is impaired by that pair and
// delivered to X's real endpoint FROM S(Y). X therefore sees it come from
// the address its config lists for Y, and X's answer, sent to S(Y), travels
// (X -> Y) back to Y from S(X). Source identity holds for every pair,
// crossed ones (relay 1 line 0 -> relay 2 line 1) included.
//
// Rules, per datagram at S(X) from endpoint E:
//  * E is X's own real endpoint: dropped, counted as X's `foreign`.
//  * E is no line's real endpoint: with client access (config `access`) a
//    client's datagram, decided by AccessClients (access_clients.h: E's own
//    access path, untouched by the line rules below); without it dropped,
//    counted as X's `foreign`.
//  * Y (E's line) or X is down (setLineDown, or within an addLineOutage):
//    dropped, counted as the pair's line_down. A down line neither sends nor
//    receives; the pair's model is not consulted.
//  * otherwise the pair's LinkImpairment decides (drop, or deliver at a time).
//
// Pairs are created on first use (a datagram, or a command that names them)
// with the default knobs and LinkImpairment seed
// deriveSeed(seed, from * lineCount() + to), so the same seed, config and
// datagram sequence give the same decisions. Single-threaded.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/endpoint.h"
#include "common/impairment/impairment_knobs.h"
#include "common/impairment/link_impairment.h"
#include "common/types.h"
#include "deploy/impair/access_clients.h"
#include "deploy/impair/control_command.h"
#include "deploy/impair/direction_counters.h"
#include "deploy/impair/impair_config.h"

namespace overline::impair {

class Switchboard {
 public:
  // One directed line pair (from -> to).
  struct Pair {
    Pair(std::size_t from_line, std::size_t to_line, const impairment::ImpairmentKnobs& initial_knobs,
         std::uint64_t seed);

    std::size_t from;
    std::size_t to;
    impairment::ImpairmentKnobs knobs;  // what model's settings were made from
    impairment::LinkImpairment model;
    // admit() counts `received` and `received_bytes` (every datagram from
    // `from` at S(to), dropped or not); whoever delivers counts the rest.
    DirectionCounters counters;
    std::uint64_t line_down = 0;  // dropped because `from` or `to` was down
  };

  // The fate of one datagram at a stand-in.
  struct Verdict {
    Pair* pair = nullptr;      // the pair it travels; nullptr when foreign or a client's
    bool deliver = false;      // false: dropped (and counted)
    TimeUs deliver_at_us = 0;  // when deliver is true
    // With client access: the client it came from (deliver it from the
    // client's port); nullptr when not a client's.
    AccessClients::Client* client = nullptr;
    bool new_client = false;  // that client was added by this datagram: open its port first
  };

  // The fate of one datagram at a client's port.
  struct ClientVerdict {
    // The line it came from (deliver it from that line's stand-in);
    // nullopt when it came from anything else (dropped, counted as the
    // client's foreign).
    std::optional<std::size_t> from_line;
    bool deliver = false;
    TimeUs deliver_at_us = 0;
  };

  // Per-line totals over the line's pairs, for stats.
  struct LineTotals {
    std::uint64_t sent = 0;      // datagrams the line sent into the switchboard
    std::uint64_t received = 0;  // datagrams delivered to the line
    std::uint64_t dropped = 0;   // of those sent: line down, model drops, queue full, send failed
    std::uint64_t foreign = 0;   // dropped at the line's stand-in: not from another line
    std::uint64_t sent_bytes = 0;      // UDP payload bytes of `sent`
    std::uint64_t received_bytes = 0;  // UDP payload bytes of `received`
  };

  // `config` is valid (parseImpairConfig): names and real endpoints unique,
  // 1..kMaxSwitchboardLines lines, default knobs that convert.
  Switchboard(const SwitchboardConfig& config, std::uint64_t seed);
  Switchboard(const Switchboard&) = delete;
  Switchboard& operator=(const Switchboard&) = delete;

  std::size_t lineCount() const { return lines_.size(); }
  const SwitchboardLineConfig& line(std::size_t index) const { return lines_[index].config; }
  std::optional<std::size_t> findLine(std::string_view name) const;

  // A datagram of `bytes` bytes arrived at line `to`'s stand-in from `from`
  // at `now` (which never decreases). Deliver it to line(to).real, at
  // deliver_at_us, from the stand-in of line pair->from, or from the port of
  // `client`.
  Verdict admit(std::size_t to, const Endpoint& from, TimeUs now, std::size_t bytes);
  // A datagram arrived at the port of access client `client` from `from`.
  // Deliver it to the client's endpoint from the stand-in of from_line.
  ClientVerdict admitToClient(std::size_t client, const Endpoint& from, TimeUs now, std::size_t bytes);
  // The access clients; nullptr without client access.
  AccessClients* access() { return access_.get(); }

  // Applies `changes` to every pair of `line` in `directions` (pairs with
  // itself excluded), creating them. All or nothing: "" when applied, else
  // the problem (the answer text after "error: ").
  std::string setLineKnobs(std::size_t line, LineDirections directions, const KnobChanges& changes);
  // Same for the one pair from -> to; a line has no pair with itself.
  std::string setPairKnobs(std::size_t from, std::size_t to, const KnobChanges& changes);

  // Down drops everything the line sends or receives; up (false) also ends
  // every outage of addLineOutage.
  void setLineDown(std::size_t line, bool down);
  // The line is down during [now, now + duration_us) (extending any outage
  // already running).
  void addLineOutage(std::size_t line, TimeUs now, DurationUs duration_us);
  bool isLineDownAt(std::size_t line, TimeUs now) const;

  LineTotals lineTotals(std::size_t line) const;
  // The pairs created so far, ordered by (from, to).
  std::vector<Pair*> pairs();

 private:
  struct Line {
    SwitchboardLineConfig config;
    bool down = false;
    std::optional<TimeUs> outage_end_us;  // down before this time (addLineOutage)
    std::uint64_t foreign = 0;
  };

  Pair& pair(std::size_t from, std::size_t to);
  Pair* findPair(std::size_t from, std::size_t to) const;
  // Checks every pair's update before applying any (all or nothing).
  std::string setKnobs(const std::vector<std::pair<std::size_t, std::size_t>>& pairs,
                       const KnobChanges& changes);

  std::vector<Line> lines_;
  std::unordered_map<Endpoint, std::size_t> line_of_real_;
  std::unique_ptr<AccessClients> access_;  // null without client access
  impairment::ImpairmentKnobs default_knobs_;
  std::uint64_t seed_;
  // Dense (from * lineCount() + to); null until the pair is first used.
  std::vector<std::unique_ptr<Pair>> pairs_;
};

}  // namespace overline::impair
