#pragma once
// The UDP impairment proxy. Links: for each configured link, two sockets
// between endpoints A and B, and a LinkImpairment per direction.
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
// Switchboard (optional, alongside links): one stand-in socket per
// switchboard line, bound to its stand_in address; the Switchboard
// (switchboard.h) decides where each datagram goes and what happens to it,
// and the proxy sends it from the sender line's stand-in to the receiver
// line's real endpoint. With client access (access_clients.h) the proxy
// also opens one AccessPort per client (access_port.h), the first time the
// client sends, and keeps it until close().
//
// Packets the model delivers wait in one delay queue (a min-heap on deliver
// time, FIFO among equal times) drained by one uv_timer re-armed to the
// earliest deliver time. libuv timers have millisecond resolution, so a
// packet leaves a millisecond or two after its deliver time, never before. Each
// direction (or switchboard pair) may hold at most delay_queue_packets
// packets; more are dropped and counted as queue_full.
//
// Time is uv_hrtime() in microseconds. Loop thread only.

#include <uv.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "common/endpoint.h"
#include "common/impairment/impairment_knobs.h"
#include "common/impairment/link_impairment.h"
#include "common/result.h"
#include "common/types.h"
#include "deploy/impair/access_port.h"
#include "deploy/impair/control_command.h"
#include "deploy/impair/direction_counters.h"
#include "deploy/impair/impair_config.h"
#include "relay/io/loop_timer.h"
#include "deploy/impair/switchboard.h"
#include "relay/io/udp_line.h"

namespace overline::impair {

// The proxy listens to its stand-in sockets itself (privately): the line
// index a stand-in reports is the switchboard line.
class ImpairProxy : private relay::UdpLine::Listener {
 public:
  // Binds both sockets of every link and every switchboard stand-in, and
  // starts forwarding. The error is one line naming the link or line and the
  // address. `loop` must outlive the proxy.
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
  std::string execute(const LineSetCommand& command);
  std::string execute(const LineDownCommand& command);
  std::string execute(const LineUpCommand& command);
  std::string execute(const LineOutageCommand& command);
  std::string execute(const PairSetCommand& command);
  std::string execute(const StatsCommand& command);

  // The ready-file document, with the addresses actually bound:
  // {"pid":..,"links":[{"name":..,"a_side":"ip:port","b_side":"ip:port"}],
  //  "switchboard":[{"name":..,"real":"ip:port","stand_in":"ip:port"}]}
  // ("switchboard" only when one is configured).
  std::string readyJson() const;

  // Stops receiving, discards queued packets and closes every handle. Idempotent.
  void close();

 private:
  struct Direction;
  struct Link;
  // The socket a queued datagram leaves from: a link side or stand-in, or
  // an access client's port.
  using Outlet = std::variant<relay::UdpLine*, AccessPort*>;

  ImpairProxy(uv_loop_t& loop, std::size_t delay_queue_packets);
  static TimeUs nowUs();

  void onLinkDatagram(Link& link, LineIndex side, const Endpoint& from, std::span<const std::byte> datagram);
  // A datagram at the stand-in of switchboard line `line`.
  void onDatagram(LineIndex line, const Endpoint& from, std::span<const std::byte> datagram) override;
  void onReceiveBatchEnd() override {}  // packets leave when their delay is up
  // A datagram at the port of access client `client`.
  void onClientPortDatagram(std::size_t client, const Endpoint& from, std::span<const std::byte> datagram);
  // Opens access client `client`'s port (client_ports_[client.index]); on
  // failure logs why and leaves the slot empty (the client's datagrams then
  // count as send_failed).
  void openClientPort(const AccessClients::Client& client);
  // Queues `datagram` to leave `out` for `to` at `deliver_at_us`, unless
  // `counters` already has delay_queue_packets waiting.
  void enqueue(TimeUs now, TimeUs deliver_at_us, Outlet out, const Endpoint& to, DirectionCounters& counters,
               std::span<const std::byte> datagram);
  void deliverDue();
  void armTimer(TimeUs now);
  Link* findLink(const std::string& name);
  static std::vector<Direction*> select(Link& link, Directions selection);
  // The switchboard line named `name`, or nullopt (also without a switchboard).
  std::optional<std::size_t> findLine(const std::string& name) const;

  uv_loop_t& loop_;
  std::size_t delay_queue_packets_;
  std::vector<std::unique_ptr<Link>> links_;  // config order; stable addresses for listeners
  std::unique_ptr<Switchboard> switchboard_;  // null without a switchboard section
  std::vector<std::unique_ptr<relay::UdpLine>> stand_ins_;  // index = switchboard line
  std::vector<std::unique_ptr<AccessPort>> client_ports_;    // index = access client; null if it failed to open

  struct Queued {
    TimeUs deliver_at_us;
    std::uint64_t sequence;  // admission order: FIFO among equal deliver times
    Outlet out;              // owned by a Link, stand_ins_ or client_ports_
    Endpoint to;
    DirectionCounters* counters;  // of the Direction, switchboard pair or access client
    std::vector<std::byte> packet;
  };
  std::vector<Queued> queue_;  // min-heap on (deliver_at_us, sequence)
  std::uint64_t next_sequence_ = 0;
  relay::LoopTimer timer_;
  bool closed_ = false;
};

}  // namespace overline::impair
