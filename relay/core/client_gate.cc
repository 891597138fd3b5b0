#include "relay/core/client_gate.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <vector>

#include "common/crypto/key_derivation.h"
#include "common/wire/byte_order.h"

namespace overline::relay {
namespace {

// "label" | address | port | nonce | extra, the HMAC input.
std::vector<std::byte> macInput(std::string_view label, const Endpoint& from, std::span<const std::byte> nonce,
                                std::span<const std::byte> extra) {
  std::vector<std::byte> input(label.size() + 6 + nonce.size() + extra.size());
  std::transform(label.begin(), label.end(), input.begin(), [](char c) { return static_cast<std::byte>(c); });
  wire::writeBigEndian<std::uint32_t>(input, label.size(), from.address());
  wire::writeBigEndian<std::uint16_t>(input, label.size() + 4, from.port());
  std::copy(nonce.begin(), nonce.end(), input.begin() + static_cast<std::ptrdiff_t>(label.size() + 6));
  std::copy(extra.begin(), extra.end(),
            input.begin() + static_cast<std::ptrdiff_t>(label.size() + 6 + nonce.size()));
  return input;
}

}  // namespace

bool HelloFields::hasCookie() const {
  return std::any_of(cookie.begin(), cookie.end(), [](std::byte b) { return b != std::byte{0}; });
}

std::optional<HelloFields> splitHello(std::span<const std::byte> payload) {
  if (payload.size() < wire::kMinHelloPayloadBytes) return std::nullopt;
  return HelloFields{payload.first(wire::kHelloNonceBytes),
                     payload.subspan(wire::kHelloNonceBytes, wire::kCookieBytes),
                     payload.subspan(wire::kMinHelloPayloadBytes)};
}

Cookie ClientGate::cookieForSlot(const Endpoint& from, std::span<const std::byte> nonce, std::int64_t slot) const {
  std::array<std::byte, 8> slot_bytes{};
  wire::writeBigEndian<std::uint64_t>(slot_bytes, 0, static_cast<std::uint64_t>(slot));
  const crypto::Digest digest = crypto::hmacSha256(secret_, macInput("cookie", from, nonce, slot_bytes));
  Cookie cookie{};
  std::transform(digest.begin(), digest.begin() + cookie.size(), cookie.begin(),
                 [](std::uint8_t b) { return std::byte{b}; });
  return cookie;
}

Cookie ClientGate::cookie(const Endpoint& from, std::span<const std::byte> nonce, TimeUs now) const {
  return cookieForSlot(from, nonce, now / kSlotUs);
}

bool ClientGate::cookieValid(const Endpoint& from, std::span<const std::byte> nonce,
                             std::span<const std::byte> cookie, TimeUs now) const {
  if (cookie.size() != wire::kCookieBytes) return false;
  for (const std::int64_t slot : {now / kSlotUs, now / kSlotUs - 1}) {
    const Cookie expected = cookieForSlot(from, nonce, slot);
    if (CRYPTO_memcmp(expected.data(), cookie.data(), expected.size()) == 0) return true;
  }
  return false;
}

crypto::Key128 ClientGate::sessionKey(const Endpoint& from, std::span<const std::byte> nonce,
                                      std::span<const std::byte> cookie) const {
  const crypto::Digest digest = crypto::hmacSha256(secret_, macInput("session", from, nonce, cookie));
  crypto::Key128 key{};
  std::copy(digest.begin(), digest.begin() + key.size(), key.begin());
  return key;
}

}  // namespace overline::relay
