#pragma once
// Key derivation for wire v2 (docs/architecture.md, "Trust"): HKDF-SHA256
// (RFC 5869) and HMAC-SHA256, through OpenSSL. Pure and thread-safe.

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "common/crypto/gmac.h"
#include "common/types.h"

namespace overline::crypto {

using Digest = std::array<std::uint8_t, 32>;

// HMAC-SHA256(key, message).
Digest hmacSha256(std::span<const std::uint8_t> key, std::span<const std::byte> message);

// HKDF-SHA256 of `secret` with the given salt and info, 16 bytes out.
Key128 hkdf128(std::span<const std::uint8_t> secret, std::string_view salt, std::span<const std::byte> info);

// The AES-GMAC key two relays share for one key epoch when their keys derive
// from a mesh secret: HKDF(secret, salt "overline-v2-pair", info = epoch |
// min(a, b) | max(a, b), big-endian). Symmetric in a and b; each direction
// still has its own nonces (the nonce starts with the sender's id).
Key128 derivePairKey(std::span<const std::uint8_t> mesh_secret, std::uint32_t epoch, NodeId a, NodeId b);

}  // namespace overline::crypto
