#include "common/crypto/gmac.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/modes.h>

#include <cstdlib>
#include <cstdio>

namespace overline::crypto {

// GMAC is GHASH over the message, masked with one AES block of the nonce.
// OpenSSL 3's EVP GCM spends ~230 ns per tag dispatching four calls through
// its provider layer (parameter lookups by name) whatever the message size,
// half the cost of a 1,232-byte tag. So the GHASH runs in libcrypto's GCM128
// mode (<openssl/modes.h>, the same PCLMUL/AVX code EVP uses inside), and
// its two AES blocks (the hash key once, E(K, Y0) per tag) come from an
// AES-128-ECB EVP context: AES-NI and constant time, unlike the deprecated
// table-based AES_encrypt.
struct Gmac::Context {
  EVP_CIPHER_CTX* ecb = nullptr;
  GCM128_CONTEXT* gcm = nullptr;
  ~Context() {
    if (gcm != nullptr) CRYPTO_gcm128_release(gcm);
    EVP_CIPHER_CTX_free(ecb);
  }
};

namespace {

// OpenSSL fails these calls only on allocation failure or a programming
// error (wrong sizes), never on input: abort like an allocation failure.
[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "overline: OpenSSL %s failed\n", what);
  std::abort();
}

// GCM128's block function: one AES block under the key of `key`, an ECB context.
void encryptBlock(const unsigned char in[16], unsigned char out[16], const void* key) {
  auto* ecb = static_cast<EVP_CIPHER_CTX*>(const_cast<void*>(key));
  int written = 0;
  if (EVP_EncryptUpdate(ecb, out, &written, in, 16) != 1 || written != 16) fail("AES-128 block");
}

}  // namespace

Gmac::Gmac(const Key128& key) : context_(std::make_unique<Context>()) {
  context_->ecb = EVP_CIPHER_CTX_new();
  if (context_->ecb == nullptr) fail("EVP_CIPHER_CTX_new");
  if (EVP_EncryptInit_ex(context_->ecb, EVP_aes_128_ecb(), nullptr, key.data(), nullptr) != 1 ||
      EVP_CIPHER_CTX_set_padding(context_->ecb, 0) != 1) {
    fail("EVP_EncryptInit_ex(aes-128-ecb)");
  }
  context_->gcm = CRYPTO_gcm128_new(context_->ecb, &encryptBlock);
  if (context_->gcm == nullptr) fail("CRYPTO_gcm128_new");
}

Gmac::~Gmac() = default;
Gmac::Gmac(Gmac&&) noexcept = default;
Gmac& Gmac::operator=(Gmac&&) noexcept = default;

Tag Gmac::tag(const Nonce& nonce, std::span<const std::byte> message) const {
  GCM128_CONTEXT* gcm = context_->gcm;
  Tag tag{};
  // setiv resets the GHASH state and computes E(K, Y0) for this nonce.
  CRYPTO_gcm128_setiv(gcm, nonce.data(), nonce.size());
  if (CRYPTO_gcm128_aad(gcm, reinterpret_cast<const unsigned char*>(message.data()), message.size()) != 0) {
    fail("AES-GMAC tag");  // only a message over 2^61 bytes
  }
  CRYPTO_gcm128_tag(gcm, tag.data(), tag.size());
  return tag;
}

bool Gmac::verify(const Nonce& nonce, std::span<const std::byte> message, std::span<const std::byte> tag) const {
  if (tag.size() != kTagBytes) return false;
  const Tag expected = this->tag(nonce, message);
  return CRYPTO_memcmp(expected.data(), tag.data(), kTagBytes) == 0;
}

}  // namespace overline::crypto
