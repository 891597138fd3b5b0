#pragma once
// SessionTagger: tags a joined client's packets with its session key and
// the next packet number (common/wire/packet.h, "Client join"; the key
// comes from the edge's WELCOME, sdk/core/join_handshake.h). Not
// thread-safe: callers that send from several threads serialise it.

#include <cstddef>
#include <cstdint>
#include <span>

#include "common/crypto/gmac.h"
#include "common/crypto/packet_auth.h"

namespace overline::sdk {

class SessionTagger {
 public:
  explicit SessionTagger(const crypto::Key128& session_key) : key_(session_key) {}

  // Tags the untagged packet buffer[0, size) in place (buffer has room for
  // the tag); returns its tagged size (0 if it does not fit).
  std::size_t tag(std::span<std::byte> buffer, std::size_t size) {
    return crypto::sealPacket(key_, kSessionKeyEpoch, next_packet_number_++, buffer, size);
  }

  // Client sessions have one key: its epoch on the wire is always 1.
  static constexpr std::uint32_t kSessionKeyEpoch = 1;

 private:
  crypto::Gmac key_;
  std::uint64_t next_packet_number_ = 1;
};

}  // namespace overline::sdk
