#pragma once
// One AES-128-GMAC key: AES-128-GCM with the message as associated data
// only, a 12-byte nonce and a 16-byte tag (NIST SP 800-38D): the tag of the
// authenticated wire (issue 11). bench/mac_bench.cc measures it against
// EVP's own GCM, ChaCha20-Poly1305 and HMAC-SHA256.
//
// The expanded key and the GHASH key live in one reused context (gmac.cc
// says why it is libcrypto's GCM128 mode rather than EVP's GCM), so a tag
// costs no allocation and no key schedule. A nonce must never repeat under one key
// (a repeat reveals the GHASH key and allows forgeries): callers build it
// from a sender id and a strictly increasing packet number.
// Not thread-safe (the context is reused); relay/core is single-threaded.

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

namespace overline::crypto {

constexpr std::size_t kKeyBytes = 16;
constexpr std::size_t kNonceBytes = 12;
constexpr std::size_t kTagBytes = 16;
using Key128 = std::array<std::uint8_t, kKeyBytes>;
using Nonce = std::array<std::uint8_t, kNonceBytes>;
using Tag = std::array<std::uint8_t, kTagBytes>;

class Gmac {
 public:
  explicit Gmac(const Key128& key);
  ~Gmac();
  Gmac(Gmac&&) noexcept;
  Gmac& operator=(Gmac&&) noexcept;

  // The tag of `message` under `nonce`.
  Tag tag(const Nonce& nonce, std::span<const std::byte> message) const;
  // Constant-time comparison of tag(nonce, message) with `tag` (any other
  // size is false).
  bool verify(const Nonce& nonce, std::span<const std::byte> message, std::span<const std::byte> tag) const;

 private:
  struct Context;
  std::unique_ptr<Context> context_;
};

}  // namespace overline::crypto
