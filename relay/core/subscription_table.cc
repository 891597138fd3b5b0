#include "relay/core/subscription_table.h"

#include <algorithm>

namespace overline::relay {

SubscriptionTable::iterator SubscriptionTable::create(StreamId id, bool by_client) {
  const auto it = streams_.emplace(id, Stream{}).first;
  if (by_client) {
    it->second.client_created = true;
    ++client_created_;
  }
  return it;
}

SubscriptionTable::iterator SubscriptionTable::erase(iterator it) {
  const Stream& stream = it->second;
  if (stream.client_created) --client_created_;
  sizes_.downstreams -= stream.downstreams.size();
  sizes_.upstream_subscriptions -= stream.upstream != kNoNode ? 1 : 0;
  sizes_.extra_upstream_subscriptions -= stream.extra_upstreams.size();
  deadlines_.cancel(it->first);
  return streams_.erase(it);
}

void SubscriptionTable::addDownstream(Stream& stream, Downstream downstream) {
  stream.downstreams.push_back(std::move(downstream));
  ++sizes_.downstreams;
}

PeerId SubscriptionTable::removeDownstream(Stream& stream, std::size_t index) {
  const PeerId peer = stream.downstreams[index].peer;
  if (index + 1 != stream.downstreams.size()) stream.downstreams[index] = std::move(stream.downstreams.back());
  stream.downstreams.pop_back();
  --sizes_.downstreams;
  return peer;
}

void SubscriptionTable::setUpstream(Stream& stream, NodeId upstream) {
  sizes_.upstream_subscriptions += upstream != kNoNode ? 1 : 0;
  sizes_.upstream_subscriptions -= stream.upstream != kNoNode ? 1 : 0;
  stream.upstream = upstream;
}

void SubscriptionTable::setExtraUpstreams(Stream& stream, std::span<const NodeId> extras) {
  sizes_.extra_upstream_subscriptions += extras.size();
  sizes_.extra_upstream_subscriptions -= stream.extra_upstreams.size();
  stream.extra_upstreams.assign(extras.begin(), extras.end());
}

void SubscriptionTable::addExtraUpstream(Stream& stream, NodeId extra) {
  stream.extra_upstreams.push_back(extra);
  ++sizes_.extra_upstream_subscriptions;
}

bool SubscriptionTable::removeExtraUpstream(Stream& stream, NodeId extra) {
  const auto it = std::find(stream.extra_upstreams.begin(), stream.extra_upstreams.end(), extra);
  if (it == stream.extra_upstreams.end()) return false;
  stream.extra_upstreams.erase(it);
  --sizes_.extra_upstream_subscriptions;
  return true;
}

}  // namespace overline::relay
