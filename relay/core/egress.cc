#include "relay/core/egress.h"

#include <algorithm>

#include "common/check/invariant.h"
#include "common/crypto/packet_auth.h"

namespace overline::relay {

bool Egress::toNeighbour(NodeId neighbour, LineIndex line, const Endpoint& to, std::span<const std::byte> packet,
                         SentKind kind) {
  // Every packet the core builds fits a PacketBuffer with its tag; release: not sent.
  if (!OVERLINE_INVARIANT(packet.size() + wire::kTagBytes <= seal_buffer_.size())) return false;
  std::copy(packet.begin(), packet.end(), seal_buffer_.begin());
  const std::size_t size = auth_.seal(neighbour, seal_buffer_, packet.size(), wall_now_us_);
  if (size == 0) return false;
  if (!send(line, to, std::span(seal_buffer_.data(), size))) return false;
  counters_.neighbour_bytes_sent[static_cast<std::size_t>(kind)] += size;
  if (kind == SentKind::kProbe) counters_.probe_bytes_sent += size;
  return true;
}

bool Egress::toClient(const crypto::Gmac& key, std::uint32_t epoch, std::uint64_t& next_packet_number,
                      LineIndex line, const Endpoint& to, std::span<const std::byte> packet) {
  if (!OVERLINE_INVARIANT(packet.size() + wire::kTagBytes <= seal_buffer_.size())) return false;
  std::copy(packet.begin(), packet.end(), seal_buffer_.begin());
  // The relay's packets carry its node id, the client's carry 0: the two
  // directions never share a nonce under the session key.
  const std::size_t size = crypto::sealPacket(key, epoch, next_packet_number++, seal_buffer_, packet.size());
  if (size == 0) return false;
  return send(line, to, std::span(seal_buffer_.data(), size));
}

bool Egress::untagged(LineIndex line, const Endpoint& to, std::span<const std::byte> packet) {
  return send(line, to, packet);
}

void Egress::countSendFailures(std::size_t packets) {
  counters_.drop(DropReason::kSendFailed) += packets;
}

bool Egress::send(LineIndex line, const Endpoint& to, std::span<const std::byte> packet) {
  if (!sink_.sendPacket(line, to, packet)) {
    ++counters_.drop(DropReason::kSendFailed);
    return false;
  }
  ++counters_.packets_sent;
  counters_.bytes_sent += packet.size();
  return true;
}

}  // namespace overline::relay
