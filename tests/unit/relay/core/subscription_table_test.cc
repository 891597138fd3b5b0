// SubscriptionTable's bookkeeping: the totals the gauges read, the count of
// client-created streams and the stream deadlines stay exact whatever order
// downstreams, upstreams and extra upstreams come and go in.

#include <catch2/catch.hpp>
#include <vector>

#include "relay/core/subscription_table.h"

namespace overline::relay {
namespace {

Downstream downstreamOf(NodeId node, TimeUs expires_at_us) {
  Downstream downstream;
  downstream.peer = PeerId{node, {}};
  downstream.expires_at_us = expires_at_us;
  return downstream;
}

TEST_CASE("SubscriptionTable keeps its totals exact through every change and a close", "[subscriptions]") {
  SubscriptionTable table;
  auto a = table.create(101, /*by_client=*/true);
  auto b = table.create(102, /*by_client=*/false);
  CHECK(table.clientCreated() == 1);
  table.addDownstream(a->second, downstreamOf(5, 1000));
  table.addDownstream(a->second, downstreamOf(6, 1000));
  table.addDownstream(b->second, downstreamOf(5, 1000));
  table.setUpstream(a->second, 2);
  table.setUpstream(a->second, 3);  // a move: still one upstream subscription
  table.setUpstream(b->second, 2);
  const NodeId extras[] = {7, 8};
  table.setExtraUpstreams(a->second, extras);
  table.addExtraUpstream(b->second, 9);
  CHECK(table.sizes().downstreams == 3);
  CHECK(table.sizes().upstream_subscriptions == 2);
  CHECK(table.sizes().extra_upstream_subscriptions == 3);

  CHECK(table.removeDownstream(a->second, 0).node == 5);
  CHECK(a->second.downstreams.size() == 1);
  CHECK(a->second.downstreams[0].peer.node == 6);  // the last one took its place
  CHECK(table.removeExtraUpstream(a->second, 7));
  CHECK_FALSE(table.removeExtraUpstream(a->second, 7));
  table.setUpstream(b->second, kNoNode);  // became an origin
  CHECK(table.sizes().downstreams == 2);
  CHECK(table.sizes().upstream_subscriptions == 1);
  CHECK(table.sizes().extra_upstream_subscriptions == 2);

  // Closing a stream takes everything it held out of the totals.
  table.erase(a);
  CHECK(table.clientCreated() == 0);
  CHECK(table.sizes().downstreams == 1);
  CHECK(table.sizes().upstream_subscriptions == 0);
  CHECK(table.sizes().extra_upstream_subscriptions == 1);
  CHECK_FALSE(table.contains(101));
  CHECK(table.size() == 1);
}

TEST_CASE("SubscriptionTable returns a stream at its earliest deadline and forgets closed ones", "[subscriptions]") {
  SubscriptionTable table;
  auto a = table.create(1, false);
  a->second.next_refresh_us = 500;
  table.addDownstream(a->second, downstreamOf(5, 1500));
  table.schedule(a);
  auto b = table.create(2, false);
  b->second.next_refresh_us = 900;
  table.addDownstream(b->second, downstreamOf(5, 300));  // expires before its refresh
  table.schedule(b);
  CHECK(table.nextDeadline() == 300);
  std::vector<StreamId> due;
  table.popDue(400, due);
  CHECK(due == std::vector<StreamId>{2});
  table.erase(table.find(1));
  due.clear();
  table.popDue(10000, due);
  CHECK(due.empty());
}

}  // namespace
}  // namespace overline::relay
