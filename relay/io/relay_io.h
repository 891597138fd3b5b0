#pragma once
// RelayIo runs a RelayCore on a libuv loop: it owns one UdpLine per
// configured line (and is the core's PacketSink over them) and the timer
// that ticks the core. `now` given to the core is uv_hrtime() in
// microseconds (monotonic).
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
#include "relay/io/repeating_timer.h"
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
  // every core.tickInterval(). `core` must stay alive until stop() (or the
  // destruction of this object).
  void start(RelayCore& core);
  // Restarts the tick timer at the core's current tickInterval() (after
  // RelayCore::setProbing). Between start() and stop().
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
  void onTick();
  // Logs the drops of the last window, rate-limited (drop_log_window.h).
  void logDrops(TimeUs now_us);

  std::vector<std::unique_ptr<UdpLine>> lines_;  // index == LineIndex
  RepeatingTimer tick_timer_;
  RelayCore* core_ = nullptr;  // set by start(), cleared by stop()
  bool lines_open_ = true;     // cleared by stop()
  DropLogWindow drop_log_;
};

}  // namespace overline::relay
