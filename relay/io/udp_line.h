#pragma once
// One of this relay's lines: a non-blocking UDP socket bound to the line's
// local address, on the loop thread.
//
// Receiving: a uv_poll_t on the socket's fd and recvmmsg batches of 64 into
// one compact receive buffer allocated when the socket opens, so no memory
// is allocated per packet. (libuv 1.44's own recvmmsg reads 20 datagrams
// per call into 64 KiB slots: a 1.3 MB buffer whose 64 KiB stride puts
// every datagram on the same cache sets. A datagram longer than any wire
// packet arrives cut to kMaxPacketBytes + 1 bytes, which no parse accepts.)
// Sending is batched (send_batch.h): send() copies the datagram into the
// line's SendBatch and flush() hands the batch to sendmmsg. A packet the
// kernel cannot take at the flush is counted as a send error and dropped,
// never kept for a later flush (media is better dropped than late, and a
// queue would hide overload).

#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "common/endpoint.h"
#include "common/result.h"
#include "common/types.h"
#include "relay/core/relay_config.h"
#include "relay/io/log_limiter.h"
#include "relay/io/send_batch.h"

namespace overline::relay {

// Monotonic per-line counters; copied to Prometheus by RelayMetrics.
struct LineCounters {
  std::uint64_t packets_received = 0;
  std::uint64_t bytes_received = 0;
  std::uint64_t packets_sent = 0;
  std::uint64_t bytes_sent = 0;
  std::uint64_t send_errors = 0;  // datagrams the kernel refused at a flush (EAGAIN, unreachable, ...)
  std::uint64_t send_calls = 0;   // sendmmsg calls: packets_sent / send_calls is the batching achieved
};

class UdpLine {
 public:
  class Listener {
   public:
    virtual ~Listener() = default;
    // One received IPv4 datagram. `datagram` is valid only during the call.
    virtual void onDatagram(LineIndex line, const Endpoint& from, std::span<const std::byte> datagram) = 0;
    // The end of one receive batch (a recvmmsg call, or a drained socket):
    // the moment to flush what the batch made the core send.
    virtual void onReceiveBatchEnd() = 0;
  };

  // Opens a socket, binds it to `config.bind` (without SO_REUSEADDR, so a
  // busy address fails) and sets SO_RCVBUF/SO_SNDBUF to `socket_buffer_bytes`.
  // The error is one line naming the line and the address, e.g.
  // `line isp-a: cannot bind 127.0.1.1:40001: address already in use`.
  // `loop` must outlive the returned line.
  static Result<std::unique_ptr<UdpLine>, std::string> open(uv_loop_t& loop, LineIndex index,
                                                            const LineConfig& config,
                                                            std::size_t socket_buffer_bytes);
  ~UdpLine();  // close()
  UdpLine(const UdpLine&) = delete;
  UdpLine& operator=(const UdpLine&) = delete;

  // Delivers every received datagram to `listener`, which must outlive close().
  void startReceiving(Listener& listener);
  // Adds one datagram to the line's batch (flushing first when the batch is
  // full); false (and a send error counted) if the line is closed or the
  // datagram is larger than any packet of the wire format.
  bool send(const Endpoint& to, std::span<const std::byte> datagram);
  // Sends the batch (sendmmsg). Returns how many datagrams the kernel
  // refused (already counted as send errors here and logged, rate-limited),
  // for the core's send_failed count. Includes any refused by a flush that
  // send() made for a full batch since the last call.
  std::size_t flush();
  // Stops receiving and closes the socket. Idempotent.
  void close();

  LineIndex index() const { return index_; }
  const std::string& name() const { return name_; }
  // The address actually bound (the kernel's port when config asked for 0).
  const Endpoint& localEndpoint() const { return local_; }
  const LineCounters& counters() const { return counters_; }

 private:
  UdpLine(LineIndex index, std::string name, uv_udp_t* handle, Endpoint local);
  void flushBatch();
  static void onReadable(uv_poll_t* poll, int status, int events);
  // Reads batches until the socket is drained (or kMaxBatchesPerWakeup),
  // each batch handed to the listener and closed with onReceiveBatchEnd().
  void receiveBatches();

  LineIndex index_;
  std::string name_;
  uv_udp_t* handle_;  // owned (the socket); freed by closeAndFree's close callback
  uv_poll_t* poll_ = nullptr;  // readability of handle_'s fd; owned likewise
  int fd_ = -1;
  Endpoint local_;
  Listener* listener_ = nullptr;
  LineCounters counters_;
  SendBatch batch_;
  std::size_t refused_ = 0;  // by flushes since the last flush() returned
  // Send and receive errors repeat per packet: one line per error per 10 s.
  LogLimiter error_log_;
  // The receive batch: kReceiveBatch slots and their headers.
  struct ReceiveBatch;
  std::unique_ptr<ReceiveBatch> receive_;
};

}  // namespace overline::relay
