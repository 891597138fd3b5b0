#pragma once
// SimClient: one SDK client in the simulator. The real sdk::SessionCore
// (joining, keepalives, dead-edge failover, resubscription, dual homing,
// dedup and playout) runs on the Simulator's clock, on a SimNetwork client
// host: what the core sends goes on the simulated network, what arrives is
// fed to onDatagram(), and onTick() runs as a simulator event at the core's
// nextDeadline(). So a scenario exercises the SDK's own protocol logic, the
// same code sdk::Client drives with a socket and a thread.
//
// Both clocks the core takes are simulated time: the monotonic `now` and
// the wall clock of DATA timestamps and arrival times (the clock is shared,
// so latencies are exact).
//
// The client schedules its own events on construction; it must outlive
// every Simulator run after that (events refer to it), like the SimNetwork.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/types.h"
#include "sdk/core/session_core.h"
#include "simulations/sim_network.h"

namespace overline::sim {

// Clients start joining this long before their start_us (at 0 at the
// earliest, and not before they are made), as an application connects
// before it sends: the join (HELLO, CHALLENGE, HELLO, WELCOME) takes two
// round trips to the edge.
constexpr DurationUs kJoinLeadUs = 100 * kMillisecond;
TimeUs joinTime(TimeUs start_us);

struct ClientConfig {
  // The candidate edges, tried in this order (sdk::SessionConfig::candidates,
  // without join tokens: simulated relays admit anyone).
  std::vector<LineRef> edges{};
  // Edges joined at once: 1, or 2 (dual-homed).
  std::size_t homes = 1;
  // The core starts joining then (its first onTick()).
  TimeUs join_at_us = 0;
};

// One SessionEvent and when the core reported it.
struct TimedEvent {
  TimeUs at_us = 0;
  sdk::SessionEvent event;
};

// What a client's owner hears from its core. Hooks run inside the core's
// calls, so they must not call into the client (schedule that on the
// Simulator instead); each may be empty. What playout hands on is only
// counted (the core's data_delivered and playout_* counters).
struct ClientHooks {
  // DATA of a subscription with SubscriptionConfig::arrivals, as it arrives.
  std::function<void(const sdk::DataRelease& data, TimeUs now)> on_arrival{};
  std::function<void(const sdk::SessionEvent& event, TimeUs now)> on_event{};
};

class SimClient final : private sdk::SessionSink {
 public:
  // The config must be one sdk::SessionCore accepts (else the scenario is
  // wrong: it aborts naming the bad field).
  SimClient(SimNetwork& network, const ClientConfig& config, ClientHooks hooks = {});
  SimClient(const SimClient&) = delete;
  SimClient& operator=(const SimClient&) = delete;

  // The application's calls, at the current simulated time (see SessionCore).
  Result<StreamId, std::string> publish(std::uint32_t local_id, const sdk::PublishOptions& options);
  bool send(StreamId stream, std::span<const std::byte> payload, std::uint64_t timestamp_us);
  Result<std::uint64_t, std::string> subscribe(StreamId stream, const sdk::SubscriptionConfig& config);

  const sdk::SessionCore& core() const { return *core_; }
  // Every event the core reported, in order.
  const std::vector<TimedEvent>& events() const { return events_; }
  Endpoint endpoint() const { return network_.clientEndpoint(id_); }

 private:
  // sdk::SessionSink.
  bool sendDatagram(const Endpoint& to, std::span<const std::byte> datagram) override;
  void onArrival(const sdk::DataRelease& data) override;
  void onDelivery(const sdk::DataRelease& data) override;
  void onEvent(const sdk::SessionEvent& event) override;

  // Makes sure a wake-up is scheduled at the core's next deadline; called
  // after every call into the core.
  void arm();
  void wake(TimeUs at_us);
  std::optional<sdk::HelloNonce> nextNonce();

  SimNetwork& network_;
  ClientHooks hooks_;
  SimNetwork::ClientId id_;
  std::uint32_t nonces_issued_ = 0;
  std::unique_ptr<sdk::SessionCore> core_;
  // The earliest wake-up scheduled and still wanted; a wake-up event at
  // another time was superseded and does nothing (events cannot be cancelled).
  std::optional<TimeUs> wake_at_;
  std::vector<TimedEvent> events_;
};

}  // namespace overline::sim
