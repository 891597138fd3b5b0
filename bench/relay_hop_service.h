#pragma once
// NeighbourService: the thread that reads every fake neighbour's socket.
//
// It plays the neighbours' part of the protocol while the bench measures:
// it answers the relay's PROBEs (so its links stay up), has the downstream
// neighbours SUBSCRIBE and refresh every kRefreshIntervalUs, records which
// streams the relay subscribed to at the upstream neighbour, and tallies
// the DATA each downstream neighbour receives during a phase: distinct
// sequences, duplicates, kernel arrival times, latency at downstream 0, and
// the datagrams its socket dropped for lack of room (SO_RXQ_OVFL, read from
// marker datagrams the service sends itself at the start and the end of a
// phase, so drops after the last DATA are counted too).
//
// Everything it counts is guarded by one mutex, which the thread takes once
// per received batch; the wait* methods sleep on a condition variable it
// signals after every poll round, each with a deadline.

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "bench/relay_hop_neighbour.h"

namespace overline::bench {

// What one phase measures.
struct PhaseSpec {
  StreamId stream = 0;
  std::uint32_t first_sequence = 0;  // the phase's DATA: [first, first + count)
  std::size_t count = 0;
  bool record_latency = false;  // arrival - timestamp_us at downstream 0
  bool verify_tags = false;     // check every DATA's tag (costs the receivers time)
};

struct DownstreamTally {
  std::size_t delivered = 0;  // distinct sequences of the phase
  std::size_t duplicates = 0;
  std::size_t rejected = 0;          // DATA that failed the tag check
  std::uint64_t socket_drops = 0;    // datagrams the socket dropped during the phase
  std::int64_t first_kernel_ns = 0;  // kernel arrival (CLOCK_REALTIME) of the first phase DATA
  std::int64_t last_kernel_ns = 0;   // ... and of the last
  TimeUs first_read_us = 0;          // when the first phase DATA was read (bench clock)
  TimeUs last_read_us = 0;           // ... and the last
};

struct PhaseTally {
  std::vector<DownstreamTally> downstreams;
  std::vector<DurationUs> latencies_us;  // downstream 0, when recorded
  TimeUs last_read_us = 0;               // when the last phase DATA was read (bench clock)
  std::uint64_t fec_at_downstreams = 0;  // FEC parity the relay sent during the phase
  std::uint64_t nacks_at_upstream = 0;   // NACKs the relay sent during the phase
};

class NeighbourService {
 public:
  struct Roles {
    FakeNeighbour* upstream = nullptr;        // sends DATA; the relay probes and subscribes to it
    std::vector<FakeNeighbour*> downstreams;  // receive DATA
    bool relay = false;                       // a relay is attached: answer its probes, keep subscriptions
  };

  static Result<std::unique_ptr<NeighbourService>, std::string> start(Roles roles);
  ~NeighbourService();  // stops and joins the thread
  NeighbourService(const NeighbourService&) = delete;
  NeighbourService& operator=(const NeighbourService&) = delete;

  // Every downstream SUBSCRIBEs to `streams` now and every refresh interval.
  void keepSubscribed(std::vector<StreamId> streams);

  // Each returns whether its condition held before `timeout` passed.
  bool waitProbesAnswered(std::size_t per_neighbour, DurationUs timeout);
  // At least one accepted DATA at every downstream since the start.
  bool waitDataAtEveryDownstream(DurationUs timeout);
  bool waitSubscribedAtUpstream(std::size_t streams, DurationUs timeout);
  std::size_t subscribedAtUpstream();
  bool subscribedAtUpstream(StreamId stream);

  // Starts tallying `spec`'s DATA; syncs the drop counters first.
  Status beginPhase(const PhaseSpec& spec);
  // Returns when `expected` phase DATA have been delivered over all
  // downstreams, or none came for `quiet`, or after `timeout`.
  void waitPhaseDrained(std::size_t expected, DurationUs quiet, DurationUs timeout);
  // Waits until downstream 0 has read the phase DATA at offset `count` - 1
  // (sequence first + count - 1) or a later one, or `timeout` passes;
  // returns which. The sender's window: DATA past that are in flight.
  bool waitProgress(std::size_t count, DurationUs timeout);
  // 1 + the highest phase offset downstream 0 has read (0: none yet).
  std::size_t progress();
  // Stops tallying, syncs the drop counters again, returns the tally.
  Result<PhaseTally, std::string> endPhase();

 private:
  explicit NeighbourService(Roles roles, std::unique_ptr<BenchSocket> marker);
  void run();
  void refreshSubscriptions();
  void drain(std::size_t index, ReceiveBatch& batch);
  void handle(std::size_t index, const ReceiveBatch& batch, std::size_t i, TimeUs read_us);
  void onData(std::size_t downstream, const wire::PacketView& packet, bool from_relay, std::int64_t kernel_ns,
              TimeUs read_us);
  void onMarker(std::size_t index, std::span<const std::byte> datagram, std::uint32_t drops);
  // Sends a marker to every downstream until each has read it; returns the
  // socket drop counts the markers carried.
  Result<std::vector<std::uint64_t>, std::string> syncDrops();
  bool isDownstream(std::size_t index) const { return index >= 1; }

  // neighbours_[0] is the upstream, then the downstreams in order.
  std::vector<FakeNeighbour*> neighbours_;
  bool relay_ = false;
  std::unique_ptr<BenchSocket> marker_;  // sends the markers

  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<StreamId> kept_streams_;
  bool refresh_now_ = false;
  std::vector<std::size_t> probes_answered_;  // per neighbour
  std::vector<std::size_t> accepted_data_;    // per neighbour (the upstream's stays 0)
  std::unordered_set<StreamId> subscribed_;   // SUBSCRIBEs the upstream got
  std::uint32_t marker_token_ = 0;
  std::vector<std::uint32_t> marker_seen_;   // per neighbour: last token read
  std::vector<std::uint32_t> marker_drops_;  // ... and the drop count it carried
  bool phase_active_ = false;
  PhaseSpec phase_;
  PhaseTally tally_;
  std::vector<std::uint64_t> phase_start_drops_;
  std::vector<std::vector<bool>> seen_;  // per downstream, per phase sequence
  std::size_t phase_delivered_ = 0;
  std::size_t phase_progress_ = 0;  // 1 + the highest offset downstream 0 read
  std::thread thread_;
};

}  // namespace overline::bench
