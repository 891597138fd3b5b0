#pragma once
// The UDP impairment proxy: for each configured link, two sockets between
// endpoints A and B, and a LinkImpairment per direction.
//
//   A --> a_side   [a_to_b impairment]   b_side --> B
//   A <-- a_side   [b_to_a impairment]   b_side <-- B
//
// A sends to a_side and receives B's packets from a_side; B sends to b_side
// and receives A's packets from b_side. So A's peer address is a_side and
// B's is b_side, and each side sees one fixed source address, as relays
// need (they recognise neighbours by source address). Packets arriving on
// a_side from anyone but A, or on b_side from anyone but B, are dropped and
// counted.
//
// Packets the model delivers wait in one delay queue (a min-heap on deliver
// time, FIFO among equal times) drained by one uv_timer re-armed to the
// earliest deliver time. libuv timers have millisecond resolution, so a
// packet leaves a millisecond or two after its deliver time, never before. Each
// direction may hold at most delay_queue_packets packets; more are dropped
// and counted as queue_full.
//
// Time is uv_hrtime() in microseconds. Loop thread only.

#include <uv.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common/endpoint.h"
#include "common/impairment/impairment_knobs.h"
#include "common/impairment/link_impairment.h"
#include "common/result.h"
#include "common/types.h"
#include "deploy/impair/control_command.h"
#include "deploy/impair/impair_config.h"
#include "deploy/impair/one_shot_timer.h"
#include "relay/io/udp_line.h"

namespace overline::impair {

// What the proxy counts for one direction on top of the model's decisions.
struct DirectionCounters {
  std::uint64_t received = 0;     // packets from the expected source, handed to the model
  std::uint64_t delivered = 0;    // sent out of the far socket
  std::uint64_t queue_full = 0;   // the direction already had delay_queue_packets waiting
  std::uint64_t send_failed = 0;  // the kernel refused the send
  std::uint64_t queued = 0;       // waiting in the delay queue now
};

class ImpairProxy {
 public:
  // Binds both sockets of every link and starts forwarding. The error is one
  // line naming the link and the address. `loop` must outlive the proxy.
  static Result<std::unique_ptr<ImpairProxy>, std::string> start(uv_loop_t& loop, const ImpairConfig& config);
  ~ImpairProxy();  // close()
  ImpairProxy(const ImpairProxy&) = delete;
  ImpairProxy& operator=(const ImpairProxy&) = delete;

  // Run one control command; the result is its one-line answer (no '\n'):
  // "ok", "error: <problem>", or for stats the JSON document (see README).
  std::string execute(const SetCommand& command);
  std::string execute(const DownCommand& command);
  std::string execute(const UpCommand& command);
  std::string execute(const OutageCommand& command);
  std::string execute(const StatsCommand& command);

  // The ready-file document: {"pid":..,"links":[{"name":..,"a_side":"ip:port","b_side":"ip:port"}]}
  // with the addresses actually bound.
  std::string readyJson() const;

  // Stops receiving, discards queued packets and closes every handle. Idempotent.
  void close();

 private:
  struct Direction;
  struct Link;

  ImpairProxy(uv_loop_t& loop, std::size_t delay_queue_packets);
  static TimeUs nowUs();

  void onDatagram(Link& link, LineIndex side, const Endpoint& from, std::span<const std::byte> datagram);
  void deliverDue();
  void armTimer(TimeUs now);
  Link* findLink(const std::string& name);
  static std::vector<Direction*> select(Link& link, Directions selection);

  uv_loop_t& loop_;
  std::size_t delay_queue_packets_;
  std::vector<std::unique_ptr<Link>> links_;  // config order; stable addresses for listeners

  struct Queued {
    TimeUs deliver_at_us;
    std::uint64_t sequence;  // admission order: FIFO among equal deliver times
    Direction* direction;
    std::vector<std::byte> packet;
  };
  std::vector<Queued> queue_;  // min-heap on (deliver_at_us, sequence)
  std::uint64_t next_sequence_ = 0;
  OneShotTimer timer_;
  bool closed_ = false;
};

}  // namespace overline::impair
