#pragma once
// SubscriptionTable: the streams this relay carries, their downstreams and
// upstreams, and the bookkeeping that must stay exact as they change:
//  * the totals the gauges read (downstreams, upstream and extra-upstream
//    subscriptions), so a scrape never walks the streams;
//  * how many streams clients created (Limits::max_client_streams);
//  * each stream's next deadline (Stream::nextDeadline) in a DeadlineQueue,
//    so a tick visits only the streams that are due.
// RelayCore decides what to subscribe to and sends the packets; every change
// of a stream's downstreams, upstream or extra upstreams goes through here.
// Pure and single-threaded.

#include <cstddef>
#include <cstdint>
#include <span>
#include <unordered_map>
#include <vector>

#include "common/types.h"
#include "relay/core/deadline_queue.h"
#include "relay/core/relay_core_state.h"

namespace overline::relay {

class SubscriptionTable {
 public:
  using Map = std::unordered_map<StreamId, Stream>;
  using iterator = Map::iterator;

  struct Sizes {
    std::uint64_t downstreams = 0;                   // (stream, downstream) pairs
    std::uint64_t upstream_subscriptions = 0;        // streams with an upstream
    std::uint64_t extra_upstream_subscriptions = 0;  // (stream, extra upstream) pairs
  };

  iterator begin() { return streams_.begin(); }
  iterator end() { return streams_.end(); }
  iterator find(StreamId id) { return streams_.find(id); }
  bool contains(StreamId id) const { return streams_.contains(id); }
  std::size_t size() const { return streams_.size(); }
  std::size_t clientCreated() const { return client_created_; }
  const Sizes& sizes() const { return sizes_; }

  // A new, empty stream (the caller adds its first downstream at once).
  iterator create(StreamId id, bool by_client);
  // Forgets the stream; returns the iterator after it.
  iterator erase(iterator it);

  void addDownstream(Stream& stream, Downstream downstream);
  // Removes downstreams[index] (the last one takes its place); returns its peer.
  PeerId removeDownstream(Stream& stream, std::size_t index);
  void setUpstream(Stream& stream, NodeId upstream);
  void setExtraUpstreams(Stream& stream, std::span<const NodeId> extras);
  void addExtraUpstream(Stream& stream, NodeId extra);
  // Removes `extra` if it is one of the stream's extra upstreams; returns whether it was.
  bool removeExtraUpstream(Stream& stream, NodeId extra);

  // Queues the stream's next deadline (call after changing its soft state;
  // deadlines that only moved later need no call: see DeadlineQueue).
  void schedule(iterator it) { deadlines_.schedule(it->first, it->second.nextDeadline()); }
  // Appends the streams whose deadline has come to `due`.
  void popDue(TimeUs now, std::vector<StreamId>& due) { deadlines_.popDue(now, due); }
  TimeUs nextDeadline() const { return deadlines_.next(); }

 private:
  Map streams_;
  Sizes sizes_;
  std::size_t client_created_ = 0;
  DeadlineQueue<StreamId> deadlines_;
};

}  // namespace overline::relay
