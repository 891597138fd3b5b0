#pragma once
// Tagging and checking wire v2 packets (common/wire/packet.h): the tag is
// AES-128-GMAC (gmac.h) over the header and payload, with the nonce
// sender_node_id (4 bytes) | packet_number (8 bytes), both big-endian from
// the header. Relays tag with their pair key (sender = the relay), SDK
// clients with their session key (sender 0; the key is unique per session).

#include <cstddef>
#include <cstdint>
#include <span>

#include "common/crypto/gmac.h"
#include "common/wire/packet.h"

namespace overline::crypto {

// `buffer` holds an untagged encoded packet of `size` bytes (header +
// payload) and has room for kTagBytes more. Writes key_epoch (!= 0) and
// packet_number into the header, appends the tag and returns the new size.
std::size_t sealPacket(const Gmac& key, std::uint32_t key_epoch, std::uint64_t packet_number,
                       std::span<std::byte> buffer, std::size_t size);

// True when `packet` (parsed, tagged) carries the tag of its header and
// payload under `key`. The caller picked `key` by the packet's sender and
// key_epoch and checks its replay window around this call.
bool verifyPacket(const Gmac& key, const wire::PacketView& packet);

}  // namespace overline::crypto
