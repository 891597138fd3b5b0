#include "common/crypto/gmac.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <cstdlib>
#include <cstdio>

namespace overline::crypto {

struct Gmac::Context {
  EVP_CIPHER_CTX* ctx = nullptr;
  ~Context() { EVP_CIPHER_CTX_free(ctx); }
};

namespace {

// OpenSSL fails these calls only on allocation failure or a programming
// error (wrong sizes), never on input: abort like an allocation failure.
[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "overline: OpenSSL %s failed\n", what);
  std::abort();
}

}  // namespace

Gmac::Gmac(const Key128& key) : context_(std::make_unique<Context>()) {
  context_->ctx = EVP_CIPHER_CTX_new();
  if (context_->ctx == nullptr) fail("EVP_CIPHER_CTX_new");
  if (EVP_EncryptInit_ex(context_->ctx, EVP_aes_128_gcm(), nullptr, key.data(), nullptr) != 1) {
    fail("EVP_EncryptInit_ex(aes-128-gcm)");
  }
}

Gmac::~Gmac() = default;
Gmac::Gmac(Gmac&&) noexcept = default;
Gmac& Gmac::operator=(Gmac&&) noexcept = default;

Tag Gmac::tag(const Nonce& nonce, std::span<const std::byte> message) const {
  EVP_CIPHER_CTX* ctx = context_->ctx;
  int out = 0;
  unsigned char none[1];
  Tag tag{};
  // The default GCM IV length is 12 bytes; the key schedule stays in ctx.
  if (EVP_EncryptInit_ex(ctx, nullptr, nullptr, nullptr, nonce.data()) != 1 ||
      EVP_EncryptUpdate(ctx, nullptr, &out, reinterpret_cast<const unsigned char*>(message.data()),
                        static_cast<int>(message.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx, none, &out) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, static_cast<int>(kTagBytes), tag.data()) != 1) {
    fail("AES-GMAC tag");
  }
  return tag;
}

bool Gmac::verify(const Nonce& nonce, std::span<const std::byte> message, std::span<const std::byte> tag) const {
  if (tag.size() != kTagBytes) return false;
  const Tag expected = this->tag(nonce, message);
  return CRYPTO_memcmp(expected.data(), tag.data(), kTagBytes) == 0;
}

}  // namespace overline::crypto
