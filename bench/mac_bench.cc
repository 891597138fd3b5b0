// overline-bench-mac: what a per-packet authentication tag costs on one core,
// to choose the MAC of the wire v2 relay-to-relay tag (issue 11) by
// measurement. Every candidate comes from OpenSSL (libcrypto, already a
// dependency) and authenticates the whole datagram (header and payload) as
// associated data, with a 16-byte tag and a per-packet nonce where the
// algorithm needs one:
//   aes128-gmac         AES-128-GCM with the packet as AAD only (GMAC), one
//                       reused EVP_CIPHER_CTX, a new 12-byte IV per packet
//   chacha20-poly1305   ChaCha20-Poly1305 with the packet as AAD only: a
//                       ChaCha20 block makes each packet's one-time Poly1305
//                       key, so the key may be shared by a pair of nodes
//   hmac-sha256-128     HMAC-SHA256 truncated to 16 bytes, one EVP_MAC_CTX
//                       re-initialised with its key per packet
// For --bytes (datagram sizes) it prints, per candidate, nanoseconds per
// packet (min / median / max of --repeat runs of --ms each) and the tagged
// packets per second one core could sustain at the median.

#include <openssl/evp.h>
#include <openssl/params.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace overline::bench {
namespace {

using SteadyClock = std::chrono::steady_clock;
constexpr std::size_t kTagBytes = 16;

struct Options {
  int ms = 300;
  int repeat = 5;
  std::vector<std::size_t> bytes = {64, 300, 1232};
};

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "overline-bench-mac: %s failed\n", what.c_str());
  std::exit(1);
}

// One candidate: tag(packet, nonce) writes a 16-byte tag.
using TagFunction = std::function<void(const std::uint8_t*, std::size_t, std::uint64_t, std::uint8_t*)>;

struct CipherCtxDeleter {
  void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};
struct MacCtxDeleter {
  void operator()(EVP_MAC_CTX* ctx) const { EVP_MAC_CTX_free(ctx); }
};

// An AEAD over the packet as associated data only: GMAC or Poly1305.
TagFunction aeadTag(const EVP_CIPHER* cipher, std::size_t key_bytes) {
  auto ctx = std::shared_ptr<EVP_CIPHER_CTX>(EVP_CIPHER_CTX_new(), CipherCtxDeleter{});
  std::vector<std::uint8_t> key(key_bytes, 0x5A);
  if (!ctx || EVP_EncryptInit_ex(ctx.get(), cipher, nullptr, key.data(), nullptr) != 1) fail("EVP_EncryptInit_ex");
  return [ctx](const std::uint8_t* packet, std::size_t size, std::uint64_t nonce, std::uint8_t* tag) {
    std::array<std::uint8_t, 12> iv{};
    std::memcpy(iv.data() + 4, &nonce, sizeof(nonce));
    int out = 0;
    std::uint8_t none[16];
    if (EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, nullptr, iv.data()) != 1 ||
        EVP_EncryptUpdate(ctx.get(), nullptr, &out, packet, static_cast<int>(size)) != 1 ||
        EVP_EncryptFinal_ex(ctx.get(), none, &out) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_GET_TAG, kTagBytes, tag) != 1) {
      fail("AEAD tag");
    }
  };
}

TagFunction hmacSha256Tag() {
  EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  if (mac == nullptr) fail("EVP_MAC_fetch(HMAC)");
  auto ctx = std::shared_ptr<EVP_MAC_CTX>(EVP_MAC_CTX_new(mac), MacCtxDeleter{});
  EVP_MAC_free(mac);  // the context keeps its own reference
  char digest[] = "SHA256";
  const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", digest, 0), OSSL_PARAM_construct_end()};
  const std::vector<std::uint8_t> key(32, 0x5A);
  if (!ctx || EVP_MAC_init(ctx.get(), key.data(), key.size(), params) != 1) fail("EVP_MAC_init(HMAC)");
  return [ctx](const std::uint8_t* packet, std::size_t size, std::uint64_t, std::uint8_t* tag) {
    std::array<std::uint8_t, 32> full{};
    std::size_t out = 0;
    // A NULL key re-initialises with the key already set.
    if (EVP_MAC_init(ctx.get(), nullptr, 0, nullptr) != 1 || EVP_MAC_update(ctx.get(), packet, size) != 1 ||
        EVP_MAC_final(ctx.get(), full.data(), &out, full.size()) != 1) {
      fail("HMAC tag");
    }
    std::memcpy(tag, full.data(), kTagBytes);
  };
}

// Nanoseconds per tagged packet of `size` bytes over one run of `ms`. Every
// tag is folded into `sink` so that none can be optimised away.
double nanosPerPacket(const TagFunction& tag, std::size_t size, int ms, std::uint8_t& sink) {
  std::vector<std::uint8_t> packet(size);
  for (std::size_t i = 0; i < size; ++i) packet[i] = static_cast<std::uint8_t>(i * 31 + 7);
  std::array<std::uint8_t, kTagBytes> out{};
  const auto start = SteadyClock::now();
  const auto deadline = start + std::chrono::milliseconds(ms);
  std::uint64_t packets = 0;
  auto now = start;
  do {
    for (int i = 0; i < 64; ++i) {
      packet[0] = static_cast<std::uint8_t>(packets);  // no two packets alike
      tag(packet.data(), packet.size(), packets, out.data());
      sink ^= out[packets % kTagBytes];
      ++packets;
    }
    now = SteadyClock::now();
  } while (now < deadline);
  return std::chrono::duration<double, std::nano>(now - start).count() / static_cast<double>(packets);
}

int run(const Options& options) {
  const std::vector<std::pair<const char*, TagFunction>> candidates = {
      {"aes128-gmac", aeadTag(EVP_aes_128_gcm(), 16)},
      {"chacha20-poly1305", aeadTag(EVP_chacha20_poly1305(), 32)},
      {"hmac-sha256-128", hmacSha256Tag()},
  };
  std::uint8_t sink = 0;
  std::printf("%-18s %6s %10s %10s %10s %14s\n", "mac", "bytes", "min ns", "median ns", "max ns", "Mpackets/s");
  for (const std::size_t size : options.bytes) {
    for (const auto& [name, tag] : candidates) {
      std::vector<double> runs;
      for (int r = 0; r < options.repeat; ++r) runs.push_back(nanosPerPacket(tag, size, options.ms, sink));
      std::sort(runs.begin(), runs.end());
      const double median = runs[runs.size() / 2];
      std::printf("%-18s %6zu %10.1f %10.1f %10.1f %14.2f\n", name, size, runs.front(), median, runs.back(),
                  1e3 / median);
    }
  }
  std::printf("(checksum %u)\n", sink);
  return 0;
}

}  // namespace
}  // namespace overline::bench

int main(int argc, char** argv) {
  overline::bench::Options options;
  CLI::App app{"overline-bench-mac: per-packet cost of authentication tags (OpenSSL) on one core"};
  app.add_option("--ms", options.ms, "Milliseconds per run")->check(CLI::Range(10, 10'000));
  app.add_option("--repeat", options.repeat, "Runs per figure (min / median / max)")->check(CLI::Range(1, 50));
  app.add_option("--bytes", options.bytes, "Datagram sizes to tag")->check(CLI::Range(1, 65'507));
  CLI11_PARSE(app, argc, argv);
  return overline::bench::run(options);
}
