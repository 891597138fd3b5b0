#pragma once
// Egress: the one way out of RelayCore. Every packet leaves through here,
// so this is where packets are tagged (a neighbour's pair key, a client's
// session key), handed to the PacketSink, and counted: packets and bytes
// sent, bytes to neighbours by kind (the bandwidth overhead), and refusals
// as DropReason::kSendFailed. The kind is the caller's: it built the packet
// and knows what it is, so nothing is parsed again on the way out.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "common/crypto/gmac.h"
#include "common/endpoint.h"
#include "common/types.h"
#include "common/wire/packet.h"
#include "relay/core/neighbour_auth.h"
#include "relay/core/packet_sink.h"
#include "relay/core/relay_counters.h"

namespace overline::relay {

class Egress {
 public:
  // All four must outlive this Egress; `sink` must not call back into the
  // core. `wall_now_us` is the core's wall clock (it picks neighbour key epochs).
  Egress(PacketSink& sink, NeighbourAuth& auth, RelayCounters& counters, const std::optional<TimeUs>& wall_now_us)
      : sink_(sink), auth_(auth), counters_(counters), wall_now_us_(wall_now_us) {}
  Egress(const Egress&) = delete;
  Egress& operator=(const Egress&) = delete;

  // Tags the untagged `packet` for `neighbour` and sends it from `line` to
  // `to`; its bytes count under `kind` (and probe_bytes_sent for SentKind::kProbe).
  bool toNeighbour(NodeId neighbour, LineIndex line, const Endpoint& to, std::span<const std::byte> packet,
                   SentKind kind);

  // Tags the untagged `packet` with a client session's key, epoch and next
  // packet number (advanced here) and sends it from `line` to `to`.
  bool toClient(const crypto::Gmac& key, std::uint32_t epoch, std::uint64_t& next_packet_number, LineIndex line,
                const Endpoint& to, std::span<const std::byte> packet);

  // Sends `packet` as it is (join answers to clients not joined yet).
  bool untagged(LineIndex line, const Endpoint& to, std::span<const std::byte> packet);

  // Packets the sink accepted but the kernel then refused (a batched sink
  // learns that only when it flushes): counted as send_failed drops. They
  // stay in packets_sent, which counts what the sink accepted; the per-line
  // counters of relay/io count what the kernel took. (Counters only grow.)
  void countSendFailures(std::size_t packets);

 private:
  bool send(LineIndex line, const Endpoint& to, std::span<const std::byte> packet);

  PacketSink& sink_;
  NeighbourAuth& auth_;
  RelayCounters& counters_;
  const std::optional<TimeUs>& wall_now_us_;
  // Where packets are tagged (a copy: the callers' buffers have no room).
  wire::PacketBuffer seal_buffer_{};
};

}  // namespace overline::relay
