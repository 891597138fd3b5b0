#pragma once
// Simulated SDK clients: a publisher sending DATA at a fixed packet rate and
// a subscriber measuring what arrives. They speak the wire protocol the real
// sdk::Client speaks (HELLO join and keepalive, SUBSCRIBE refresh, DATA with
// sequence and send timestamp) but run on the Simulator's clock.
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
#include "simulations/sim_client_session.h"
#include "simulations/sim_network.h"

namespace overline::sim {

// Clients start joining their edge this long before their start_us (at 0
// at the earliest), as an application connects before it sends: the join
// (HELLO, CHALLENGE, HELLO, WELCOME) takes two round trips to the edge.
constexpr DurationUs kJoinLeadUs = 100 * kMillisecond;
TimeUs joinTime(TimeUs start_us);

struct PublisherConfig {
  NodeId edge = kNoNode;  // the stream's origin: its id is makeStreamId(edge, stream_local_id)
  LineIndex edge_line = 0;
  std::uint32_t stream_local_id = 1;
  std::uint32_t packets_per_second = 1000;
  std::size_t payload_bytes = 500;
  bool redundant = false;  // sets wire::kFlagRedundant on every DATA
  // HELLO and the first DATA go out at start_us; no DATA at or after stop_us.
  TimeUs start_us = 0;
  TimeUs stop_us = std::numeric_limits<TimeUs>::max();
  DurationUs keepalive_interval_us = 1 * kSecond;  // HELLO, as sdk::Client does
};

// Joins its edge kJoinLeadUs before start_us (SimClientSession), then sends
// DATA k (sequence k from 0, timestamp_us = the simulated send time) at
// start_us + k * 1 s / packets_per_second (DATA due before the join
// completed waits for it), and a HELLO keepalive every
// keepalive_interval_us while publishing.
class SimPublisher {
 public:
  SimPublisher(SimNetwork& network, PublisherConfig config);
  SimPublisher(const SimPublisher&) = delete;
  SimPublisher& operator=(const SimPublisher&) = delete;

  StreamId streamId() const { return stream_id_; }
  std::uint64_t packetsSent() const { return packets_sent_; }
  // When DATA `sequence` is (or was) sent.
  TimeUs sendTimeOf(std::uint64_t sequence) const;
  bool edgeAnswered() const { return edge_answered_; }  // joined, or a keepalive came back
  std::uint64_t packetsBeforeJoin() const { return packets_before_join_; }  // dropped: waited too long

 private:
  bool sendNext();

  SimNetwork& network_;
  PublisherConfig config_;
  StreamId stream_id_;
  SimNetwork::ClientId client_;
  SimClientSession session_;
  std::uint64_t packets_sent_ = 0;
  // DATA made before the join completed, sent when it does (at most
  // kMaxWaiting; more are numbered but never sent: packetsBeforeJoin()).
  static constexpr std::size_t kMaxWaiting = 4096;
  std::vector<std::vector<std::byte>> waiting_;
  std::uint64_t packets_before_join_ = 0;
  bool edge_answered_ = false;
  std::vector<std::byte> payload_;  // the same bytes in every DATA
  std::vector<std::byte> packet_;   // reused encode buffer
};

struct SubscriberConfig {
  NodeId edge = kNoNode;
  LineIndex edge_line = 0;
  StreamId stream = 0;
  TimeUs start_us = 0;  // the first SUBSCRIBE (the join starts kJoinLeadUs earlier)
  DurationUs refresh_interval_us = 500 * kMillisecond;  // SUBSCRIBE, as sdk::Client does
  DurationUs keepalive_interval_us = 1 * kSecond;       // HELLO
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

// Joins its edge kJoinLeadUs before start_us, sends SUBSCRIBE(stream) at start, SUBSCRIBE every
// refresh_interval_us and HELLO every keepalive_interval_us. Each DATA of the
// stream goes into an sdk::ReceiveStats (send timestamp vs simulated arrival
// time, so latency is exact); the first arrival of each sequence is also
// kept in arrivals() for gap analysis.
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
  bool edgeAnswered() const { return edge_answered_; }

 private:
  void onDatagram(std::span<const std::byte> datagram, TimeUs now);
  void sendControl(wire::PacketType type);

  SimNetwork& network_;
  SubscriberConfig config_;
  SimNetwork::ClientId client_;
  SimClientSession session_;
  sdk::ReceiveStats stats_;
  std::uint64_t data_received_ = 0;
  std::vector<Arrival> arrivals_;
  bool edge_answered_ = false;
};

}  // namespace overline::sim
