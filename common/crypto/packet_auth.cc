#include "common/crypto/packet_auth.h"

#include <algorithm>

#include "common/check/invariant.h"
#include "common/wire/byte_order.h"

namespace overline::crypto {
namespace {

Nonce nonceOf(std::uint32_t sender, std::uint64_t packet_number) {
  Nonce nonce{};
  std::span<std::byte> bytes = std::as_writable_bytes(std::span(nonce));
  wire::writeBigEndian<std::uint32_t>(bytes, 0, sender);
  wire::writeBigEndian<std::uint64_t>(bytes, 4, packet_number);
  return nonce;
}

}  // namespace

std::size_t sealPacket(const Gmac& key, std::uint32_t key_epoch, std::uint64_t packet_number,
                       std::span<std::byte> buffer, std::size_t size) {
  // Callers seal packets they built, in buffers sized kMaxPacketBytes; release: nothing is sent.
  if (!OVERLINE_INVARIANT(size >= wire::kHeaderBytes && size + kTagBytes <= buffer.size()) ||
      !OVERLINE_INVARIANT(key_epoch != 0)) {
    return 0;
  }
  wire::writeKeyFields(buffer, key_epoch, packet_number);
  const auto sender = wire::readBigEndian<std::uint32_t>(buffer, 8);
  const Tag tag = key.tag(nonceOf(sender, packet_number), buffer.first(size));
  std::copy(tag.begin(), tag.end(), reinterpret_cast<std::uint8_t*>(buffer.data() + size));
  return size + kTagBytes;
}

bool verifyPacket(const Gmac& key, const wire::PacketView& packet) {
  if (!packet.header.tagged()) return false;
  return key.verify(nonceOf(packet.header.sender_node_id, packet.header.packet_number), packet.authenticated,
                    packet.tag);
}

}  // namespace overline::crypto
