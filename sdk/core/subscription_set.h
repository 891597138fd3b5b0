#pragma once
// SubscriptionSet: a client's subscriptions and what becomes of their DATA
// (for SessionCore, which sends the SUBSCRIBEs): each stream's config and
// id, its PlayoutBuffer, and the deliveries to the sink. DATA is the same
// whichever edge it came through: with two edges, the playout drops the
// second copy of each packet, and after a move it waits out the gap
// within the budget.
//
// Pure and clock-injected like the PlayoutBuffer; not thread-safe.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/types.h"
#include "common/wire/packet.h"
#include "sdk/core/playout_buffer.h"
#include "sdk/core/session_io.h"

namespace overline::sdk {

class SubscriptionSet {
 public:
  // `sink` gets the arrivals and deliveries; it must outlive the set.
  explicit SubscriptionSet(SessionSink& sink) : sink_(sink) {}

  // A new subscription of `stream` (replacing its current one, whose held
  // packets are dropped) under a new id, unique over the set's life. An
  // error, and nothing changes, when the config is invalid.
  Result<std::uint64_t, std::string> subscribe(StreamId stream, const SubscriptionConfig& config);
  // False when `stream` was not subscribed.
  bool unsubscribe(StreamId stream);
  std::vector<StreamId> streams() const;

  // Verified DATA from any joined edge: to the sink now, or through the
  // playout. False when its stream is not subscribed (nothing happens).
  bool deliver(const wire::PacketView& packet, TimeUs now, std::uint64_t arrival_us);
  // Gives up the gaps whose deadline is <= now and releases what they held.
  void onTick(TimeUs now);
  // The earliest playout deadline, if any packet is held.
  std::optional<TimeUs> nextDeadline() const;

  // Fills data_delivered and the playout_* fields of `out` (ended
  // subscriptions' included).
  void addCountersTo(SessionCounters& out) const;

 private:
  struct Subscription {
    std::uint64_t id;
    SubscriptionConfig config;
    std::optional<PlayoutBuffer> playout;  // when config.playout
  };
  class Release;

  void retire(const Subscription& subscription);

  SessionSink& sink_;
  std::map<StreamId, Subscription> subscriptions_;
  std::uint64_t next_id_ = 1;
  std::uint64_t delivered_ = 0;     // handed to onDelivery()
  PlayoutCounters retired_playout_;  // of ended subscriptions
};

}  // namespace overline::sdk
