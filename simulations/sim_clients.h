#pragma once
// Simulated applications on the SDK (SimClient: the real sdk::SessionCore on
// the Simulator's clock): a publisher sending DATA at a fixed packet rate
// and a subscriber measuring what arrives. Joining, keepalives, moving to
// another candidate edge when one dies, dual homing, resubscription and
// playout are the SDK's own; these classes only make traffic and measure.
//
// Both schedule their own events on construction; they must outlive every
// Simulator run after that (events refer to them), like the SimNetwork.

#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

#include "common/types.h"
#include "sdk/core/receive_stats.h"
#include "simulations/sim_client.h"
#include "simulations/sim_network.h"

namespace overline::sim {

struct PublisherConfig {
  // Candidate edges, in order; the first one joined is the stream's home:
  // its id is makeStreamId(that edge, stream_local_id) for the whole run.
  std::vector<LineRef> edges{};
  std::size_t homes = 1;  // 2: every DATA through two edges at once
  std::uint32_t stream_local_id = 1;
  std::uint32_t packets_per_second = 1000;
  std::size_t payload_bytes = 500;
  bool redundant = false;  // sdk::PublishOptions::redundant (wire::kFlagRedundant)
  // The first DATA is due at start_us (the join starts kJoinLeadUs earlier);
  // none at or after stop_us.
  TimeUs start_us = 0;
  TimeUs stop_us = std::numeric_limits<TimeUs>::max();
};

// DATA k (k from 0) is due at sendTimeOf(k) = start_us + k * 1 s /
// packets_per_second and is handed to the SDK then, with timestamp_us = that
// time; the SDK numbers it k (its sequences continue across edge moves) and
// sends it through every joined edge, or loses it while none is joined. The
// stream is published once the first join completes; DATA due before that
// waits and goes out then, with its own due time as timestamp (an
// application's first packets wait for sdk::Client::connect the same way).
class SimPublisher {
 public:
  SimPublisher(SimNetwork& network, PublisherConfig config);
  SimPublisher(const SimPublisher&) = delete;
  SimPublisher& operator=(const SimPublisher&) = delete;

  // The published stream; 0 before the first join.
  StreamId streamId() const { return stream_id_; }
  // DATA due so far (waiting ones and ones lost for want of an edge included).
  std::uint64_t packetsSent() const { return packets_due_; }
  // When DATA `sequence` is (or was) due.
  TimeUs sendTimeOf(std::uint64_t sequence) const;
  const SimClient& client() const { return client_; }

 private:
  void sendDue();
  void publish();
  void send(std::uint64_t sequence);

  Simulator& simulator_;
  PublisherConfig config_;
  SimClient client_;
  StreamId stream_id_ = 0;
  std::uint64_t packets_due_ = 0;
  std::uint64_t packets_handed_ = 0;  // to the SDK: those from here on wait for the publication
  std::vector<std::byte> payload_;    // the same bytes in every DATA
};

struct SubscriberConfig {
  std::vector<LineRef> edges{};  // candidate edges, in order
  std::size_t homes = 1;         // 2: subscribed through two edges at once
  StreamId stream = 0;
  TimeUs start_us = 0;  // subscribe() (the join starts kJoinLeadUs earlier)
};

// The first arrival of one sequence.
struct Arrival {
  TimeUs at_us = 0;
  std::uint32_t sequence = 0;

  friend bool operator==(const Arrival&, const Arrival&) = default;
};

// An interval between two consecutive arrivals.
struct Gap {
  TimeUs start_us = 0;  // the earlier arrival
  TimeUs end_us = 0;    // the next one
  DurationUs lengthUs() const { return end_us - start_us; }
};

// The longest gap between consecutive `arrivals` (in time order) that
// overlaps [from_us, to_us]; a zero Gap when there is none.
Gap largestGap(std::span<const Arrival> arrivals, TimeUs from_us, TimeUs to_us);

// Subscribes to `stream` at start_us with the SDK's default subscription
// (playout on) and watches its DATA as it arrives, before playout: each
// goes into an sdk::ReceiveStats (send timestamp vs simulated arrival time,
// so latency is exact), and the first arrival of each sequence into
// arrivals() for gap analysis. What playout handed on, lost or dropped as
// a dual-homed client's second copy is in client().core().counters().
class SimSubscriber {
 public:
  SimSubscriber(SimNetwork& network, SubscriberConfig config);
  SimSubscriber(const SimSubscriber&) = delete;
  SimSubscriber& operator=(const SimSubscriber&) = delete;

  const sdk::ReceiveStats& stats() const { return stats_; }
  std::uint64_t dataReceived() const { return data_received_; }  // every DATA of the stream, duplicates too
  const std::vector<Arrival>& arrivals() const { return arrivals_; }
  // The largest gap between consecutive first arrivals so far (0 before two).
  DurationUs largestGapUs() const { return largestGap(arrivals_, 0, std::numeric_limits<TimeUs>::max()).lengthUs(); }
  const SimClient& client() const { return client_; }

 private:
  void onArrival(const sdk::DataRelease& data, TimeUs now);

  SimClient client_;
  sdk::ReceiveStats stats_;
  std::uint64_t data_received_ = 0;
  std::vector<Arrival> arrivals_;
};

}  // namespace overline::sim
