#pragma once
// RelayIo runs a RelayCore on a libuv loop: it owns one UdpLine per
// configured line (and is the core's PacketSink over them) and the one
// timer that ticks the core, armed for RelayCore::nextDeadline() after every
// tick and moved earlier when a received batch (or any other callback)
// brings the core's next deadline forward. `now` given to the core is
// uv_hrtime() in microseconds (monotonic).
//
// Egress is batched (udp_line.h, send_batch.h): what the core sends is
// flushed with sendmmsg at the end of every receive batch, after every tick,
// and once per loop iteration (a check handle, for sends made from other
// callbacks such as a control-plane push). Datagrams the kernel refuses at
// a flush are handed back to the core (RelayCore::countSendFailures).
//
// Wiring (relay/main.cc): bind() the lines, construct the RelayCore with this
// RelayIo as its sink, then start(core). Everything runs on the loop thread.

#include <uv.h>

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common/endpoint.h"
#include "common/result.h"
#include "common/types.h"
#include "relay/core/packet_sink.h"
#include "relay/core/relay_config.h"
#include "relay/core/relay_core.h"
#include "relay/io/drop_log_window.h"
#include "relay/io/loop_timer.h"
#include "relay/io/udp_line.h"

namespace overline::relay {

class RelayIo final : public PacketSink, private UdpLine::Listener {
 public:
  // Opens and binds one socket per line, in LineIndex order; the first
  // failure is returned as one line naming the line and its address.
  // `loop` must outlive the returned object.
  static Result<std::unique_ptr<RelayIo>, std::string> bind(uv_loop_t& loop,
                                                            const std::vector<LineConfig>& lines,
                                                            std::size_t socket_buffer_bytes);

  // Starts feeding received datagrams to `core` and calling core.onTick()
  // at core.nextDeadline(). `core` must stay alive until stop() (or the
  // destruction of this object).
  void start(RelayCore& core);
  // Re-arms the tick timer for the core's next deadline (after a change
  // the core cannot announce itself, such as RelayCore::setProbing).
  // Between start() and stop().
  void retime();
  // Stops the tick timer and closes every socket, leaving no active handle
  // of ours on the loop. Idempotent; the per-line counters stay readable.
  void stop();

  // PacketSink: sends on line `line`'s socket; false if the kernel refused.
  bool sendPacket(LineIndex line, const Endpoint& to, std::span<const std::byte> packet) override;

  // True from bind() until stop(): every line socket bound and open.
  bool linesOpen() const { return lines_open_; }
  std::size_t lineCount() const { return lines_.size(); }
  const UdpLine& line(LineIndex index) const { return *lines_.at(index); }

  ~RelayIo() override;
  RelayIo(const RelayIo&) = delete;
  RelayIo& operator=(const RelayIo&) = delete;

 private:
  RelayIo(uv_loop_t& loop, std::vector<std::unique_ptr<UdpLine>> lines);
  void onDatagram(LineIndex line, const Endpoint& from, std::span<const std::byte> datagram) override;
  void onReceiveBatchEnd() override;
  // Flushes every line's batch and reports what the kernel refused to the core.
  void flushLines();
  static void onCheck(uv_check_t* handle);
  void onTick();
  // Logs the drops of the last window, rate-limited (drop_log_window.h).
  void logDrops(TimeUs now_us);

  std::vector<std::unique_ptr<UdpLine>> lines_;  // index == LineIndex
  // Arms tick_timer_ for the core's next deadline when it is earlier than
  // the one armed (`always`: whatever is armed).
  void armTick(bool always);

  LoopTimer tick_timer_;
  TimeUs tick_armed_for_us_ = 0;  // the deadline tick_timer_ is armed for (max: none)
  uv_check_t* flush_check_;  // owned; freed by closeAndFree's close callback
  RelayCore* core_ = nullptr;  // set by start(), cleared by stop()
  bool lines_open_ = true;     // cleared by stop()
  DropLogWindow drop_log_;
};

}  // namespace overline::relay
