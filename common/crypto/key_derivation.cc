#include "common/crypto/key_derivation.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "common/wire/byte_order.h"

namespace overline::crypto {
namespace {

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "overline: OpenSSL %s failed\n", what);
  std::abort();
}

}  // namespace

Digest hmacSha256(std::span<const std::uint8_t> key, std::span<const std::byte> message) {
  Digest digest{};
  unsigned int length = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(message.data()), message.size(), digest.data(),
           &length) == nullptr ||
      length != digest.size()) {
    fail("HMAC-SHA256");
  }
  return digest;
}

Key128 hkdf128(std::span<const std::uint8_t> secret, std::string_view salt, std::span<const std::byte> info) {
  EVP_KDF* kdf = EVP_KDF_fetch(nullptr, "HKDF", nullptr);
  if (kdf == nullptr) fail("EVP_KDF_fetch(HKDF)");
  EVP_KDF_CTX* ctx = EVP_KDF_CTX_new(kdf);
  EVP_KDF_free(kdf);
  if (ctx == nullptr) fail("EVP_KDF_CTX_new");
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, const_cast<std::uint8_t*>(secret.data()), secret.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, const_cast<char*>(salt.data()), salt.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, const_cast<std::byte*>(info.data()), info.size()),
      OSSL_PARAM_construct_end(),
  };
  Key128 key{};
  const int ok = EVP_KDF_derive(ctx, key.data(), key.size(), params);
  EVP_KDF_CTX_free(ctx);
  if (ok != 1) fail("HKDF-SHA256");
  return key;
}

Key128 derivePairKey(std::span<const std::uint8_t> mesh_secret, std::uint32_t epoch, NodeId a, NodeId b) {
  std::array<std::byte, 12> info{};
  wire::writeBigEndian<std::uint32_t>(info, 0, epoch);
  wire::writeBigEndian<std::uint32_t>(info, 4, std::min(a, b));
  wire::writeBigEndian<std::uint32_t>(info, 8, std::max(a, b));
  return hkdf128(mesh_secret, "overline-v2-pair", info);
}

}  // namespace overline::crypto
