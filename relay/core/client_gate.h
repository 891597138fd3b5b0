#pragma once
// ClientGate: client address validation for wire v2 (docs/architecture.md,
// "Trust"), stateless like QUIC Retry, DTLS HelloVerifyRequest and
// WireGuard cookies. A HELLO is answered with a CHALLENGE carrying a cookie
// = HMAC-SHA256(secret, slot | address | port | client nonce), truncated to
// 16 bytes, where slot = now / kSlotUs. Only a client that receives at its
// address can echo it; the edge keeps no state until it does. A cookie is
// accepted in its own slot and the next (10 to 20 s old at most).
//
// The session key the WELCOME hands over is HMAC-SHA256(secret, "session" |
// address | port | nonce | cookie), truncated: unique per (address, client
// nonce, slot), so a client that reconnects with a fresh nonce never reuses
// packet numbers under an old key. It is sent in the clear: it protects
// against anyone who cannot see the client's traffic (every forged-source
// attack), not against an eavesdropper on the client's path (that needs a
// key exchange, e.g. DTLS; see the threat model).
//
// Pure: time is passed in, the secret comes from the caller (the relay
// process draws it at random at start).

#include <array>
#include <cstdint>
#include <optional>
#include <span>

#include "common/crypto/gmac.h"
#include "common/endpoint.h"
#include "common/types.h"
#include "common/wire/packet.h"

namespace overline::relay {

using Cookie = std::array<std::byte, wire::kCookieBytes>;
using CookieSecret = std::array<std::uint8_t, 32>;  // AuthConfig::cookie_secret

// The parts of a client HELLO's payload (wire/packet.h, "Client join").
struct HelloFields {
  std::span<const std::byte> nonce;   // kHelloNonceBytes
  std::span<const std::byte> cookie;  // kCookieBytes; all zero: none yet
  std::span<const std::byte> token;   // may be empty
  bool hasCookie() const;
};
// nullopt when the payload is shorter than wire::kMinHelloPayloadBytes.
std::optional<HelloFields> splitHello(std::span<const std::byte> payload);

class ClientGate {
 public:
  static constexpr DurationUs kSlotUs = 10 * kSecond;

  explicit ClientGate(const CookieSecret& secret) : secret_(secret) {}

  Cookie cookie(const Endpoint& from, std::span<const std::byte> nonce, TimeUs now) const;
  // Constant-time check against this slot's and the previous slot's cookie.
  bool cookieValid(const Endpoint& from, std::span<const std::byte> nonce, std::span<const std::byte> cookie,
                   TimeUs now) const;
  crypto::Key128 sessionKey(const Endpoint& from, std::span<const std::byte> nonce,
                            std::span<const std::byte> cookie) const;

 private:
  Cookie cookieForSlot(const Endpoint& from, std::span<const std::byte> nonce, std::int64_t slot) const;

  CookieSecret secret_;
};

}  // namespace overline::relay
